"""How CNNBinaryClassifier trains a built network: the optimizer with its weight
decay and learning-rate schedule, the callbacks fit adds to the user's, and the
training loop (train_model): Keras' fit over the batches of _inputs, early
stopping, a KeyboardInterrupt after some epochs, and the fitted attributes it
sets, also over the two phases of fine-tuning (used by _transfer).

The functions taking ``est`` read its parameters and set its fitted attributes,
as scikit-learn's private helpers take the estimator."""

import warnings

import keras
import numpy as np
from sklearn.model_selection import train_test_split

from ._architecture import resolve_test_time_augmentation
from ._devices import check_even_batches, loss_scaled
from ._inputs import _file_errors, make_dataset
from .utils._tf_compat import multi_worker_fit, silence_retracing_warnings
from .utils._tf_compat import (
    release_gradient_registrations as _release_gradient_registrations,
)
from .utils._tf_compat import release_iterators as _release_iterators

# The upper bound of the seeds fit draws from random_state.
_MAX_SEED = 2**31 - 1

# epochs="auto": 60 epochs, or 100 for a network trained from scratch on fewer than
# 1,000 images, which get few training steps in 60 epochs. Measured on the shared
# datasets (the user guide's "Accuracy on real images"): 100 epochs raised
# cats_vs_dogs (600 images) and lowered pneumoniamnist (4,708 images).
_AUTO_EPOCHS = 60
_SMALL_SET_EPOCHS = 100
_SMALL_SET = 1000


def resolve_epochs(epochs, n_samples, backbone=None):
    """``epochs`` as an int, for a fit on ``n_samples`` images ("auto": above)."""
    if not (isinstance(epochs, str) and epochs == "auto"):
        return epochs
    if backbone is None and n_samples < _SMALL_SET:
        return _SMALL_SET_EPOCHS
    return _AUTO_EPOCHS


# ReduceLROnPlateau's settings for learning_rate_schedule="plateau": the patience
# is max(1, n_iter_no_change // 2), so the rate drops before early stopping ends.
_PLATEAU_FACTOR = 0.5


class _EpochLogs(keras.callbacks.Callback):
    """Keeps the logs of each epoch as it ends, for a fit that is interrupted:
    ``keras.Model.fit`` then returns no History.

    Put first in the callback list; it keeps each epoch's logs dict itself, the
    one Keras passes to every callback, so it also holds what later callbacks add
    to it (``ReduceLROnPlateau``'s ``learning_rate``, say).
    """

    def on_train_begin(self, logs=None):
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(logs if logs is not None else {})

    def history(self):
        history = {}
        for logs in self.epochs:
            for key, value in logs.items():
                history.setdefault(key, []).append(float(value))
        return history


def check_metrics(metrics):
    """The ``metrics`` as a list for ``keras.Model.compile``."""
    metrics = list(metrics or ())
    for i, metric in enumerate(metrics):
        if not isinstance(metric, (str, keras.metrics.Metric)):
            raise TypeError(
                "`metrics` must be a list of Keras metric names or "
                f"keras.metrics.Metric instances. Got {type(metric).__name__} "
                f"at index {i}: {metric!r}."
            )
    return metrics


def metric_object(metric):
    """``metric`` (a Keras metric name or ``keras.metrics.Metric``) as a new
    Metric object, resolved the way ``keras.Model.compile`` resolves it for
    one sigmoid output ("accuracy" is ``BinaryAccuracy``).

    Compiling with objects, whose variables exist before ``fit``, spares
    TensorFlow a second trace of the first training step: a metric named by a
    string gets its variables inside that first trace, and a ``tf.function``
    that creates variables is traced again.
    """
    if not isinstance(metric, str):
        return metric
    if metric.lower() in ("accuracy", "acc"):
        return keras.metrics.BinaryAccuracy(name=metric)
    resolved = keras.metrics.get(metric)
    if not isinstance(resolved, keras.metrics.Metric):
        resolved = keras.metrics.MeanMetricWrapper(resolved)
    resolved.name = metric
    return resolved


def check_callbacks(callbacks):
    """Refuse ``callbacks`` that are not Keras callbacks."""
    for i, callback in enumerate(callbacks or []):
        if not isinstance(callback, keras.callbacks.Callback):
            raise TypeError(
                "`callbacks` must be a list of keras.callbacks.Callback. Got "
                f"{type(callback).__name__} at index {i}: {callback!r}."
            )


