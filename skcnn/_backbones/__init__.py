"""Pretrained networks: the registry (``_registry``) and one module per family
built by skcnn itself (EfficientNet-Lite: ``_efficientnet_lite``).

Importing this package imports no Keras: the registry's metadata (``BACKBONES``)
is read by the command line before TensorFlow starts.
"""

from ._registry import (
    BACKBONES,
    Backbone,
    apply_backbone,
    backbone_layers,
    build_backbone,
    default_image_size,
    get_backbone,
)

__all__ = [
    "BACKBONES",
    "Backbone",
    "apply_backbone",
    "backbone_layers",
    "build_backbone",
    "default_image_size",
    "get_backbone",
]
