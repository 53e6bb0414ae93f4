"""How CNNBinaryClassifier trains its network: the optimizer with its weight
decay and learning-rate schedule, and the callbacks fit adds to the user's."""

import keras

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
