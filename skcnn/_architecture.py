"""build_cnn: the CNN behind CNNBinaryClassifier, as a plain function."""

import itertools
import numbers

import keras
import numpy as np
from keras import layers

# Keras' RandomShear, with a configuration that loads back (see utils/_tf_compat.py).
from .utils._tf_compat import RandomShear

_POOLING_LAYERS = {"max": layers.MaxPooling2D, "average": layers.AveragePooling2D}
_GLOBAL_POOLING_LAYERS = {
    "max": layers.GlobalMaxPooling2D,
    "average": layers.GlobalAveragePooling2D,
}
# Keras' default momentum, 0.99, leaves the moving variance near its initial 1 for
# hundreds of steps, far above the variance of small images' first convolutions:
# predictions in inference mode are then constant for the first ~15 epochs of a
# 1,000-image set. 0.9 (PyTorch's 0.1) follows the batches within ~50 steps.
_BN_MOMENTUM = 0.9
# What CNNBinaryClassifier(augment="auto") trains a network from scratch with
# (measured on the shared datasets, see the user guide's accuracy table).
# Nearest-neighbour resampling: with bilinear, every training image is blurred
# (three resamplings), the network learns blurred images and its predictions on
# sharp ones are biased (the user guide's "Defaults" section has the measures).
AUTO_AUGMENT = {
    "flip": "horizontal",
    "rotation": 0.05,
    "zoom": 0.1,
    "translation": 0.1,
    "interpolation": "nearest",
}
_AUGMENT_KEYS = ("flip", "rotation", "zoom", "shear", "translation", "contrast")
# How the geometric augmentations resample, as Keras' layers name it.
_INTERPOLATIONS = ("bilinear", "nearest")
# augment["flip"] values that flip left and right.
_HORIZONTAL_FLIPS = ("horizontal", "horizontal_and_vertical")


def _augmentation_layers(augment, value_range, next_seed):
    """Keras random preprocessing layers for the ``augment`` dict (or "auto":
    AUTO_AUGMENT), in a fixed order."""
    if isinstance(augment, str) and augment == "auto":
        augment = AUTO_AUGMENT
    if not isinstance(augment, dict):
        raise TypeError(
            f'`augment` must be a dict, "auto" or None. Received: augment={augment!r}'
        )
    unknown = sorted(set(augment) - {*_AUGMENT_KEYS, "interpolation"})
    if unknown:
        raise ValueError(
            f"`augment` keys must be among {[*_AUGMENT_KEYS, 'interpolation']}. "
            f"Received unknown keys {unknown} in augment={augment!r}"
        )
    interpolation = augment.get("interpolation", "bilinear")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f'`augment["interpolation"]` must be one of {set(_INTERPOLATIONS)}. '
            f"Received: {interpolation!r}"
        )
    resample = {"interpolation": interpolation}
    out = []
    if augment.get("flip"):
        flip = augment["flip"]
        if flip not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(
                '`augment["flip"]` must be one of {"horizontal", "vertical", '
                f'"horizontal_and_vertical"}}. Received: {flip!r}'
            )
        out.append(layers.RandomFlip(flip, seed=next_seed(), name="augment_flip"))
    for key in _AUGMENT_KEYS[1:]:
        factor = augment.get(key)
        if not factor:
            continue
        if not isinstance(factor, numbers.Real) or not 0 < factor <= 1:
            raise ValueError(
                f'`augment["{key}"]` must be a float in (0, 1]. Received: {factor!r}'
            )
        name, seed = f"augment_{key}", next_seed()
        if key == "rotation":
            out.append(layers.RandomRotation(factor, seed=seed, name=name, **resample))
        elif key == "zoom":
            out.append(layers.RandomZoom(factor, seed=seed, name=name, **resample))
        elif key == "shear":
            out.append(RandomShear(factor, factor, seed=seed, name=name, **resample))
        elif key == "translation":
            out.append(
                layers.RandomTranslation(
                    factor, factor, seed=seed, name=name, **resample
                )
            )
        else:
            out.append(
                layers.RandomContrast(
                    factor, value_range=value_range, seed=seed, name=name
                )
            )
    return out


