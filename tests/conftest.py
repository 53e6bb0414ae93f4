import numpy as np
import pytest

from skcnn.datasets import load_digits_pair

# Cheap settings for tests: one small block, a few epochs.
FAST = {"filters": (8,), "epochs": 3, "learning_rate": 0.01, "verbose": 0}


@pytest.fixture(scope="session")
def digits():
    """Digits 7 vs 8 as uint8 images of shape (353, 8, 8, 1), labels 7 and 8."""
    return load_digits_pair(return_X_y=True)


@pytest.fixture(scope="session")
def fitted_cnn(digits):
    from skcnn import CNNBinaryClassifier

    X, y = digits
    return CNNBinaryClassifier(**FAST, random_state=0).fit(X, y)


@pytest.fixture
def fast_params():
    return dict(FAST)


def class_sorted(X, y):
    """X and y sorted by class, as a class-per-folder listing gives them."""
    order = np.argsort(y, kind="stable")
    return X[order], y[order]
