"""CNNBinaryClassifier trained and used on image file paths, streamed from disk."""

import pickle

import numpy as np
import pytest
from PIL import Image
from sklearn.model_selection import cross_val_score

from skcnn import CNNBinaryClassifier, ImageLoader


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory, digits):
    """The digits as 16x16 PNG files (upscaled), their paths and labels."""
    X, y = digits
    folder = tmp_path_factory.mktemp("digits")
    paths = []
    for i, image in enumerate(X):
        path = folder / f"{i:03d}.png"
        Image.fromarray(image[..., 0]).resize((16, 16)).save(path)
        paths.append(str(path))
    return np.array(paths), y


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
    from pathlib import Path

    clf = CNNBinaryClassifier(**fast_params, image_shape=(16, 16, 3), random_state=0)
    clf.fit([Path(p) for p in paths[:40]], y[:40])
    assert clf.model_.input_shape == (None, 16, 16, 3)
    assert clf.predict(paths[:5]).shape == (5,)


def test_cross_validation_on_paths(digit_files, fast_params):
    paths, y = digit_files
    clf = CNNBinaryClassifier(**fast_params, image_shape=(8, 8), random_state=0)
    scores = cross_val_score(clf, paths, y, cv=2, scoring="roc_auc")
    assert np.all(scores > 0.9)


def test_path_model_pickles(digit_files, fast_params):
    paths, y = digit_files
    clf = CNNBinaryClassifier(**fast_params, image_shape=(8, 8, 1), random_state=0)
    clf.fit(paths, y)
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
