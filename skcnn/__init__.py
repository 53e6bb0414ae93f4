"""skcnn: convolutional neural networks as scikit-learn estimators for binary images."""

from ._architecture import build_cnn
from ._baseline import make_baseline
from ._classifier import CNNBinaryClassifier

__version__ = "0.1.0.dev0"

__all__ = ["CNNBinaryClassifier", "__version__", "build_cnn", "make_baseline"]
