"""Documented claims of CNNBinaryClassifier, each tested so that the test fails when
the feature is broken: sample weights (times class weights) weigh the loss, and
fit leaves the global random generators alone."""

import random

import numpy as np
import pytest
import tensorflow as tf

from skcnn import CNNBinaryClassifier

# ------------------------------------------------------------ sample_weight


@pytest.fixture(scope="module")
def imbalanced(digits):
    """All the 7s and 60 of the 8s, so that "balanced" weighs the classes apart."""
    X, y = digits
    keep = np.r_[np.flatnonzero(y == 7), np.flatnonzero(y == 8)[:60]]
    return X[keep], y[keep]


@pytest.mark.parametrize("class_weight", [None, {7: 3.0, 8: 0.5}, "balanced"])
def test_loss_weighs_each_sample_by_sample_weight_times_class_weight(
    imbalanced, class_weight
):
    """The loss of the first epoch is the mean of sample_weight * class_weight *
    binary cross-entropy over the samples (Keras' "sum_over_batch_size" of each
    batch, averaged over the batches by their size)."""
    X, y = imbalanced
    sample_weight = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    # A learning rate of 1e-30 leaves the initial weights as they are (the
    # updates are below float32's resolution), and without dropout training
    # runs the network predict_proba runs: the epoch's loss is that of the
    # fitted model's predictions.
    clf = CNNBinaryClassifier(
        filters=(4,),
        dropout=0,
        augment=None,
        optimizer="sgd",
        learning_rate=1e-30,
        epochs=1,
        batch_size=50,
        class_weight=class_weight,
        random_state=0,
        verbose=0,
    ).fit(X, y, sample_weight=sample_weight)
    p = clf.predict_proba(X)[:, 1]
    losses = -np.where(y == 8, np.log(p), np.log1p(-p))
    if class_weight is None:
        per_class = np.ones(len(y))
    elif class_weight == "balanced":
        counts = {label: np.sum(y == label) for label in (7, 8)}
        per_class = np.array([len(y) / (2 * counts[label]) for label in y])
    else:
        per_class = np.array([class_weight[label] for label in y])
    expected = np.mean(sample_weight * per_class * losses)
    np.testing.assert_allclose(clf.history_["loss"][0], expected, rtol=1e-5)
    # Each weighting a broken fit could use instead gives another loss.
    for weights in (np.ones(len(y)), sample_weight, per_class):
        if not np.allclose(weights, sample_weight * per_class):
            assert abs(np.mean(weights * losses) / expected - 1) > 1e-3


@pytest.mark.parametrize(
    "zero_sample_weight_of, class_weight, predicted",
    [
        # The 8s weigh 5 times the 7s as a class, but nothing as samples.
        (8, {7: 1.0, 8: 5.0}, 7),
        # The 7s weigh 5 times the 8s as samples, but nothing as a class.
        (None, {7: 0.0, 8: 1.0}, 8),
    ],
)
def test_a_sample_of_zero_weight_is_not_learned(
    digits, fast_params, zero_sample_weight_of, class_weight, predicted
):
    """A sample weighs sample_weight * class_weight: zero if either is zero. Only
    one class then counts, and the network predicts it for every image."""
    X, y = digits
    sample_weight = np.where(y == 7, 5.0, 1.0)
    sample_weight[y == zero_sample_weight_of] = 0.0
    clf = CNNBinaryClassifier(**fast_params, class_weight=class_weight, random_state=0)
    clf.fit(X, y, sample_weight=sample_weight)
    np.testing.assert_array_equal(clf.predict(X), np.full(len(y), predicted))


# ---------------------------------------------------- global random state


@pytest.fixture
def restore_global_random_state():
    """Restores Python's and NumPy's generators and unsets TensorFlow's global seed
    after the test, which sets them."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    yield
    random.setstate(python_state)
    np.random.set_state(numpy_state)
    tf.random.set_seed(None)


def _draw_from_global_generators():
    """Numbers drawn from TensorFlow's (the global seed and its op-seed counter),
    NumPy's and Python's global random generators."""
    return {
        "tensorflow": tf.random.uniform((4,)).numpy().tolist(),
        "numpy": np.random.random(4).tolist(),
        "python": [random.random() for _ in range(4)],
    }


def test_fit_leaves_the_global_random_generators_alone(
    digits, fast_params, restore_global_random_state
):
    """fit neither seeds nor draws from TensorFlow's, NumPy's or Python's global
    random generators: what they give after a fit is what they would have given
    without it (this also holds with dropout, augmentation and early stopping,
    whose randomness comes from random_state)."""
    X, y = digits
    params = {
        **fast_params,
        "dropout": 0.3,
        "augment": {"flip": "horizontal", "zoom": 0.2},
        "early_stopping": True,
        "random_state": 0,
    }
    after = []
    for with_fit in (True, False):
        tf.random.set_seed(42)
        np.random.seed(42)
        random.seed(42)
        _draw_from_global_generators()  # the generators in use before the fit
        if with_fit:
            CNNBinaryClassifier(**params).fit(X, y).predict_proba(X)
        after.append(_draw_from_global_generators())
    assert after[0] == after[1]


def test_random_state_alone_decides_the_model(
    digits, fast_params, restore_global_random_state
):
    """Two fits with the same random_state give the same model, whatever
    TensorFlow's global seed."""
    X, y = digits
    proba = []
    for global_seed in (1, 2):
        tf.random.set_seed(global_seed)
        clf = CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y)
        proba.append(clf.predict_proba(X))
    np.testing.assert_array_equal(proba[0], proba[1])