def make_optimizer(
    optimizer, learning_rate, *, weight_decay=None, schedule=None, decay_steps=1
):
    """A new optimizer, named the same at every fit.

    ``optimizer`` is a Keras optimizer name or an optimizer whose configuration is
    copied. ``weight_decay`` None keeps the optimizer's own (none, or AdamW's
    0.004, or the copied optimizer's). ``schedule`` "cosine" makes the learning
    rate a ``CosineDecay`` from ``learning_rate`` to 0 over ``decay_steps``.

    Keras names each new optimizer uniquely ("adam", "adam_1", ...), and the
    names of its variables, under its name, are attributes of the TensorFlow ops
    that create them: TensorFlow's eager kernel cache, which only
    ``keras.backend.clear_session()`` empties, would keep new kernels at every
    fit, about 0.5 MB.
    """
    if schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=decay_steps
        )
    extra = {} if weight_decay is None else {"weight_decay": weight_decay}
    if isinstance(optimizer, keras.optimizers.Optimizer):
        config = {**optimizer.get_config(), "learning_rate": learning_rate, **extra}
        return type(optimizer).from_config(config)
    config = {"learning_rate": learning_rate, "name": optimizer.lower(), **extra}
    try:
        built = keras.optimizers.deserialize(
            {"class_name": optimizer, "config": config}
        )
    except (ValueError, TypeError):
        built = None  # an unknown name may also come back as a str
    if not isinstance(built, keras.optimizers.Optimizer):
        raise ValueError(
            "`optimizer` must be the name of a Keras optimizer, such as 'adam', "
            f"'sgd' or 'rmsprop'. Received: optimizer={optimizer!r}"
        )
    return built


def schedule_callbacks(schedule, *, monitor, n_iter_no_change):
    """The Keras callbacks a learning-rate ``schedule`` needs: for "plateau", a
    ``ReduceLROnPlateau`` halving the rate after ``max(1, n_iter_no_change // 2)``
    epochs without improvement of ``monitor``."""
    if schedule != "plateau":
        return []
    return [
        keras.callbacks.ReduceLROnPlateau(
            monitor=monitor,
            factor=_PLATEAU_FACTOR,
            patience=max(1, n_iter_no_change // 2),
        )
    ]


def compile_model(est, model, learning_rate, metrics, steps_per_epoch, epochs):
    """Compile ``model`` (of frozen or trainable layers) with ``est``'s optimizer
    at ``learning_rate`` over ``epochs``, and create the optimizer's variables."""
    # Under the strategy the model was built in (the optimizer's variables, its
    # iteration count included, are then that strategy's too).
    with model.distribute_strategy.scope():
        optimizer = make_optimizer(
            est.optimizer,
            learning_rate,
            weight_decay=est.weight_decay,
            schedule=est.learning_rate_schedule,
            decay_steps=epochs * steps_per_epoch,
        )
        model.compile(
            optimizer=loss_scaled(optimizer, est.dtype_policy),
            loss="binary_crossentropy",
            metrics=[metric_object(m) for m in metrics],
        )
        # Creating the optimizer's variables now, not inside the first traced
        # training step, spares TensorFlow a second trace of that step.
        model.optimizer.build(model.trainable_variables)


def train_model(
    est,
    model,
    all_X,
    train,
    validation,
    shuffle_seed,
    pixel_range,
    *,
    epochs,
    fitted=None,
    before=None,
    final=True,
):
    """Train ``model`` on ``train`` (X, y, weights, file infos), checking
    ``validation`` (the same, or None) for early stopping, and set the fitted
    attributes of ``est`` (if ``final``); after a KeyboardInterrupt, those of
    the epochs that ended (see ``CNNBinaryClassifier.fit``'s Notes). ``all_X``
    is the X given to fit: the files an error names.

    ``epochs`` is resolved (an int, see resolve_epochs); ``fitted`` is the model the
    estimator keeps (default ``model``; the whole network when ``model``
    is its head); ``before`` is the (history, epochs, best epoch) of a
    previous phase of this fit, which the fitted attributes continue.
    Returns (history, epochs, best epoch), counting ``before``'s."""
    fitted = model if fitted is None else fitted
    callbacks = list(est.callbacks or [])
    callbacks += schedule_callbacks(
        est.learning_rate_schedule,
        monitor="loss" if validation is None else "val_loss",
        n_iter_no_change=est.n_iter_no_change,
    )
    stopper = None
    if validation is not None:
        stopper = keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=est.n_iter_no_change,
            restore_best_weights=True,
        )
        callbacks.append(stopper)
    check_even_batches(
        model, est.batch_size, (train[0], None if validation is None else validation[0])
    )
    epoch_logs = _EpochLogs()
    try:
        with (
            silence_retracing_warnings(),
            _file_errors(all_X) as errors,
            multi_worker_fit(model),
        ):
            validation = make_batches(est, validation, errors)
            history = model.fit(
                make_batches(est, train, errors, shuffle_seed),
                epochs=epochs,
                validation_data=validation,
                callbacks=[epoch_logs, *callbacks],
                shuffle=False,
                verbose=est.verbose,
            )
    except KeyboardInterrupt as interrupt:
        _release_iterators(interrupt)  # freed before the program stops
        n_epochs = len(getattr(epoch_logs, "epochs", ()))
        if not n_epochs and before is None:
            raise  # fit() leaves the estimator unfitted
        message = (
            f"fit was interrupted (KeyboardInterrupt) after {n_epochs} "
            f"completed epoch{'s' * (n_epochs != 1)} of {epochs}"
            f"{' of fine-tuning' if before is not None else ''}: the "
            "estimator is fitted and its model holds the weights so far"
        )
        if stopper is not None and stopper.best_weights is not None:
            # What EarlyStopping.on_train_end, not reached, would have done.
            model.set_weights(stopper.best_weights)
            message += (
                ", those of the best epoch early stopping had checked "
                f"(epoch {stopper.best_epoch + 1})"
            )
        _set_fitted(
            est,
            fitted,
            *_continued(before, epoch_logs.history(), n_epochs, stopper),
            pixel_range,
        )
        # stacklevel: train_model, CNNBinaryClassifier._fit, fit, _fit_context's
        # wrapper, the caller.
        warnings.warn(message + ".", UserWarning, stacklevel=5)
        raise
    finally:
        # However training ended: else the process keeps the traced step.
        _release_gradient_registrations(model)
    history_ = {k: [float(v) for v in vs] for k, vs in history.history.items()}
    done = _continued(before, history_, len(history.epoch), stopper)
    if final:
        _set_fitted(est, fitted, *done, pixel_range)
    return done