def _as_blocks(filters, convs_per_block):
    """Expand ``filters`` into one tuple of convolution widths per block."""
    if isinstance(filters, numbers.Integral):
        filters = (filters,)
    try:
        entries = list(filters)
    except TypeError:
        raise TypeError(
            "`filters` must be a sequence with one entry per convolution block, each "
            f"an int or a tuple of ints. Received: filters={filters!r}"
        ) from None
    blocks = []
    for entry in entries:
        if isinstance(entry, numbers.Integral):
            widths = (entry,) * convs_per_block
        elif isinstance(entry, (tuple, list)):
            widths = tuple(entry)
        else:
            widths = ()  # not an int nor a tuple: the error below
        if not widths or not all(
            isinstance(w, numbers.Integral) and not isinstance(w, bool) and w >= 1
            for w in widths
        ):
            raise ValueError(
                "`filters` entries must be positive ints or non-empty tuples of "
                f"positive ints. Received: filters={filters!r}"
            )
        blocks.append(tuple(int(w) for w in widths))
    return blocks


def _check_int(name, value, low):
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or value < low
    ):
        raise ValueError(
            f"`{name}` must be an int >= {low}. Received: {name}={value!r}"
        )


def _check_rate(name, value):
    if not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(
            f"`{name}` must be a float in [0, 1). Received: {name}={value!r}"
        )


def _seed_sequence(seed):
    """``next_seed()``: successive seeds from ``seed`` (None: None every time),
    one per random layer or initializer, in the order the network is built."""
    seeds = None if seed is None else itertools.count(int(seed))

    def next_seed():
        return None if seeds is None else next(seeds) % (2**31 - 1)

    return next_seed


def _check_head(dropout, dense_units):
    """``dense_units`` as a tuple, after checking it and ``dropout``."""
    _check_rate("dropout", dropout)
    dense_units = tuple(dense_units)
    for units in dense_units:
        _check_int("dense_units", units, 1)
    return dense_units


def _head_layers(dense_units, dropout, activation, next_seed):
    """The dense head, in order: ``Dense(u)`` per hidden unit count, a
    ``Dropout(dropout)`` (none if 0) and the ``Dense(1, sigmoid)`` output."""
    head = [
        layers.Dense(
            units,
            activation=activation,
            kernel_initializer=keras.initializers.GlorotUniform(seed=next_seed()),
            name=f"dense{i}",
        )
        for i, units in enumerate(dense_units, start=1)
    ]
    if dropout:
        head.append(layers.Dropout(dropout, seed=next_seed(), name="dropout"))
    head.append(
        layers.Dense(
            1,
            activation="sigmoid",
            kernel_initializer=keras.initializers.GlorotUniform(seed=next_seed()),
            name="output",
        )
    )
    return head


