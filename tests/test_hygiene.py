"""Resource hygiene: interrupted fits, thread pools in joblib workers, memory."""

import gc
import os
import warnings

import joblib
import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skcnn import CNNBinaryClassifier

from .conftest import FAST


class Interrupt(keras.callbacks.Callback):
    """Simulates Ctrl-C: raises KeyboardInterrupt at the end of epoch ``epoch``, or
    after batch ``batch`` of epoch ``batch_of_epoch``. Keeps the weights at every
    epoch end and at the interruption."""

    def __init__(self, epoch=None, batch=None, batch_of_epoch=0):
        super().__init__()
        self.at_epoch, self.at_batch, self.batch_of_epoch = epoch, batch, batch_of_epoch

    def on_train_begin(self, logs=None):
        self.epoch_weights, self.weights = [], None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_weights.append(self.model.get_weights())
        if epoch == self.at_epoch:
            self.weights = self.model.get_weights()
            raise KeyboardInterrupt

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.batch_of_epoch and batch == self.at_batch:
            self.weights = self.model.get_weights()
            raise KeyboardInterrupt


def fit_interrupted(clf, X, y):
    """clf.fit(X, y), which must raise KeyboardInterrupt; the UserWarnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    return [w for w in caught if issubclass(w.category, UserWarning)]


def assert_weights_equal(model, weights):
    got = model.get_weights()
    assert len(got) == len(weights)
    for a, b in zip(got, weights, strict=True):
        np.testing.assert_array_equal(a, b)


def assert_unfitted(clf):
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    fitted = [a for a in vars(clf) if a.endswith("_") and not a.startswith("__")]
    assert fitted == []


# --------------------------------------------------------------- Ctrl-C in fit
def test_interrupt_after_epochs_keeps_the_weights_so_far(digits):
    X, y = digits
    stop = Interrupt(epoch=1)
    clf = CNNBinaryClassifier(**{**FAST, "epochs": 5}, callbacks=[stop], random_state=0)
    caught = fit_interrupted(clf, X, y)

    assert len(caught) == 1
    message = str(caught[0].message)
    assert "interrupted (KeyboardInterrupt) after 2 completed epochs of 5" in message
    assert "weights so far" in message
    check_is_fitted(clf)
    assert clf.n_iter_ == 2
    assert sorted(clf.history_) == ["accuracy", "loss"]
    assert all(len(v) == 2 for v in clf.history_.values())
    assert all(isinstance(v, float) for v in clf.history_["loss"])
    assert clf.best_epoch_ == 2
    np.testing.assert_array_equal(clf.classes_, [7, 8])
    assert_weights_equal(clf.model_, stop.weights)
    # The estimator predicts with that model.
    expected = clf.model_.predict(X, batch_size=clf.batch_size, verbose=0)[:, 0]
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], expected, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(expected > 0.5) * 1])


def test_interrupt_in_first_epoch_leaves_the_estimator_unfitted(digits):
    X, y = digits
    clf = CNNBinaryClassifier(**FAST, callbacks=[Interrupt(batch=2)], random_state=0)
    assert fit_interrupted(clf, X, y) == []
    assert_unfitted(clf)


def test_interrupted_refit_does_not_mix_old_model_and_new_classes(digits):
    X, y = digits
    clf = CNNBinaryClassifier(**FAST, random_state=0).fit(X, y)
    check_is_fitted(clf)
    clf.set_params(callbacks=[Interrupt(batch=0)])
    assert fit_interrupted(clf, X, np.where(y == 7, "seven", "eight")) == []
    assert_unfitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict(X)

    # Interrupted after an epoch: the new classes with the new model.
    old = CNNBinaryClassifier(**FAST, random_state=0).fit(X, y)
    old_model = old.model_
    old.set_params(callbacks=[Interrupt(epoch=0)])
    (warning,) = fit_interrupted(old, X, np.where(y == 7, "seven", "eight"))
    assert "after 1 completed epoch of 3" in str(warning.message)
    assert old.model_ is not old_model
    np.testing.assert_array_equal(old.classes_, ["eight", "seven"])
    assert old.n_iter_ == 1
    assert set(old.predict(X)) <= {"eight", "seven"}


def test_a_failed_fit_leaves_no_attributes_of_a_previous_fit(digits):
    X, y = digits
    clf = CNNBinaryClassifier(**FAST, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        clf.set_params(class_weight={"nine": 2.0}).fit(X, y)
    assert_unfitted(clf)


def test_interrupt_with_early_stopping_restores_the_best_weights(digits):
    X, y = digits
    # Ctrl-C after the first batch of the 4th epoch (index 3); patience beyond
    # the epochs, so early stopping never stops the fit itself.
    stop = Interrupt(batch=0, batch_of_epoch=3)
    clf = CNNBinaryClassifier(
        **{**FAST, "epochs": 8},
        early_stopping=True,
        n_iter_no_change=8,
        callbacks=[stop],
        random_state=0,
    )
    (warning,) = fit_interrupted(clf, X, y)
    assert clf.n_iter_ == 3
    assert sorted(clf.history_) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(clf.history_["val_loss"]) == 3
    best = int(np.argmin(clf.history_["val_loss"]))
    assert clf.best_epoch_ == best + 1
    assert f"best epoch early stopping had checked (epoch {best + 1})" in str(
        warning.message
    )
    assert_weights_equal(clf.model_, stop.epoch_weights[best])
    # Not the weights at the interruption, one batch further.
    assert not all(
        np.array_equal(a, b)
        for a, b in zip(clf.model_.get_weights(), stop.weights, strict=True)
    )


# ------------------------------------------------- thread pools in joblib workers
@pytest.mark.slow
@pytest.mark.parametrize("data", ["arrays", "files"])
def test_tensorflow_pools_sized_to_the_joblib_worker_share(digits, data, tmp_path):
    X, y = digits
    params = dict(FAST, epochs=1)
    if data == "files":  # ImageLoader then runs TensorFlow first, in a Pipeline
        X = [str(tmp_path / f"{i}.png") for i in range(len(X))]
        for path, image in zip(X, digits[0], strict=True):
            Image.fromarray(image[:, :, 0]).save(path)

    def fit_in_worker(seed):
        import os

        import tensorflow as tf
        from sklearn.pipeline import make_pipeline

        from skcnn import CNNBinaryClassifier, ImageLoader

        clf = CNNBinaryClassifier(**params, random_state=seed)
        if data == "files":
            loader = ImageLoader(image_size=(8, 8), color_mode="grayscale")
            clf = make_pipeline(loader, clf)
        clf.fit(X, y)
        threading = tf.config.threading
        return (
            os.getpid(),
            os.environ.get("OMP_NUM_THREADS"),
            threading.get_intra_op_parallelism_threads(),
            threading.get_inter_op_parallelism_threads(),
        )

    # Fresh workers: reused ones may have started TensorFlow in an earlier test.
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)
    results = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(fit_in_worker)(seed) for seed in range(4)
    )
    # The share joblib gives each of 2 workers (unless OMP_NUM_THREADS is set).
    share = int(os.environ.get("OMP_NUM_THREADS", max(joblib.cpu_count() // 2, 1)))
    for _, omp, intra, inter in results:
        assert omp == str(share)
        assert (intra, inter) == (share, share)


def test_main_process_pools_are_left_alone(digits):
    X, y = digits
    threading = tf.config.threading
    before = (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
    CNNBinaryClassifier(**FAST, random_state=0).fit(X, y).predict(X)
    after = (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
    assert after == before == (0, 0)  # 0: TensorFlow's default, all the cores


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
    for i in range(1, 26):
        clf = clone(template).set_params(random_state=i)
        clf.fit(X, y).predict_proba(X)
        del clf
        gc.collect()
        if i in (5, 25):
            rss[i] = _rss_mb()
            n_objects[i] = len(gc.get_objects())
    # Measured (TF 2.21, Keras 3.15, Linux): the same number of Python objects
    # after fits 5 and 25, and +2.9 MB of RSS. With a new optimizer name at
    # every fit (TensorFlow's kernel cache), +11.6 MB. Without fit's release of
    # TensorFlow's gradient registrations, +53,500 objects (the traced training
    # step of every fit) and +45.8 MB; keeping each fitted estimator alive
    # measured +126 MB.
    assert n_objects[25] - n_objects[5] < 1000, n_objects
    assert rss[25] - rss[5] < 15, rss
