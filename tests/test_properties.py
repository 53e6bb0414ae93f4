"""Property-based tests: random shapes, dtypes and labels thrown at
CNNBinaryClassifier. Whatever the input, fit and predict either raise a clean
ValueError or TypeError (never a TensorFlow error, nor any other exception) whose
message names one of the problems of the input, or give a correct result. Inputs
that are certainly invalid must raise; the others must give a correct result.

The examples are drawn from a seed derived from each test (``derandomize``), so
every run checks the same ones.
"""

import re

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import event, given, settings
from hypothesis import strategies as st

from skcnn import CNNBinaryClassifier
from skcnn.datasets import load_digits_pair

from .conftest import TINY

# The same examples at every run, and no example database; Hypothesis still
# caches constants in .hypothesis/, which it git-ignores itself.
SETTINGS = settings(derandomize=True, database=None, deadline=None)

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
# Each problem an input is drawn with, and the error that names it: its type and
# a regex its message must match.
PROBLEMS = {
    "no samples": (ValueError, r"Found array with 0 sample\(s\)"),
    "1-D": (ValueError, r"Expected 2D array, got 1D array"),
    "5-D": (
        ValueError,
        r"X must be images of shape .*Got an array of shape \(\d+(, \d+){4}\)",
    ),
    "empty image": (
        ValueError,
        r"images of shape .*at least 1 pixel high and wide, with at least 1 channel",
    ),
    "no features": (ValueError, r"Found array with 0 feature\(s\)"),
    "NaN": (ValueError, r"Input X contains NaN"),
    "infinity": (ValueError, r"Input X contains infinity"),
    # None in an array of pixels: missing, like NaN; in a 1-D array, neither a
    # pixel row nor a path.
    "None": (
        (ValueError, TypeError),
        r"Input X contains NaN|Got NoneType at index \d+",
    ),
    "not binary": (ValueError, r"supports binary targets only\. Got \d+ class"),
    "continuous labels": (ValueError, r"Unknown label type: continuous"),
    "mixed labels": (ValueError, r"y mixes labels of different types"),
    "other image shape": (
        ValueError,
        r"X has \d+ features, but CNNBinaryClassifier is expecting 64 features"
        r"|X has images of shape \(\d+, \d+, \d+\), but CNNBinaryClassifier is "
        r"expecting images of shape \(8, 8, 1\)",
    ),
    "other pixel scale": (
        ValueError,
        r"trained on pixels in \[0, 255\].* pixels in \[0, 1\]",
    ),
}


X_PROBLEMS = ["no samples", "1-D", "5-D", "empty image", "no features"]
X_PROBLEMS += ["NaN", "infinity", "None"]
LABEL_PROBLEMS = ["not binary", "continuous labels", "mixed labels"]


@st.composite
def problem_sets(draw, problems, invalid=False):
    """Which of ``problems`` to give an input: none (2 in 5), one (2 in 5) or
    two; or, if ``invalid``, one (2 in 3) or two."""
    n_problems = draw(st.sampled_from([1, 1, 2] if invalid else [0, 1, 0, 1, 2]))
    return draw(
        st.sets(st.sampled_from(problems), min_size=n_problems, max_size=n_problems)
    )


