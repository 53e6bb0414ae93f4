"""skcnn: convolutional neural networks as scikit-learn estimators for binary images."""

import importlib

__version__ = "0.1.0.dev0"

# Public names and the private module each lives in. They are imported on first
# use (PEP 562), so that `import skcnn` and `skcnn --help` do not start TensorFlow.
_LAZY = {
    "CNNBinaryClassifier": "._classifier",
    "build_cnn": "._architecture",
    "FeatureExtractor": "._features",
    "make_baseline": "._baseline",
    "compare_estimators": "._compare",
    "format_comparison": "._compare",
    "paired_difference": "._compare",
    "decision_threshold": "._threshold",
    "grad_cam": ".explain",
    "operating_points": "._threshold",
    "ImageLoader": "._image",
    "load_image_folder": "._image",
    "find_bad_images": "._image",
    "save": "._persist",
    "load": "._persist",
    "get_untrusted_types": "._persist",
    "export_keras": "._persist",
    "VersionMismatchWarning": "._versioning",
}

__all__ = [*sorted(_LAZY), "__version__"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skcnn' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