def _shrunk(size, window, padding, strides):
    if padding == "same":
        return -(-size // strides)
    return (size - window) // strides + 1


def resolve_batch_norm(batch_norm, input_shape):
    """``batch_norm`` as a bool: "auto" is True for colour images (3 channels)."""
    if isinstance(batch_norm, str) and batch_norm == "auto":
        return tuple(input_shape)[-1] == 3
    if not isinstance(batch_norm, bool):
        raise TypeError(
            '`batch_norm` must be a bool or "auto". '
            f"Received: batch_norm={batch_norm!r}"
        )
    return batch_norm


def resolve_test_time_augmentation(value, *, augment, backbone, channels):
    """``test_time_augmentation`` as "flip" or None: "auto" is "flip" for a
    network trained from scratch (no ``backbone``) on colour images (3
    ``channels``) with random horizontal flips in its ``augment``."""
    if not (isinstance(value, str) and value == "auto"):
        return value
    if isinstance(augment, str) and augment == "auto":
        augment = AUTO_AUGMENT
    flips = isinstance(augment, dict) and augment.get("flip") in _HORIZONTAL_FLIPS
    return "flip" if backbone is None and channels == 3 and flips else None


def mirror_averaged(model):
    """``model`` averaged with itself on the mirror image of its input (left and
    right swapped), as the estimator predicts with
    ``test_time_augmentation="flip"``. Built of standard layers only, so that
    ``keras.saving.load_model(..., safe_mode=True)`` loads it: the mirror image
    is a non-trainable ``Dense`` layer whose kernel is the anti-diagonal
    permutation, applied along the width (exact for finite pixel values)."""
    height, width, channels = model.input_shape[1:]
    image = keras.Input(shape=(height, width, channels), name="image")
    mirror = layers.Dense(width, use_bias=False, trainable=False, name="mirror")
    across = layers.Permute((1, 3, 2), name="width_last")(image)
    flipped = layers.Permute((1, 3, 2), name="width_back")(mirror(across))
    mirror.set_weights([np.eye(width, dtype="float32")[::-1]])
    both = [model(image), model(flipped)]
    output = layers.Average(name="mean_with_mirror")(both)
    return keras.Model(image, output, name=f"{model.name}_with_mirror")


def build_cnn(
    input_shape,
    filters=(16, 32, 64, 128),
    *,
    kernel_size=3,
    convs_per_block=1,
    pooling="max",
    pool_size=2,
    padding="same",
    block_dropout=0.0,
    dense_units=(),
    dropout=0.3,
    activation="relu",
    batch_norm="auto",
    global_pooling="average",
    rescale=None,
    augment="auto",
    seed=None,
):
    """Build an uncompiled Keras CNN with one sigmoid output for binary classification.

    The network is a stack of convolution blocks followed by a dense head::

        Input -> [Rescaling] -> block 1 -> ... -> block k -> Flatten (or global pooling)
              -> Dense(u1) -> ... -> Dense(um) -> Dropout(dropout) -> Dense(1, sigmoid)

    where each block is ``Conv2D`` layers (one per width, each followed by a
    ``BatchNormalization`` and an ``Activation`` layer when ``batch_norm``), a pooling
    layer and, when ``block_dropout > 0``, a ``Dropout`` layer.

    Parameters
    ----------
    input_shape : tuple of int
        ``(height, width, channels)`` of one image.

    filters : sequence of int or of tuple of int, default=(16, 32, 64, 128)
        One entry per convolution block. An int is the number of filters of each of
        the block's ``convs_per_block`` convolutions; a tuple lists the filters of the
        block's convolutions one by one, e.g. ``((32, 64), 64, 128)``.

    kernel_size : int, default=3
        Height and width of every convolution window.

    convs_per_block : int, default=1
        Number of convolutions in a block whose ``filters`` entry is an int.

    pooling : {"max", "average"} or None, default="max"
        Pooling layer closing each block; None for no pooling.

    pool_size : int, default=2
        Pooling window and stride.

    padding : {"same", "valid"}, default="same"
        Padding of the convolutions and pooling layers, as in Keras.

    block_dropout : float, default=0.0
        Rate of a ``Dropout`` layer closing each block; 0 adds none.

    dense_units : sequence of int, default=()
        Units of the hidden ``Dense`` layers of the head, in order.

    dropout : float, default=0.3
        Rate of the ``Dropout`` layer just before the output layer; 0 adds none.

    activation : str, default="relu"
        Activation of the convolutions and hidden dense layers.

    batch_norm : bool or "auto", default="auto"
        Whether each convolution, then without bias, is followed by a
        ``BatchNormalization`` layer and then its activation (an ``Activation``
        layer). At inference, batch normalization uses the moving statistics
        learnt in training, so a prediction does not depend on its batch. "auto":
        for colour images (3 channels) only. Measured on the shared datasets (the
        user guide's "Accuracy on real images"), it raised the test accuracy on
        photos (cats_vs_dogs, 128x128 RGB) and lowered it on 28x28 grayscale
        X-rays (pneumoniamnist), whose ROC AUC it left about the same.

    global_pooling : {"average", "max"} or None, default="average"
        A ``GlobalAveragePooling2D`` or ``GlobalMaxPooling2D`` layer between the
        last block and the dense head: one value per filter of the last
        convolution, whatever the image size. None: a ``Flatten`` layer.

    rescale : float or None, default=None
        If not None, a ``Rescaling(rescale)`` layer first scales the pixels, e.g.
        ``1 / 255`` for uint8 images.

    augment : dict, "auto" or None, default="auto"
        Random data augmentation, active only in training (Keras' random
        preprocessing layers are the identity at inference). "auto" is
        ``{"flip": "horizontal", "rotation": 0.05, "zoom": 0.1, "translation":
        0.1, "interpolation": "nearest"}``; None adds no augmentation. A dict's
        keys, each optional: ``"flip"`` ("horizontal", "vertical" or
        "horizontal_and_vertical"), factors in (0, 1] for ``"rotation"``
        (fraction of a full turn), ``"zoom"``, ``"shear"``, ``"translation"``
        (fractions of the image size) and ``"contrast"``, and
        ``"interpolation"`` ("bilinear", the default, or "nearest"), how the
        geometric ones resample. They map to ``RandomFlip``, ``RandomRotation``,
        ``RandomZoom``, ``RandomShear``, ``RandomTranslation`` and
        ``RandomContrast``, placed right after the input (before any
        ``Rescaling``). The COVID X-ray tutorial's recipe is
        ``{"shear": 0.2, "zoom": 0.2, "flip": "horizontal"}``. Bilinear
        resampling blurs every training image, so that a network can learn
        blurred images and be biased on sharp ones: "auto" resamples with
        "nearest".

    seed : int or None, default=None
        Seeds every initializer and dropout layer, each with its own derived seed,
        so that two builds with the same seed are identical. None leaves Keras'
        unseeded behaviour.

    Returns
    -------
    model : keras.Model
        An uncompiled functional model mapping images to the probability of the
        positive class, shape ``(n_samples, 1)``.

    Examples
    --------
    The MNIST 7-vs-8 tutorial network (Flatten head, no augmentation):

    >>> from skcnn import build_cnn
    >>> model = build_cnn((28, 28, 1), filters=(32, 64), padding="valid",
    ...                   dropout=0.5, global_pooling=None, augment=None)
    >>> model.count_params()
    20417
    """
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise ValueError(
            "`input_shape` must be (height, width, channels) of positive ints. "
            f"Received: input_shape={input_shape!r}"
        )
    _check_int("convs_per_block", convs_per_block, 1)
    _check_int("kernel_size", kernel_size, 1)
    if pooling is not None:
        if pooling not in _POOLING_LAYERS:
            raise ValueError(
                '`pooling` must be one of {"max", "average", None}. '
                f"Received: pooling={pooling!r}"
            )
        _check_int("pool_size", pool_size, 1)
    if padding not in ("same", "valid"):
        raise ValueError(
            '`padding` must be one of {"same", "valid"}. '
            f"Received: padding={padding!r}"
        )
    batch_norm = resolve_batch_norm(batch_norm, input_shape)
    if global_pooling is not None and global_pooling not in _GLOBAL_POOLING_LAYERS:
        raise ValueError(
            '`global_pooling` must be one of {"average", "max", None}. '
            f"Received: global_pooling={global_pooling!r}"
        )
    _check_rate("block_dropout", block_dropout)
    dense_units = _check_head(dropout, dense_units)
    blocks = _as_blocks(filters, convs_per_block)
    next_seed = _seed_sequence(seed)

    def initializer():
        return keras.initializers.GlorotUniform(seed=next_seed())

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    if augment:
        # Before the scaling: contrast is clipped to the pixels' own range.
        value_range = (0, 255) if rescale is not None else (0, 1)
        for layer in _augmentation_layers(augment, value_range, next_seed):
            x = layer(x)
    if rescale is not None:
        x = layers.Rescaling(rescale, name="rescaling")(x)
    height, width = input_shape[:2]
    for b, widths in enumerate(blocks, start=1):
        for c, n_filters in enumerate(widths, start=1):
            name = f"block{b}_conv{c}"
            new = (
                _shrunk(height, kernel_size, padding, 1),
                _shrunk(width, kernel_size, padding, 1),
            )
            _check_size(name, f"Conv2D(kernel_size={kernel_size})", height, width, new)
            height, width = new
            x = layers.Conv2D(
                n_filters,
                kernel_size,
                padding=padding,
                activation=None if batch_norm else activation,
                use_bias=not batch_norm,
                kernel_initializer=initializer(),
                name=name,
            )(x)
            if batch_norm:
                x = layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"{name}_bn")(
                    x
                )
                x = layers.Activation(activation, name=f"{name}_act")(x)
        if pooling is not None:
            name = f"block{b}_pool"
            new = (
                _shrunk(height, pool_size, padding, pool_size),
                _shrunk(width, pool_size, padding, pool_size),
            )
            _check_size(name, f"pool_size={pool_size}", height, width, new)
            height, width = new
            x = _POOLING_LAYERS[pooling](pool_size, padding=padding, name=name)(x)
        if block_dropout:
            x = layers.Dropout(
                block_dropout, seed=next_seed(), name=f"block{b}_dropout"
            )(x)
    if global_pooling is None:
        x = layers.Flatten(name="flatten")(x)
    else:
        layer = _GLOBAL_POOLING_LAYERS[global_pooling]
        x = layer(name=f"global_{global_pooling}_pooling")(x)
    for layer in _head_layers(dense_units, dropout, activation, next_seed):
        x = layer(x)
    return keras.Model(inputs, x, name="cnn")


def _check_size(layer, what, height, width, new):
    if min(new) < 1:
        raise ValueError(
            f"The network shrinks the image below 1 pixel: layer {layer} "
            f"({what}) receives {height}x{width} and would output "
            f"{max(new[0], 0)}x{max(new[1], 0)}. Use padding='same', a smaller "
            "kernel_size or pool_size, fewer blocks in `filters`, or larger images."
        )
