"""Property-based tests: random shapes, dtypes and labels thrown at
CNNBinaryClassifier. Whatever the input, fit and predict either raise a clean
ValueError or TypeError (never a TensorFlow error, nor any other exception), or
give a correct result. Inputs that are certainly invalid must raise; the others
must give a correct result.
"""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import event, given, settings
from hypothesis import strategies as st

from skcnn import CNNBinaryClassifier
from skcnn.datasets import load_digits_pair

TINY = {"filters": (2,), "epochs": 1, "batch_size": 8, "verbose": 0}
# No example database (failures print the seed to reproduce them); Hypothesis
# still caches constants in .hypothesis/, which it git-ignores itself.
SETTINGS = settings(max_examples=25, deadline=None, database=None)

DTYPES = ["uint8", "int64", "float16", "float32", "float64", "bool", "object"]
LABELS = {
    "int": [0, 1, 5],
    "float": [0.0, 1.0, -2.0],
    "str": ["cat", "dog", "eel"],
    "bool": [False, True],
    # Invalid whatever their number: not class labels, or of mixed types.
    "fraction": [0.5, 1.5, 2.5],
    "mixed": [1, "a", 2.0],
}


@st.composite
def pixel_arrays(draw, n, heights, widths, channels, tidy):
    """An array of n samples of random layout and dtype; and whether its layout
    is valid, whether it is finite. ``tidy`` draws a valid layout, finite."""
    h, w = draw(heights), draw(widths)
    c = draw(channels)  # None: no channel axis
    layouts = ["images", "flat"] if tidy else ["images", "flat", "1d", "5d"]
    layout = draw(st.sampled_from(layouts))
    dtype = draw(st.sampled_from(DTYPES))
    poisons = [None] if tidy else [None, "nan", "inf", "none-object"]
    poison = draw(st.sampled_from(poisons))
    image = (h, w) if c is None else (h, w, c)
    shape = {
        "images": (n, *image),
        "flat": (n, h * w * (1 if c is None else c)),
        "1d": (n,),
        "5d": (n, *image, 1, 1)[:5],
    }[layout]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.integers(0, 256, size=shape)
    if dtype == "bool":
        X = values > 127
    else:
        X = values.astype(dtype)
    finite = True
    if X.size and poison in ("nan", "inf"):
        X = X.astype(np.float32 if dtype in ("uint8", "int64", "bool") else X.dtype)
        X.flat[draw(st.integers(0, X.size - 1))] = (
            np.nan if poison == "nan" else -np.inf
        )
        finite = False
    elif X.size and poison == "none-object":
        X = X.astype(object)
        X.flat[draw(st.integers(0, X.size - 1))] = None
        finite = False
    valid_layout = (
        layout == "images"
        and len(shape) in (3, 4)
        and min(image) >= 1
        or layout == "flat"
        and shape[1] >= 1
    )
    return X, valid_layout and n >= 1, finite


@st.composite
def labels(draw, n, tidy):
    """n labels, and whether they are valid binary labels. ``tidy`` draws two
    classes of a valid kind."""
    if tidy:
        kind = draw(st.sampled_from(["bool", "float", "int", "str"]))
        n_classes = 2
    else:
        kind = draw(st.sampled_from(sorted(LABELS)))
        n_classes = draw(st.integers(1, len(LABELS[kind])))
    values = LABELS[kind][:n_classes]
    y = [values[i % n_classes] for i in range(n)]
    y = draw(st.permutations(y)) if n else y
    y = np.array(y, dtype=object if kind in ("str", "mixed") else None)
    return y, kind not in ("fraction", "mixed") and len(set(y.tolist())) == 2


def _clean_error(exc):
    """A ValueError or TypeError that is not TensorFlow's."""
    return isinstance(exc, (ValueError, TypeError)) and not isinstance(
        exc, tf.errors.OpError
    )


def _check_predictions(clf, X):
    n = len(X)
    y_pred = clf.predict(X)
    assert y_pred.shape == (n,)
    assert set(y_pred.tolist()) <= set(clf.classes_.tolist())
    proba = clf.predict_proba(X)
    assert proba.shape == (n, 2)
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(y_pred, clf.classes_[(proba[:, 1] > 0.5) * 1])
    assert np.all(np.isfinite(clf.decision_function(X)))


@st.composite
def training_sets(draw):
    """X, y and whether they are valid; about half of them are drawn valid."""
    tidy = draw(st.integers(0, 2)) > 0  # 2 in 3
    n = draw(st.integers(2 if tidy else 0, 12))
    X, valid_layout, finite = draw(
        pixel_arrays(
            n,
            heights=st.integers(1 if tidy else 0, 10),
            widths=st.integers(1, 10),
            channels=st.sampled_from([None, 1, 2, 3, 4, 5] + ([] if tidy else [0])),
            tidy=tidy,
        )
    )
    y, binary = draw(labels(n, tidy))
    valid = valid_layout and finite and binary
    assert valid or not tidy
    event("valid" if valid else "invalid")
    return X, y, valid


@SETTINGS
@given(training_sets())
def test_fit_and_predict_on_random_input(case):
    X, y, valid = case
    clf = CNNBinaryClassifier(**TINY, random_state=0)
    try:
        clf.fit(X, y)
    except Exception as exc:
        if not _clean_error(exc):
            raise
        assert not valid, f"valid input refused: {type(exc).__name__}: {exc}"
        return
    assert valid, f"invalid input accepted: X {X.shape} {X.dtype}, y {y!r}"
    assert sorted(clf.classes_.tolist()) == sorted(set(y.tolist()))
    assert clf.image_shape_ and min(clf.image_shape_) >= 1
    _check_predictions(clf, X)


@pytest.fixture(scope="module")
def fitted():
    X, y = load_digits_pair(return_X_y=True)
    return CNNBinaryClassifier(**TINY, random_state=0).fit(X[:24], y[:24])


@st.composite
def prediction_sets(draw):
    """X and whether it is valid for a network fitted on 8x8x1 images."""
    tidy = draw(st.integers(0, 2)) > 0  # 2 in 3
    n = draw(st.integers(1 if tidy else 0, 12))
    X, valid_layout, finite = draw(
        pixel_arrays(
            n,
            heights=st.sampled_from([8] if tidy else [7, 8, 9]),
            widths=st.sampled_from([8] if tidy else [8, 9]),
            channels=st.sampled_from([None, 1] if tidy else [None, 1, 3]),
            tidy=tidy,
        )
    )
    matches = (X.ndim == 2 and X.shape[1] == 64) or (
        X.ndim in (3, 4) and X.shape[1:] in ((8, 8), (8, 8, 1))
    )
    valid = valid_layout and finite and matches
    assert valid or not tidy
    event("valid" if valid else "invalid")
    return X, valid


@settings(max_examples=40, deadline=None, database=None)
@given(case=prediction_sets())
def test_predict_on_random_input(fitted, case):
    X, valid = case
    try:
        _check_predictions(fitted, X)
    except Exception as exc:
        if not _clean_error(exc):
            raise
        assert not valid, f"valid input refused: {type(exc).__name__}: {exc}"
        return
    assert valid, f"invalid input accepted: X {X.shape} {X.dtype}"
