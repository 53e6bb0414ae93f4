"""Hostile and odd input: one table of bad inputs and the error each must raise.

Each row names what is called, builds the bad input, and gives the exception type
and a regex its message must match: the message must name the problem (and the
file, for a bad file). ``{dir}`` in a regex stands for the folder of the files.
"""

import os
import re
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from PIL import Image
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skcnn import CNNBinaryClassifier, ImageLoader, load_image_folder
from skcnn.datasets import load_digits_pair

from .conftest import TINY

N = 24

NOT_AS_ROOT = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="chmod 000 does not make a file unreadable for root (running as root "
    "here), nor on Windows: the unreadable-file row is NOT checked in this run",
)


@pytest.fixture(scope="module")
def data():
    """24 digits 7/8 (uint8, 8x8x1), a tiny network fitted on them and one on their
    flattened pixels."""
    X, y = load_digits_pair(return_X_y=True)
    X, y = X[:N], y[:N]
    assert set(y) == {7, 8}
    return SimpleNamespace(
        X=X,
        y=y,
        fitted=CNNBinaryClassifier(**TINY, random_state=0).fit(X, y),
        fitted_flat=CNNBinaryClassifier(**TINY, random_state=0).fit(
            X.reshape(N, -1), y
        ),
    )


def _files(tmp_path, X):
    """A good PNG and JPEG, and every kind of bad file, in tmp_path."""
    big = np.kron(X[0, ..., 0], np.ones((4, 4), np.uint8))
    files = {"good": tmp_path / "good.png", "good_jpg": tmp_path / "good.jpg"}
    Image.fromarray(X[0, ..., 0]).save(files["good"])
    Image.fromarray(big).save(files["good_jpg"])
    files["truncated"] = tmp_path / "truncated.jpg"
    files["truncated"].write_bytes(files["good_jpg"].read_bytes()[:-40])
    files["empty"] = tmp_path / "empty.png"
    files["empty"].write_bytes(b"")
    files["text"] = tmp_path / "text.png"
    files["text"].write_text("this is not an image\n")
    files["folder"] = tmp_path / "folder.png"
    files["folder"].mkdir()
    files["unreadable"] = tmp_path / "unreadable.png"
    Image.fromarray(X[1, ..., 0]).save(files["unreadable"])
    files["unreadable"].chmod(0)
    files["missing"] = tmp_path / "missing.png"
    files["missing_folder"] = tmp_path / "no-such-folder"
    return {k: str(v) for k, v in files.items()}


def _paths(c, bad):
    """N paths to the good PNG with the bad file last (after a full batch)."""
    return np.array([c.files["good"]] * (N - 1) + [c.files[bad]], dtype=object)


def _with(X, index, value):
    X = X.astype(np.float32)
    X[index] = value
    return X


PATHS = {"image_shape": (8, 8, 1)}