def split_validation(est, data, seed):
    """``data`` (a tuple of arrays over the samples, or None) as the training
    part and, with ``early_stopping``, the held-out validation part (else
    None): a stratified split, seeded by ``seed``."""
    if not est.early_stopping:
        return data, None
    n_samples, y_encoded = len(data[0]), data[1]
    try:
        train, val = train_test_split(
            np.arange(n_samples),
            test_size=est.validation_fraction,
            stratify=y_encoded,
            random_state=seed,
        )
    except ValueError as exc:
        raise ValueError(
            "early_stopping=True cannot hold out a stratified "
            f"validation_fraction={est.validation_fraction} of the "
            f"{n_samples} training samples: {exc}"
        ) from exc
    return (
        tuple(None if a is None else a[train] for a in data),
        tuple(None if a is None else a[val] for a in data),
    )


def make_batches(est, data, errors, shuffle_seed=None, mirror=False):
    """make_dataset over ``data``: X, y, weights and file infos (each or None),
    at ``est``'s ``image_shape_`` and ``batch_size``."""
    if data is None:
        return None
    *arrays, infos = data
    return make_dataset(
        *arrays,
        image_shape=est.image_shape_,
        batch_size=est.batch_size,
        shuffle_seed=shuffle_seed,
        errors=errors,
        infos=infos,
        mirror=mirror,
    )


def predicts_with_flips(est):
    """Whether the fitted ``est``'s ``test_time_augmentation`` resolves to "flip"."""
    resolved = resolve_test_time_augmentation(
        est.test_time_augmentation,
        augment=est.augment,
        backbone=est.backbone,
        channels=est.image_shape_[-1],
    )
    return resolved == "flip"


def predict_positive(est, X, errors, verbose):
    """The fitted network's output for validated X (images or file paths): the
    probability of the positive class, as float64; with test-time flips, the
    mean of each image's and its mirror image's (in float32, as the exported
    network's ``Average`` layer computes it), from batches holding both."""
    mirror = predicts_with_flips(est)
    dataset = make_batches(est, (X, None, None, None), errors, mirror=mirror)
    output = est.model_.predict(dataset, verbose=verbose)[:, 0]
    if mirror:  # per batch: batch_size images, then their mirror images
        halves = output.reshape(-1, 2, est.batch_size)
        output = ((halves[:, 0] + halves[:, 1]) / 2).ravel()
    return output[: len(X)].astype(np.float64)


def _set_fitted(est, model, history, n_epochs, best_epoch, pixel_range):
    est.history_ = history
    est.n_iter_ = n_epochs
    est.best_epoch_ = best_epoch
    est.pixel_range_ = pixel_range
    est.model_ = model  # last: fit() tells a fitted estimator by it


def _continued(before, history, n_epochs, stopper):
    """(history, epochs, best epoch) of a training phase, continuing ``before``
    (those of the previous phase of the fit, or None)."""
    best_epoch = n_epochs
    if stopper is not None and stopper.best_weights is not None:
        best_epoch = stopper.best_epoch + 1  # the weights restored
    if before is None:
        return history, n_epochs, best_epoch
    previous, previous_epochs, _ = before
    keys = list(dict.fromkeys([*previous, *history]))
    history = {k: previous.get(k, []) + history.get(k, []) for k in keys}
    return history, previous_epochs + n_epochs, previous_epochs + best_epoch
