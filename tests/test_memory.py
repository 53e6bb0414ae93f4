"""Memory over many fits: traced graphs, gradient registrations, RSS."""

import gc
import os

import keras
import numpy as np
import pytest
from sklearn.base import clone

from skcnn import CNNBinaryClassifier

from .conftest import FAST
from .test_interrupts import Interrupt, fit_interrupted


# ---------------------------------------------------------------------- memory
def _n_traced_graphs():
    """How many traced TensorFlow graphs (tf.function FuncGraphs) are alive."""
    from tensorflow.python.framework.func_graph import FuncGraph

    gc.collect()
    return sum(isinstance(o, FuncGraph) for o in gc.get_objects())


@pytest.mark.parametrize(
    "how", ["fit", "interrupted fit", "failed fit", "early stopping"]
)
def test_a_freed_estimator_leaves_no_traced_graph_behind(digits, how):
    # TensorFlow's global gradient registry keeps, for good, the traced training
    # step of every Keras fit (its "CustomGradient-<n>" entries, from the sum of
    # the gradients over replicas): ~3 MB per fit. fit releases its model's.
    # Without that release, each fit here leaves one more graph alive.
    X, y = digits
    params = {**FAST, "epochs": 2, "random_state": 0}
    if how == "early stopping":
        params.update(early_stopping=True, n_iter_no_change=1, epochs=3)

    def fit():
        clf = CNNBinaryClassifier(**params)
        if how == "interrupted fit":
            clf.set_params(callbacks=[Interrupt(epoch=0)])
            fit_interrupted(clf, X, y)
        elif how == "failed fit":
            # Raises after the training step was traced: in a callback at the end
            # of the first epoch.
            clf.set_params(
                callbacks=[
                    keras.callbacks.LambdaCallback(
                        on_epoch_end=lambda epoch, logs: 1 / 0
                    )
                ]
            )
            with pytest.raises(ZeroDivisionError):
                clf.fit(X, y)
        else:
            clf.fit(X, y)
        if hasattr(clf, "model_"):
            clf.predict_proba(X)

    fit()  # whatever TensorFlow creates once per process
    before = _n_traced_graphs()
    for _ in range(3):
        fit()
    assert _n_traced_graphs() == before


def test_fit_releases_only_its_own_gradient_registrations(digits):
    # Another model's, which may be training in another thread, stay registered.
    from tensorflow.python.framework import ops

    # Those of a model deleted since, whose variables are gone, do not trouble it.
    X, y = digits

    def keras_fit():
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten()])
        model.add(keras.layers.Dense(1, activation="sigmoid"))
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(X / 255, (y == 8).astype("float32"), epochs=1, verbose=0)
        return model

    alive = keras_fit()
    keras_fit()  # deleted at once
    gc.collect()
    registered = set(ops._gradient_registry.list())
    CNNBinaryClassifier(**FAST, random_state=0).fit(X, y)
    assert registered <= set(ops._gradient_registry.list())
    del alive  # alive until now


def test_fits_in_threads_at_once_give_the_serial_results_and_free_their_graphs(
    digits,
):
    # As GridSearchCV with joblib's threading backend runs them: each fit
    # releases its own registrations only, while the others are being traced.
    from concurrent.futures import ThreadPoolExecutor

    X, y = digits

    def fit(seed):
        clf = CNNBinaryClassifier(**FAST, random_state=seed).fit(X, y)
        return clf.predict_proba(X)

    serial = [fit(seed) for seed in range(4)]
    before = _n_traced_graphs()
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(fit, range(4)))
    assert _n_traced_graphs() == before
    for a, b in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", ["adam", keras.optimizers.SGD(momentum=0.9)])
def test_every_fit_names_its_optimizer_variables_alike(digits, optimizer):
    # The names of the variables are attributes of the TensorFlow ops creating
    # them, and TensorFlow's eager kernel cache, never emptied, keeps a kernel
    # per distinct op: an optimizer named anew at each fit (Keras' "adam",
    # "adam_1", ...) added ~0.5 MB per fit, measured.
    X, y = digits
    names = [
        [v.path for v in clf.model_.optimizer.variables]
        for clf in (
            CNNBinaryClassifier(**FAST, optimizer=optimizer, random_state=seed).fit(
                X, y
            )
            for seed in range(2)
        )
    ]
    assert len(names[0]) > 2  # the slots of the weights, not only the step count
    assert names[0] == names[1]


def test_a_released_training_step_still_trains(digits):
    # The released registrations are never looked up again: the fitted model
    # keeps training, with its traced step, as Keras' own fit would.
    X, y = digits
    clf = CNNBinaryClassifier(**FAST, random_state=0).fit(X, y)
    model = clf.model_
    loss = model.evaluate(X, (y == 8).astype("float32"), verbose=0)
    model.fit(X, (y == 8).astype("float32"), epochs=5, verbose=0)
    assert model.evaluate(X, (y == 8).astype("float32"), verbose=0) < loss


def _rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")  # pragma: no cover


@pytest.mark.slow
@pytest.mark.skipif(
    not os.path.exists("/proc/self/status"), reason="reads VmRSS from /proc"
)
def test_memory_does_not_grow_over_many_fits(digits):
    X, y = digits
    template = CNNBinaryClassifier(**{**FAST, "epochs": 1}, random_state=0)
    rss, n_objects = {}, {}
    for i in range(1, 13):
        clf = clone(template).set_params(random_state=i)
        clf.fit(X, y).predict_proba(X)
        del clf
        gc.collect()
        if i in (5, 12):
            rss[i] = _rss_mb()
            n_objects[i] = len(gc.get_objects())
    # Measured (TF 2.21, Keras 3.15, Linux), between fits 5 and 12: the same
    # number of Python objects and +3.0 MB of RSS. Between fits 5 and 25 (the
    # test's earlier length): +2.9 MB; with a new optimizer name at every fit
    # (TensorFlow's kernel cache), +11.6 MB. Without fit's release of
    # TensorFlow's gradient registrations, +53,500 objects (the traced training
    # step of every fit) and +45.8 MB; keeping each fitted estimator alive
    # measured +126 MB.
    assert n_objects[12] - n_objects[5] < 1000, n_objects
    assert rss[12] - rss[5] < 15, rss
