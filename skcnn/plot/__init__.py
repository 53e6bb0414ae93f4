"""Display classes in scikit-learn's convention, for skcnn's estimators and images.

Each Display stores its data, draws with ``plot(ax=None, ...)`` (setting
``figure_`` and ``ax_``) and is made by classmethods such as
``from_estimator``. matplotlib, an optional dependency (``pip install
skcnn[plot]``), is imported only when drawing: importing this package imports
neither matplotlib nor TensorFlow.
"""

import importlib

# Public names and the private module each lives in, imported on first use
# (PEP 562), as in skcnn/__init__.py.
_LAZY = {
    "ClassBalanceDisplay": "._balance",
    "GradCAMDisplay": "._grad_cam",
    "HistoryDisplay": "._history",
    "ImageGridDisplay": "._images",
    "TopLossesDisplay": "._top_losses",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skcnn.plot' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
