"""CNNBinaryClassifier trained and used on image file paths, streamed from disk."""

import pickle
import re
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from skcnn import CNNBinaryClassifier, ImageLoader

from .conftest import FAST, write_pngs


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory, digits):
    """The digits as 16x16 PNG files (upscaled), their paths and labels."""
    X, y = digits
    paths = write_pngs(tmp_path_factory.mktemp("digits"), X, size=(16, 16))
    return paths.astype(str), y


@pytest.fixture(scope="module")
def fitted_on_paths(digit_files):
    """A network fitted on the digit files decoded to 8x8 (never re-fitted)."""
    paths, y = digit_files
    clf = CNNBinaryClassifier(**FAST, image_shape=(8, 8, 1), random_state=0)
    return clf.fit(paths, y)


def test_paths_train_the_same_network_as_loaded_images(digit_files, fast_params):
    """Streaming decodes with ImageLoader's code: same pixels, same model."""
    paths, y = digit_files
    params = {**fast_params, "early_stopping": True, "random_state": 0}
    streamed = CNNBinaryClassifier(**params, image_shape=(12, 12, 1)).fit(paths, y)
    images = ImageLoader(image_size=(12, 12), color_mode="grayscale").transform(paths)
    in_memory = CNNBinaryClassifier(**params).fit(images, y)
    assert streamed.image_shape_ == in_memory.image_shape_ == (12, 12, 1)
    assert streamed.n_iter_ == in_memory.n_iter_
    proba = streamed.predict_proba(paths)
    np.testing.assert_array_equal(proba, in_memory.predict_proba(images))
    # Either model predicts either input.
    np.testing.assert_array_equal(streamed.predict_proba(images), proba)
    np.testing.assert_array_equal(in_memory.predict_proba(list(paths)), proba)
    assert streamed.score(paths, y) > 0.9


def test_rgb_paths_and_pathlike(digit_files, fast_params):
    paths, y = digit_files
    clf = CNNBinaryClassifier(**fast_params, image_shape=(16, 16, 3), random_state=0)
    clf.fit([Path(p) for p in paths[:40]], y[:40])
    assert clf.model_.input_shape == (None, 16, 16, 3)
    assert clf.predict(paths[:5]).shape == (5,)


class _SpoilFileAfterFirstEpoch(keras.callbacks.Callback):
    """Overwrites a file with text when the first epoch ends."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            self.path.write_text("no longer an image")


def test_files_are_read_again_at_each_epoch(digit_files, fast_params, tmp_path):
    """Streaming decodes the files batch by batch at every epoch, rather than all
    of them once: a file spoilt after the first epoch fails the second."""
    paths, y = digit_files
    copies = []
    for path in paths[:40]:
        copies.append(tmp_path / Path(path).name)
        shutil.copy(path, copies[-1])
    spoilt = copies[25]
    clf = CNNBinaryClassifier(
        **{**fast_params, "epochs": 2},
        image_shape=(8, 8, 1),
        callbacks=[_SpoilFileAfterFirstEpoch(spoilt)],
        random_state=0,
    )
    with pytest.raises(ValueError, match=rf"{re.escape(spoilt.name)}.*cannot identify"):
        clf.fit([str(p) for p in copies], y[:40])


def test_files_are_read_at_predict_time(digit_files, fitted_on_paths, tmp_path):
    """predict_proba decodes the files it is given when called: a file replaced
    between two calls is predicted as its new image."""
    paths, _ = digit_files
    clf = fitted_on_paths
    files = [tmp_path / "a.png", tmp_path / "b.png"]
    for path, source in zip(files, paths[:2], strict=True):
        shutil.copy(source, path)
    proba = clf.predict_proba([str(p) for p in files])
    assert proba[0, 1] != proba[1, 1]
    shutil.copy(paths[1], files[0])
    again = clf.predict_proba([str(p) for p in files])
    np.testing.assert_array_equal(again, proba[[1, 1]])
    np.testing.assert_array_equal(again, clf.predict_proba(paths[[1, 1]]))


def test_cross_validation_on_paths(digit_files, fast_params):
    paths, y = digit_files
    clf = CNNBinaryClassifier(**fast_params, image_shape=(8, 8), random_state=0)
    scores = cross_val_score(clf, paths, y, cv=2, scoring="roc_auc")
    assert np.all(scores > 0.9)


def test_path_model_pickles(digit_files, fitted_on_paths):
    paths, _ = digit_files
    clf = fitted_on_paths
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(paths), clf.predict_proba(paths))


@pytest.mark.parametrize(
    "image_shape, match",
    [
        (None, r"X holds image file paths: set image_shape"),
        ((8, 8, 2), r"1, 3 or 4 channels"),
        ((0, 8, 1), r"positive sizes"),
    ],
)
def test_image_shape_for_paths(digit_files, image_shape, match):
    paths, y = digit_files
    with pytest.raises(ValueError, match=match):
        CNNBinaryClassifier(image_shape=image_shape, verbose=0).fit(paths, y)


def test_bad_file_is_an_error_naming_it(digit_files, fast_params, tmp_path):
    paths, y = digit_files
    bad = tmp_path / "not_an_image.png"
    bad.write_text("hello")
    with_bad = paths.astype(object)
    with_bad[17] = str(bad)
    clf = CNNBinaryClassifier(**fast_params, image_shape=(8, 8, 1), random_state=0)
    with pytest.raises(ValueError, match=r"not_an_image\.png.*cannot identify"):
        clf.fit(with_bad, y)
    clf.fit(paths, y)
    with pytest.raises(ValueError, match=r"not_an_image\.png"):
        clf.predict(with_bad)
    missing = paths.astype(object)
    missing[3] = str(tmp_path / "gone.png")
    with pytest.raises(FileNotFoundError, match="gone.png"):
        clf.predict_proba(missing)


def test_y_is_required_and_lengths_checked(digit_files):
    paths, y = digit_files
    clf = CNNBinaryClassifier(image_shape=(8, 8, 1), verbose=0)
    with pytest.raises(ValueError, match="requires y"):
        clf.fit(paths, None)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(paths, y[:-1])


def test_numbers_are_not_paths():
    """A 1-D numeric X is still refused as before, not taken for paths."""
    with pytest.raises(ValueError, match="2D array"):
        CNNBinaryClassifier(verbose=0).fit(np.arange(6.0), [0, 1] * 3)
