"""Where and in what precision CNNBinaryClassifier's network trains: the
``tf.distribute`` strategy of fit (the ``strategy`` parameter, or the strategy
whose scope surrounds fit) and Keras' dtype policy of the estimator's own layers
(the ``dtype_policy`` parameter).

Both are applied to the estimator's model only: fit never sets Keras' global
dtype policy (``keras.config.set_dtype_policy``) nor enters a strategy scope
that outlives it.
"""

import contextlib

import keras

# The precision of the network's computations: Keras dtype policy names. The
# variables stay float32 under the mixed policies.
DTYPE_POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")

# One MirroredStrategy per list of devices, made on first use and reused by every
# later fit: a strategy sets up its devices and cross-device communication once.
_mirrored = {}


def mirrored_strategy():
    """A ``tf.distribute.MirroredStrategy`` over every logical GPU, or, without
    GPU, every logical CPU device (one, unless the CPU was split into logical
    devices with ``tf.config.set_logical_device_configuration``)."""
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices(
        "CPU"
    )
    names = tuple(device.name for device in devices)
    if names not in _mirrored:
        _mirrored[names] = tf.distribute.MirroredStrategy(list(names))
    return _mirrored[names]


def strategy_scope(strategy):
    """The context fit builds, compiles and trains its network in.

    None: no scope of skcnn's own; a strategy whose scope surrounds fit is then
    the network's (Keras gives a model the strategy it is built under).
    "mirrored": :func:`mirrored_strategy`'s scope, refused inside another
    strategy's scope (TensorFlow cannot nest two strategies).
    """
    if strategy is None:
        return contextlib.nullcontext()
    import tensorflow as tf

    if tf.distribute.has_strategy():
        raise ValueError(
            f"strategy={strategy!r} cannot be used inside the scope of another "
            f"tf.distribute strategy ({type(tf.distribute.get_strategy()).__name__})."
            " Fit with strategy=None to train under the surrounding one."
        )
    return mirrored_strategy().scope()


def _layers(model):
    """Every layer of ``model``, those of nested models included, but not the
    nested models themselves nor the input layers."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        elif not isinstance(layer, keras.layers.InputLayer):
            yield layer


def apply_dtype_policy(model, policy):
    """Give every layer of the built ``model`` but its output layer the dtype
    ``policy`` (a name of :data:`DTYPE_POLICIES`, or None for float32).

    As Keras' mixed-precision guide has it, the output layer (the last of
    ``model.layers``, ``Dense(1, sigmoid)``) keeps float32, so the probabilities
    and the loss are float32; the variables, created float32 when the network was
    built, stay float32 (a mixed policy's variable dtype), and each layer casts
    them to the policy's compute dtype when called (Keras' autocasting). The
    layers' configurations record the policy, so saved models keep it.
    """
    if policy is None or policy == "float32":
        return
    output_layer = model.layers[-1]
    for layer in _layers(model):
        if layer is not output_layer:
            layer.dtype_policy = policy


def loss_scaled(optimizer, policy):
    """``optimizer`` wrapped in ``keras.optimizers.LossScaleOptimizer`` under
    "mixed_float16", whose gradients would underflow float16 without loss
    scaling; unchanged otherwise (bfloat16 has float32's range)."""
    if policy == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def check_even_batches(model, batch_size, parts):
    """Refuse a fit whose first batch of ``parts`` (training, validation: arrays
    or None) would not split evenly over the replicas of ``model``'s strategy.

    Under a strategy of N > 1 replicas, Keras 3.15 builds the model on the
    replicas' share of the first batch and averages them, which fails with an
    unreadable "Inputs to operation AddN ... must have the same size and shape"
    when their shapes differ (keras-team/keras#19246); later uneven batches
    (the last of an epoch) are fine.
    """
    n_replicas = model.distribute_strategy.num_replicas_in_sync
    if n_replicas == 1:
        return
    if batch_size % n_replicas:
        raise ValueError(
            f"batch_size={batch_size} must be a multiple of the {n_replicas} "
            "replicas of the tf.distribute strategy (it is the global batch, "
            "split evenly over them)."
        )
    names = (
        ("training", "the number of samples"),
        ("validation", "validation_fraction"),
    )
    for (name, change), part in zip(names, parts, strict=True):
        if part is not None and len(part) < batch_size and len(part) % n_replicas:
            raise ValueError(
                f"The {len(part)} {name} samples, fewer than batch_size="
                f"{batch_size}, do not split evenly over the {n_replicas} replicas "
                "of the tf.distribute strategy (Keras cannot start from uneven "
                f"batches); change {change} or batch_size."
            )
