from pathlib import Path

import numpy as np
import pytest

from skcnn.datasets import load_digits_pair

# The minimal network of skcnn's first releases (Flatten head, dropout 0.5, no
# augmentation, constant learning rate): what learns in a few epochs, for tests.
# No Keras metric per epoch: the accuracy metric is a quarter of the CPU time of
# such a tiny fit (1.46 s against 1.08 s per fit and predict, measured), and the
# tests that read history_["accuracy"] ask for it.
MINIMAL = {
    "batch_norm": False,
    "global_pooling": None,
    "dropout": 0.5,
    "augment": None,
    "learning_rate_schedule": None,
    "metrics": (),
}
# Cheap settings for tests: one small block, a few epochs. TINY, cheaper still, for
# tests of input handling whose networks need not learn.
FAST = {**MINIMAL, "filters": (8,), "epochs": 3, "learning_rate": 0.01, "verbose": 0}
TINY = {**FAST, "filters": (2,), "epochs": 1, "batch_size": 8}
# scikit-learn's estimator checks that need no data: what check_estimator can run
# on ImageLoader and FeatureExtractor, whose input it cannot make.
DATA_FREE_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
]


@pytest.fixture(scope="session")
def digits():
    """Digits 7 vs 8 as uint8 images of shape (353, 8, 8, 1), labels 7 and 8."""
    return load_digits_pair(return_X_y=True)


@pytest.fixture(scope="session")
def fitted_cnn(digits):
    from skcnn import CNNBinaryClassifier

    X, y = digits
    return CNNBinaryClassifier(**FAST | {"metrics": ("accuracy",)}, random_state=0).fit(
        X, y
    )


@pytest.fixture(scope="session")
def patches():
    """64 RGB 16x16 uint8 images of dark noise; class 1 (odd indices) has a bright
    5x5 patch somewhere, class 0 none: a task that mirror images do not change."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 64, size=(64, 16, 16, 3), dtype=np.uint8)
    y = np.arange(64) % 2
    for i in np.flatnonzero(y):
        row, col = rng.integers(0, 12, size=2)
        X[i, row : row + 5, col : col + 5] = 255
    return X, y


@pytest.fixture(scope="session")
def mirror_cnn(patches):
    """A CNN fitted on ``patches`` with random horizontal flips: colour images
    from scratch, so test_time_augmentation="auto" predicts with mirror images."""
    from skcnn import CNNBinaryClassifier

    params = FAST | {"augment": {"flip": "horizontal"}, "epochs": 5}
    return CNNBinaryClassifier(**params, random_state=0).fit(*patches)


@pytest.fixture
def fast_params():
    return dict(FAST)


def class_sorted(X, y):
    """X and y sorted by class, as a class-per-folder listing gives them."""
    order = np.argsort(y, kind="stable")
    return X[order], y[order]


def write_pngs(folder, images, *, size=None, name="{:03d}.png"):
    """Save uint8 ``images`` ((n, h, w) or (n, h, w, 1 or 3)) as PNG files in
    ``folder`` (created if needed), resized by Pillow to ``size`` (width, height)
    if given, named ``name.format(i)``; their paths as str, in order."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(np.asarray(images)):
        picture = Image.fromarray(image[..., 0] if image.shape[-1:] == (1,) else image)
        if size is not None:
            picture = picture.resize(size)
        path = folder / name.format(i)
        picture.save(path)
        paths.append(str(path))
    return np.array(paths, dtype=object)


def write_image_folder(root, classes, *, size=None, name="{:03d}.png"):
    """A folder in the class-per-subfolder layout: ``root/<class>/`` holding the
    images of each ``(class name, images)`` item of ``classes`` (see write_pngs);
    returns ``root``."""
    for class_name, images in classes.items():
        write_pngs(Path(root) / class_name, images, size=size, name=name)
    return Path(root)