@st.composite
def pixel_arrays(draw, n, heights, widths, channels, dtypes, broken):
    """An array of n samples of random dtype and layout, given the problems in
    ``broken`` (those of X_PROBLEMS but "no samples", which is n=0, and "other
    pixel scale"); and the set of the problems it has, keys of PROBLEMS, found
    from the array itself."""
    h, w = draw(heights), draw(widths)
    c = draw(channels)  # None: no channel axis
    if "1-D" in broken:
        layout = "1d"
    elif "5-D" in broken:
        layout = "5d"
    elif "no features" in broken:
        layout, h = "flat", 0
    elif "empty image" in broken:
        layout = "images"
        h, c = (0, c) if draw(st.booleans()) else (h, 0)
    else:
        layout = draw(st.sampled_from(["images", "flat"]))
    dtype = draw(st.sampled_from(dtypes))
    poisons = [p for p in ("NaN", "infinity", "None") if p in broken]
    poison = draw(st.sampled_from(poisons)) if poisons else None
    image = (h, w) if c is None else (h, w, c)
    shape = {
        "images": (n, *image),
        "flat": (n, h * w * (1 if c is None else c)),
        "1d": (n,),
        "5d": (n, *image, 1, 1)[:5],
    }[layout]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.integers(0, 256, size=shape)
    if "other pixel scale" in broken:
        values = values % 2  # pixels of 0 and 1
    if dtype == "bool":
        X = values > 0 if "other pixel scale" in broken else values > 127
    else:
        X = values.astype(dtype)
    problems = set()
    if n < 1:
        problems.add("no samples")
    if layout == "1d":
        problems.add("1-D")
    elif layout == "5d":
        problems.add("5-D")
    elif layout == "flat" and shape[1] < 1:
        problems.add("no features")
    if layout in ("images", "5d") and min(image) < 1:
        problems.add("empty image")
    if X.size and poison in ("NaN", "infinity"):
        X = X.astype(np.float32 if dtype in ("uint8", "int64", "bool") else X.dtype)
        X.flat[draw(st.integers(0, X.size - 1))] = (
            np.nan if poison == "NaN" else -np.inf
        )
        problems.add(poison)
    elif X.size and poison == "None":
        X = X.astype(object)
        X.flat[draw(st.integers(0, X.size - 1))] = None
        problems.add(poison)
    return X, problems


@st.composite
def labels(draw, n, broken):
    """n labels with the problem in ``broken`` (of LABEL_PROBLEMS), if any; and
    the set of the problems they have, found from the labels themselves."""
    if "continuous labels" in broken:
        kind = "fraction"
    elif "mixed labels" in broken:
        kind = "mixed"
    else:
        kind = draw(st.sampled_from(["bool", "float", "int", "str"]))
    if "not binary" in broken:
        n_classes = draw(st.sampled_from([1, 3] if kind != "bool" else [1]))
    elif kind == "mixed":
        n_classes = draw(st.integers(2, 3))
    else:
        n_classes = draw(st.integers(1, 3)) if kind == "fraction" else 2
    values = LABELS[kind][:n_classes]
    y = [values[i % n_classes] for i in range(n)]
    y = draw(st.permutations(y)) if n else y
    y = np.array(y, dtype=object if kind in ("str", "mixed") else None)
    if kind == "fraction":
        return y, {"continuous labels"}
    if len({type(label) for label in y.tolist()}) > 1:
        return y, {"mixed labels"}
    return y, set() if len(set(y.tolist())) == 2 else {"not binary"}


def _clean_error(exc):
    """A ValueError or TypeError that is not TensorFlow's."""
    return isinstance(exc, (ValueError, TypeError)) and not isinstance(
        exc, tf.errors.OpError
    )