# (what is called, the bad input, exception type, regex of the message)
# The bad input is a function of the context `c` (c.X, c.y, c.files, c.fitted,
# c.fitted_flat) returning the keyword arguments of the call: X, y, params (of the
# estimator), sample_weight, model (the fitted model to call).
TABLE = [
    # ---------------------------------------------------------------- pixels
    pytest.param(
        "fit",
        lambda c: {"X": _with(c.X, (3, 2, 2, 0), np.nan)},
        ValueError,
        r"Input X contains NaN",
        id="nan-pixel",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": _with(c.X, (3, 2, 2, 0), -np.inf)},
        ValueError,
        r"Input X contains infinity",
        id="inf-pixel",
    ),
    pytest.param(
        "predict",
        lambda c: {"X": _with(c.X, (0, 0, 0, 0), np.nan)},
        ValueError,
        r"Input X contains NaN",
        id="nan-pixel-at-predict",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": c.X.astype(np.complex64)},
        ValueError,
        r"Complex data not supported",
        id="complex-pixels",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": sp.csr_matrix(c.X.reshape(N, -1).astype(np.float32))},
        TypeError,
        r"Sparse data was passed for X, but dense data is required",
        id="sparse-matrix",
    ),
    # ---------------------------------------------------------------- shapes
    pytest.param(
        "fit",
        lambda c: {"X": np.arange(N, dtype=np.float32)},
        ValueError,
        r"Expected 2D array, got 1D array instead",
        id="1d-numeric-X",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": c.X[..., None]},
        ValueError,
        r"X must be images of shape \(n_samples, height, width\[, channels\]\).*"
        r"Got an array of shape \(24, 8, 8, 1, 1\)",
        id="5d-X",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": np.zeros((N, 0, 8, 1), np.uint8)},
        ValueError,
        r"X has images of shape \(0, 8, 1\).*at least 1 pixel high",
        id="zero-height-images",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": [[0.0, 1.0], [2.0]] * (N // 2)},
        ValueError,
        r"inhomogeneous shape",
        id="ragged-images",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": np.zeros((0, 8, 8, 1), np.uint8), "y": []},
        ValueError,
        r"Found array with 0 sample\(s\)",
        id="empty-X",
    ),
    pytest.param(
        "predict",
        lambda c: {"X": np.zeros((2, 9, 9, 1), np.uint8)},
        ValueError,
        r"X has images of shape \(9, 9, 1\), but CNNBinaryClassifier is expecting "
        r"images of shape \(8, 8, 1\)",
        id="wrong-image-size-at-predict",
    ),
    pytest.param(
        "predict_proba",
        lambda c: {"X": np.zeros((2, 8, 8, 3), np.uint8)},
        ValueError,
        r"X has images of shape \(8, 8, 3\), but CNNBinaryClassifier is expecting "
        r"images of shape \(8, 8, 1\) \(height, width, channels\)",
        id="wrong-channels-at-predict",
    ),
    pytest.param(
        "predict",
        lambda c: {"X": np.zeros((2, 10), np.uint8), "model": c.fitted_flat},
        ValueError,
        r"X has 10 features, but CNNBinaryClassifier is expecting 64 features",
        id="wrong-n-features-flat",
    ),
    # ------------------------------------------------------ what X holds
    pytest.param(
        "fit",
        lambda c: {"X": np.array([None] * N, dtype=object)},
        TypeError,
        r"X must hold images \(arrays of numbers\) or image file paths.*"
        r"Got NoneType at index 0: None",
        id="object-array-of-non-paths",
    ),
    pytest.param(
        "fit",
        lambda c: {
            "X": [c.files["good"], 3] * (N // 2),
            "params": PATHS,
        },
        TypeError,
        r"image file paths \(str or os.PathLike\)\. Got int at index 1: 3",
        id="paths-mixed-with-numbers",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": np.array([c.files["good"].encode()] * N), "params": PATHS},
        TypeError,
        r"image file paths \(str or os.PathLike\)\. Got bytes at index 0",
        id="bytes-paths",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": _paths(c, "good")},
        ValueError,
        r"X holds image file paths: set image_shape",
        id="paths-without-image-shape",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": _paths(c, "good"), "params": {"image_shape": (8.5, 8, 1)}},
        ValueError,
        r"image_shape must be \(height, width\[, channels\]\) with positive sizes.*"
        r"Received: image_shape=\(8\.5, 8, 1\)",
        id="non-integer-image-shape-for-paths",
    ),
    # ---------------------------------------------------------------- labels
    pytest.param(
        "fit",
        lambda c: {"y": c.y[:-1]},
        ValueError,
        r"inconsistent numbers of samples: \[24, 23\]",
        id="X-and-y-lengths-differ",
    ),
    pytest.param(
        "fit",
        lambda c: {"y": None},
        ValueError,
        r"requires y to be passed, but the target y is None",
        id="y-missing",
    ),
    pytest.param(
        "fit",
        lambda c: {"y": np.ones((N, 2))},
        ValueError,
        r"y should be a 1d array, got an array of shape \(24, 2\)",
        id="2d-y",
    ),
    pytest.param(
        "fit",
        lambda c: {"y": np.full(N, 7)},
        ValueError,
        r"binary targets only\. Got 1 class: \[7\]",
        id="one-class",
    ),
    pytest.param(
        "fit",
        lambda c: {"y": np.arange(N) % 3},
        ValueError,
        r"binary targets only\. Got 3 classes: \[0, 1, 2\]",
        id="three-classes",
    ),
    pytest.param(
        "fit",
        lambda c: {"y": [1, "a"] * (N // 2)},
        ValueError,
        r"y mixes labels of different types: int \(1\) and str \('a'\)",
        id="mixed-label-types",
    ),
    pytest.param(
        "fit",
        lambda c: {"y": np.where(np.arange(N) % 2, 1.0, np.nan)},
        ValueError,
        r"Input y contains NaN",
        id="nan-label",
    ),
    # --------------------------------------------------------- sample weights
    pytest.param(
        "fit",
        lambda c: {"sample_weight": np.ones(5)},
        ValueError,
        r"sample_weight\.shape == \(5,\), expected \(24,\)",
        id="sample-weight-wrong-length",
    ),
    pytest.param(
        "fit",
        lambda c: {"sample_weight": np.where(np.arange(N) == 4, np.nan, 1.0)},
        ValueError,
        r"Input sample_weight contains NaN",
        id="sample-weight-nan",
    ),
    pytest.param(
        "fit",
        lambda c: {"params": {"class_weight": {7: 1.0, 9: 2.0}}},
        ValueError,
        r"class_weight names labels that are not classes of y: \[9\]\. "
        r"The classes are \[7, 8\]",
        id="class-weight-unknown-class",
    ),
    # ------------------------------------------------------------ parameters
    pytest.param(
        "fit",
        lambda c: {"params": {"epochs": -3}},
        InvalidParameterError,
        r"'epochs' parameter of CNNBinaryClassifier must be an int in the range "
        r"\[1, inf\) or a str among \{'auto'\}\. Got -3",
        id="negative-epochs",
    ),
    pytest.param(
        "fit",
        lambda c: {"params": {"epochs": 1.5}},
        InvalidParameterError,
        r"'epochs' parameter .* must be an int .*Got 1\.5 instead",
        id="float-epochs",
    ),
    pytest.param(
        "fit",
        lambda c: {"params": {"epochs": "10"}},
        InvalidParameterError,
        r"'epochs' parameter .* must be an int .*Got '10' instead",
        id="string-epochs",
    ),
    pytest.param(
        "fit",
        lambda c: {"params": {"batch_size": 0}},
        InvalidParameterError,
        r"'batch_size' parameter .* must be an int in the range \[1, inf\)\. Got 0",
        id="zero-batch-size",
    ),
    pytest.param(
        "fit",
        lambda c: {"params": {"dropout": 1.0}},
        InvalidParameterError,
        r"'dropout' parameter .* in the range \[0\.0, 1\.0\)\. Got 1\.0",
        id="dropout-out-of-range",
    ),
    pytest.param(
        "fit",
        lambda c: {"params": {"filters": (2, 2, 2, 2), "padding": "valid"}},
        ValueError,
        r"shrinks the image below 1 pixel: layer block2_pool \(pool_size=2\) "
        r"receives 1x1 and would output 0x0",
        id="pooling-shrinks-below-1-pixel",
    ),
    pytest.param(
        "fit",
        lambda c: {"params": {"kernel_size": 9, "padding": "valid"}},
        ValueError,
        r"shrinks the image below 1 pixel: layer block1_conv1 "
        r"\(Conv2D\(kernel_size=9\)\) receives 8x8 and would output 0x0",
        id="kernel-larger-than-image",
    ),
    pytest.param(
        "fit",
        lambda c: {"params": {"filters": (2.5,)}},
        ValueError,
        r"`filters` entries must be positive ints",
        id="non-integer-filters",
    ),
    pytest.param(
        "fit",
        lambda c: {"params": {"callbacks": ["early"]}},
        TypeError,
        r"`callbacks` must be a list of keras\.callbacks\.Callback\. "
        r"Got str at index 0: 'early'",
        id="callback-not-a-callback",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": c.X[:3], "y": [7, 8, 7], "params": {"early_stopping": True}},
        ValueError,
        r"early_stopping=True cannot hold out a stratified validation_fraction=0\.1 "
        r"of the 3 training samples",
        id="too-few-samples-for-early-stopping",
    ),
    pytest.param(
        "predict",
        lambda c: {"model": CNNBinaryClassifier(**TINY)},
        NotFittedError,
        r"This CNNBinaryClassifier instance is not fitted yet",
        id="predict-before-fit",
    ),
    pytest.param(
        "ImageLoader.transform",
        lambda c: {"X": [c.files["good"]], "params": {"image_size": 0}},
        InvalidParameterError,
        r"'image_size' parameter of ImageLoader must be .* Got 0 instead",
        id="image-size-zero",
    ),
    # -------------------------------------------------------------- bad files
    pytest.param(
        "predict_proba",
        lambda c: {"X": _paths(c, "missing")},
        FileNotFoundError,
        r"No such file or directory: '{dir}/missing\.png'",
        id="nonexistent-image-file",
    ),
    pytest.param(
        "load_image_folder",
        lambda c: {"X": c.files["missing_folder"]},
        FileNotFoundError,
        r"No such directory: '{dir}/no-such-folder'",
        id="nonexistent-folder",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": _paths(c, "folder"), "params": PATHS},
        IsADirectoryError,
        r"Is a directory: '{dir}/folder\.png'",
        id="directory-where-a-file-is-expected",
    ),
    pytest.param(
        "load_image_folder",
        lambda c: {"X": c.files["good"]},
        NotADirectoryError,
        r"Not a directory: '{dir}/good\.png'; expected a folder",
        id="file-where-a-folder-is-expected",
    ),
    pytest.param(
        "ImageLoader.transform",
        lambda c: {"X": [c.files["good"], c.files["unreadable"]]},
        PermissionError,
        r"Permission denied: '{dir}/unreadable\.png'",
        id="unreadable-file",
        marks=NOT_AS_ROOT,
    ),
    pytest.param(
        "decision_function",
        lambda c: {"X": _paths(c, "empty")},
        ValueError,
        r"Cannot read image file '{dir}/empty\.png': the file is empty \(0 bytes\)",
        id="zero-byte-file",
    ),
    pytest.param(
        "fit",
        lambda c: {"X": _paths(c, "truncated"), "params": PATHS},
        ValueError,
        r"Cannot read image file '{dir}/truncated\.jpg':.*image file is truncated",
        id="truncated-jpeg",
    ),
    pytest.param(
        "predict",
        lambda c: {"X": _paths(c, "text")},
        ValueError,
        r"Cannot read image file '{dir}/text\.png': Pillow cannot identify it",
        id="text-file-named-png",
    ),
]


def _call(call, data, kwargs):
    X = kwargs.get("X", data.X)
    params = kwargs.get("params", {})
    if call == "fit":
        y = kwargs.get("y", data.y)
        sample_weight = kwargs.get("sample_weight")
        clf = CNNBinaryClassifier(**{**TINY, "random_state": 0, **params})
        return clf.fit(X, y, sample_weight=sample_weight)
    if call in ("predict", "predict_proba", "decision_function"):
        model = kwargs.get("model", data.fitted)
        return getattr(model, call)(X)
    if call == "ImageLoader.transform":
        return ImageLoader(**{"image_size": (8, 8), **params}).transform(X)
    if call == "load_image_folder":
        return load_image_folder(X)
    raise AssertionError(f"unknown call {call!r}")


@pytest.mark.parametrize("call, bad_input, error, match", TABLE)
def test_hostile_input(call, bad_input, error, match, data, tmp_path):
    context = SimpleNamespace(**vars(data), files=_files(tmp_path, data.X))
    kwargs = bad_input(context)
    match = match.replace("{dir}", re.escape(str(tmp_path)))
    try:
        with pytest.raises(error, match=match) as excinfo:
            _call(call, data, kwargs)
    finally:
        os.chmod(context.files["unreadable"], 0o600)  # let pytest clean it up
    # The exact type asked for, or a subclass of it that is not TensorFlow's.
    assert not type(excinfo.value).__module__.startswith("tensorflow")


def test_the_table_is_wide_and_its_problems_distinct():
    ids = [row.id for row in TABLE]
    assert len(ids) == len(set(ids))
    assert len(TABLE) >= 30


def test_permission_denied_is_an_error_naming_the_file(tmp_path, monkeypatch, data):
    # The unreadable-file row cannot run as root (root reads a chmod 000 file),
    # so here the operating system's refusal is simulated: opening the file
    # raises PermissionError (EACCES), as it does for an unprivileged user.
    import builtins
    import errno

    X = data.X
    path = tmp_path / "locked.png"
    Image.fromarray(X[1, ..., 0]).save(path)
    real_open = builtins.open

    def deny(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    match = re.escape(f"Permission denied: '{path}'")
    with pytest.raises(PermissionError, match=match):
        ImageLoader((8, 8)).transform([path])
    # and through the classifier streaming the paths
    cnn = CNNBinaryClassifier(**TINY, image_shape=(8, 8, 1))
    with pytest.raises(PermissionError, match=match):
        cnn.fit([path, path], [7, 8])