def _check_names_a_problem(exc, problems):
    """exc is the error of one of ``problems``: of its type, its message naming
    the problem."""
    named = [
        problem
        for problem in problems
        if isinstance(exc, PROBLEMS[problem][0])
        and re.search(PROBLEMS[problem][1], str(exc))
    ]
    assert named, (
        f"the error names none of the problems of the input {sorted(problems)}: "
        f"{type(exc).__name__}: {exc}"
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
def training_sets(draw, invalid=False):
    """X, y and the set of their problems (at least one if ``invalid``)."""
    problems = draw(problem_sets(X_PROBLEMS + LABEL_PROBLEMS, invalid))
    if "no samples" in problems:
        n = 0
    else:
        n = draw(st.integers(1 if "not binary" in problems else 2, 12))
    X, problems_of_X = draw(
        pixel_arrays(
            n,
            heights=st.integers(1, 10),
            widths=st.integers(1, 10),
            channels=st.sampled_from([None, 1, 2, 3, 4, 5]),
            dtypes=DTYPES,
            broken=problems,
        )
    )
    y, problems_of_y = draw(labels(n, problems))
    problems = problems_of_X | problems_of_y
    assert problems or not invalid
    event("invalid" if problems else "valid")
    for problem in problems:
        event(problem)
    return X, y, problems


@settings(SETTINGS, max_examples=15)
@given(training_sets())
def test_fit_and_predict_on_random_input(case):
    X, y, problems = case
    clf = CNNBinaryClassifier(**TINY, random_state=0)
    try:
        clf.fit(X, y)
    except Exception as exc:
        if not _clean_error(exc):
            raise
        assert problems, f"valid input refused: {type(exc).__name__}: {exc}"
        _check_names_a_problem(exc, problems)
        return
    assert not problems, (
        f"input with {sorted(problems)} accepted: X {X.shape} {X.dtype}, y {y!r}"
    )
    assert sorted(clf.classes_.tolist()) == sorted(set(y.tolist()))
    assert clf.image_shape_ and min(clf.image_shape_) >= 1
    _check_predictions(clf, X)


@settings(SETTINGS, max_examples=60)
@given(training_sets(invalid=True))
def test_fit_refuses_invalid_input(case):
    """Many invalid inputs (refused before training, so cheaply): each error
    names a problem of its input."""
    X, y, problems = case
    with pytest.raises((ValueError, TypeError)) as raised:
        CNNBinaryClassifier(**TINY, random_state=0).fit(X, y)
    assert _clean_error(raised.value)
    _check_names_a_problem(raised.value, problems)


@pytest.fixture(scope="module")
def fitted():
    """Fitted on 8x8x1 uint8 images: pixels in [0, 255]."""
    X, y = load_digits_pair(return_X_y=True)
    return CNNBinaryClassifier(**TINY, random_state=0).fit(X[:24], y[:24])


@st.composite
def prediction_sets(draw):
    """X and the set of its problems for the network fitted on 8x8x1 images."""
    problems = draw(
        problem_sets([*X_PROBLEMS, "other image shape", "other pixel scale"])
    )
    other_shape = "other image shape" in problems
    dtypes = DTYPES
    if "other pixel scale" in problems:
        dtypes = [d for d in DTYPES if d != "uint8"]  # uint8 is in [0, 255]
    X, problems_of_X = draw(
        pixel_arrays(
            0 if "no samples" in problems else draw(st.integers(1, 12)),
            heights=st.sampled_from([7, 8, 9] if other_shape else [8]),
            widths=st.sampled_from([8, 9] if other_shape else [8]),
            channels=st.sampled_from([None, 1, 3] if other_shape else [None, 1]),
            dtypes=dtypes,
            broken=problems,
        )
    )
    problems = problems_of_X
    matches = (X.ndim == 2 and X.shape[1] == 64) or (
        X.ndim in (3, 4) and X.shape[1:] in ((8, 8), (8, 8, 1))
    )
    if X.ndim in (2, 3, 4) and not matches:
        problems.add("other image shape")
    if not problems and X.dtype != np.uint8 and 0 < X.astype(float).max() <= 1:
        # Pixels in [0, 1] (booleans, say) for a network trained on [0, 255].
        problems.add("other pixel scale")
    event("invalid" if problems else "valid")
    for problem in problems:
        event(problem)
    return X, problems


@settings(SETTINGS, max_examples=80)
@given(case=prediction_sets())
def test_predict_on_random_input(fitted, case):
    X, problems = case
    try:
        _check_predictions(fitted, X)
    except Exception as exc:
        if not _clean_error(exc):
            raise
        assert problems, f"valid input refused: {type(exc).__name__}: {exc}"
        _check_names_a_problem(exc, problems)
        return
    assert not problems, (
        f"input with {sorted(problems)} accepted: X {X.shape} {X.dtype}"
    )
