"""What X may be for CNNBinaryClassifier, and how it becomes tf.data batches.

X is images (``(n, height, width[, channels])``, uint8 or float), flattened pixels
(``(n, n_features)``, with ``image_shape`` or a guessed square) or image file paths
(a 1-D array or a single column of str or os.PathLike), which are decoded batch by
batch while training, by the engine of ``_decode``. The helpers here check X and y
(with messages that name what is allowed and what was received), tell the shape
and pixel scale of the images, and build the batched ``tf.data`` pipeline
(``make_dataset``) that feeds the network.
"""

import contextlib
import math
import numbers
import os
import re

import numpy as np
import tensorflow as tf
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, check_consistent_length, validate_data

from ._decode import (
    _COLOR_MODES,
    _file_infos,
    _make_decoder,
    _reraise_file_error,
    decode_settings,
)

# uint8 pixels stay uint8 (scaled inside the network); anything else becomes float32.
_DTYPES = (np.float32, np.uint8)
# The colour mode of images with that many channels.
_COLOR_MODE_OF_CHANNELS = {channels: mode for mode, channels in _COLOR_MODES.items()}


# ------------------------------------------------------------------ what X may be
def _as_paths(X):
    """X as a 1-D object array of str paths if it holds image file paths, else None.

    A single column of paths (``df[["path"]]``, shape (n, 1)) is taken as paths;
    strings in any other 2-D array are refused with a message saying so."""
    if isinstance(X, (str, bytes, os.PathLike)):
        return None
    if hasattr(X, "dtype") and np.dtype(X.dtype).kind not in "OUS":
        return None
    try:
        paths = np.asarray(X, dtype=object)
    except (TypeError, ValueError):
        return None
    if paths.ndim == 2 and len(paths):
        is_text = [isinstance(p, (str, os.PathLike)) for p in paths.ravel()]
        if paths.shape[1] == 1 and all(is_text):
            paths = paths[:, 0]
        elif any(is_text):
            raise TypeError(
                f"X is a 2-D array of shape {paths.shape} holding strings. Image "
                "file paths must be a 1-D array or a single column (such as "
                "df['path'] or df[['path']]); images must be arrays of numbers."
            )
    if paths.ndim != 1 or not len(paths):
        return None
    is_path = [isinstance(p, (str, os.PathLike)) for p in paths]
    if all(is_path):
        return np.array([os.fspath(p) for p in paths], dtype=object)
    # Not paths: numbers (or rows of them) are left to check_array; paths mixed
    # with anything else, or entries neither paths nor pixels, are named here.
    pixels = (numbers.Number, np.bool_, np.ndarray, list, tuple)
    for i, p in enumerate(paths):
        if not is_path[i] and (any(is_path) or not isinstance(p, pixels)):
            raise TypeError(
                "X must hold images (arrays of numbers) or image file paths "
                f"(str or os.PathLike). Got {type(p).__name__} at index {i}: {p!r}."
            )
    return None


def _check_label_types(y):
    """Refuse labels mixing strings, numbers and other objects, before NumPy turns
    a list such as [1, "a"] into the strings ["1", "a"]."""
    dtype = getattr(y, "dtype", None)
    if y is None or (dtype is not None and dtype != np.dtype(object)):
        return
    try:
        labels = np.asarray(y, dtype=object).ravel()
    except (TypeError, ValueError):
        return
    kinds = {}
    for label in labels:
        if isinstance(label, str):
            kind = "str"
        elif isinstance(label, (numbers.Number, np.bool_)):
            kind = "number"
        else:
            kind = type(label).__name__
        kinds.setdefault(kind, label)
    if len(kinds) > 1:
        shown = " and ".join(
            f"{type(label).__name__} ({label!r})" for label in kinds.values()
        )
        raise ValueError(
            f"y mixes labels of different types: {shown}. The labels must all be "
            "strings, or all be numbers."
        )


def _encode_binary_targets(y):
    """The two labels of y, sorted (``classes_``), and y as 0.0 and 1.0, the
    indices of its labels among them."""
    check_classification_targets(y)
    y_type = type_of_target(y, input_name="y", raise_unknown=True)
    classes, y_encoded = np.unique(y, return_inverse=True)
    if y_type != "binary" or len(classes) != 2:
        shown = [c.item() if hasattr(c, "item") else c for c in classes[:10]]
        more = ", ..." if len(classes) > 10 else ""
        prefix = (
            f"Only binary classification is supported. The type of the target "
            f"is {y_type}. "
            if y_type != "binary"
            else ""
        )
        raise ValueError(
            f"{prefix}CNNBinaryClassifier supports binary targets only. Got "
            f"{len(classes)} class{'es' if len(classes) != 1 else ''}: "
            f"{str(shown)[:-1]}{more}]."
        )
    return classes, y_encoded.astype(np.float32)


_ARRAY_DUMP = re.compile(r"^\s*(array=|\[)")


@contextlib.contextmanager
def _short_errors():
    """scikit-learn's validation errors without the arrays some of them print
    ("Complex data not supported\\n[[...]]", "array=[...]"): a message names the
    problem, it does not dump the pixels."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        lines = str(exc).splitlines()
        if not any(_ARRAY_DUMP.match(line) for line in lines[1:]):
            raise
        # The first line names the problem; scikit-learn's advice follows the dump.
        kept = [lines[0], *(line for line in lines[1:] if line.startswith("Reshape"))]
        raise type(exc)(" ".join(line.strip() for line in kept)) from None


# ------------------------------------------------------- the shape of the images
def _image_shape_of(X, image_shape):
    """The (height, width, channels) one sample of validated X stands for."""
    if X.ndim == 4:
        shape = X.shape[1:]
    elif X.ndim == 3:
        shape = (*X.shape[1:], 1)
    elif X.ndim == 2:
        n_features = X.shape[1]
        if image_shape is not None:
            shape = tuple(image_shape)
            if len(shape) == 2:
                shape = (*shape, 1)
            if math.prod(shape) != n_features:
                raise ValueError(
                    f"image_shape={tuple(image_shape)!r} holds {math.prod(shape)} "
                    f"pixel values, but X has {n_features} features per sample."
                )
            return shape
        side = math.isqrt(n_features)
        if side * side == n_features:
            return (side, side, 1)
        side = math.isqrt(n_features // 3)
        if n_features % 3 == 0 and side * side == n_features // 3:
            return (side, side, 3)
        return (1, n_features, 1)
    else:
        raise ValueError(
            "X must be images of shape (n_samples, height, width[, channels]) or "
            "flattened pixels of shape (n_samples, n_features). "
            f"Got an array of shape {X.shape}."
        )
    if min(shape) < 1:
        raise ValueError(
            f"X has images of shape {tuple(shape)} (height, width, channels): "
            "each must be at least 1 pixel high and wide, with at least 1 channel."
        )
    if image_shape is not None:
        expected = tuple(image_shape)
        if len(expected) == 2:
            expected = (*expected, 1)
        if expected != tuple(shape):
            raise ValueError(
                f"image_shape={tuple(image_shape)!r} does not match the images in X, "
                f"of shape {tuple(shape)}."
            )
    return tuple(int(d) for d in shape)


def _image_shape_of_paths(image_shape):
    """The (height, width, channels) image files are decoded to."""
    if image_shape is None:
        raise ValueError(
            "X holds image file paths: set image_shape=(height, width, channels) "
            "to say what size and colour mode to decode them to (channels 1 for "
            "grayscale, 3 for RGB, 4 for RGBA)."
        )
    shape = tuple(image_shape)
    if len(shape) == 2:
        shape = (*shape, 1)
    if (
        len(shape) != 3
        or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in shape
        )
        or min(shape) < 1
        or shape[2] not in _COLOR_MODE_OF_CHANNELS
    ):
        raise ValueError(
            "image_shape must be (height, width[, channels]) with positive sizes "
            f"and 1, 3 or 4 channels. Received: image_shape={tuple(image_shape)!r}"
        )
    return tuple(int(d) for d in shape)


def _as_fitted_images(X, image_shape, n_features_in, estimator):
    """Validated X at predict time as a (n, height, width, channels) array of the
    fitted ``image_shape``; ``estimator`` is the class name the errors give."""
    if X.ndim == 2:
        if X.shape[1] != n_features_in:
            raise ValueError(
                f"X has {X.shape[1]} features, but {estimator} is "
                f"expecting {n_features_in} features as input."
            )
    else:
        got = _image_shape_of(X, None)
        if got != image_shape:
            raise ValueError(
                f"X has images of shape {got}, but {estimator} is "
                f"expecting images of shape {image_shape} "
                "(height, width, channels)."
            )
    return X.reshape((len(X), *image_shape))


def _check_one_image(X, image_shape, n_features_in, estimator):
    """Refuse one image given where a batch of images of the fitted
    ``image_shape`` (empty if unknown) is expected."""
    shape = tuple(image_shape)
    try:
        got = tuple(np.shape(X))
    except (TypeError, ValueError):  # ragged: left to the validation
        return
    if not shape or len(got) not in (2, 3):
        return
    if len(got) == 2:
        one, as_batch = shape[:2], (*got[1:], 1)
        if got[1] == n_features_in:
            return  # flattened pixels, as fitted
    else:
        one, as_batch = shape, (*got[1:], 1)
    if as_batch != shape and got == one and (len(got) == 3 or shape[2] == 1):
        raise ValueError(
            f"X is one image of shape {got}, but {estimator} "
            "predicts a batch of images, of shape "
            f"(n_samples, {', '.join(map(str, shape))}): pass X[np.newaxis] "
            f"(shape {(1, *got)})."
        )


def validate_fit_input(estimator, X, y):
    """X as validated images of shape (n, height, width, channels), or a 1-D
    array of image file paths; y; and the (height, width, channels) of one image,
    for ``estimator``'s ``image_shape``."""
    _check_label_types(y)
    paths = _as_paths(X)
    if paths is None:
        with _short_errors():
            X, y = validate_data(estimator, X, y, allow_nd=True, dtype=_DTYPES)
        image_shape = _image_shape_of(X, estimator.image_shape)
        return X.reshape((len(X), *image_shape)), y, image_shape
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target "
            "y is None."
        )
    X, y = paths, np.asarray(y)
    check_consistent_length(X, y)
    return X, y, _image_shape_of_paths(estimator.image_shape)


def validate_predict_input(estimator, X):
    """X as validated images of the shape the fitted ``estimator`` takes, or a 1-D
    array of image file paths."""
    paths = _as_paths(X)
    if paths is not None:
        return paths
    name = type(estimator).__name__
    _check_one_image(
        X,
        getattr(estimator, "image_shape_", ()),
        getattr(estimator, "n_features_in_", None),
        name,
    )
    with _short_errors():
        if getattr(X, "ndim", None) == 2 or hasattr(X, "columns"):
            X = validate_data(estimator, X, reset=False, allow_nd=True, dtype=_DTYPES)
        else:
            X = check_array(
                X, allow_nd=True, dtype=_DTYPES, input_name="X", estimator=estimator
            )
    return _as_fitted_images(X, estimator.image_shape_, estimator.n_features_in_, name)


# ------------------------------------------------------------------ pixel scale
def _pixel_range(X):
    """The pixel scale of validated X: (0, 255) for uint8 images or image files,
    (0, 1) for floats in [0, 1], (0, 255) for other floats in [0, 255], else None
    (not pixels in a common scale: standardized features, say)."""
    if X.dtype in (np.uint8, object):
        return (0, 255)
    if not X.size:
        return None
    low, high = float(X.min()), float(X.max())
    if low < 0 or high > 255:
        return None
    return (0, 1) if high <= 1 else (0, 255)


def _describe_scale(pixel_range):
    return (
        "[0, 255] (uint8 images or image files)"
        if pixel_range == (0, 255)
        else ("[0, 1] (float images)")
    )


def _check_pixel_range(X, fitted, estimator):
    """Refuse images in the other common pixel scale than ``fitted``, the one the
    model was trained on (None: no check)."""
    if fitted is None or not len(X):
        return
    if X.dtype == object:
        if fitted == (0, 1):
            raise ValueError(
                f"This {estimator} was trained on pixels in "
                f"{_describe_scale(fitted)}, but X holds image files, which are "
                "decoded to pixels in [0, 255]. Predict on the images scaled as "
                "for training (ImageLoader().transform(paths) / 255), or refit "
                "on the files."
            )
        return
    high = float(X.max())
    if fitted == (0, 255) and X.dtype != np.uint8 and 0 < high <= 1:
        low = float(X.min())
        if low >= 0:
            raise ValueError(
                f"This {estimator} was trained on pixels in "
                f"{_describe_scale(fitted)}, but X holds {X.dtype} pixels in "
                f"[0, 1] (min {low:.3g}, max {high:.3g}). Pass the images as "
                "for training, e.g. (X * 255).round().astype('uint8'), or refit "
                "on [0, 1] floats."
            )
    if fitted == (0, 1) and high > 1.5:
        raise ValueError(
            f"This {estimator} was trained on pixels in "
            f"{_describe_scale(fitted)}, but X holds {X.dtype} pixels up to "
            f"{high:.4g}, as in [0, 255]. Pass the images as for training, "
            "e.g. X / 255, or refit on these pixels."
        )


# ------------------------------------------------------------ tf.data batches
@contextlib.contextmanager
def _file_errors(X):
    """Re-raises an error of decoding the image files of X inside TensorFlow as
    the error that names the file, rather than as a TensorFlow error."""
    errors = []
    if X.dtype != object:
        yield errors
        return
    with _reraise_file_error(errors, X, fallback=False):
        yield errors


def _check_files(X, image_shape):
    """For X of image file paths, how each file is decoded (its ``_file_infos``
    row), after raising one error naming every file that cannot be opened, before
    training starts; None for arrays."""
    if X.dtype != object:
        return None
    return _file_infos(X, image_shape[:2], scale_down=True)


def _shuffled_each_epoch(n, seed):
    """The indices 0..n-1 in a new order at each iteration (epoch), decided by
    ``seed`` alone.

    ``Dataset.shuffle(seed=...)`` would combine its seed with TensorFlow's global
    seed whenever one is set (``tf.random.set_seed``), so the same
    ``random_state`` would train another model. Here each new iterator counts
    itself in a variable and takes the stateless permutation keyed by
    ``(seed, that count)``.
    """
    iteration = tf.Variable(0, dtype=tf.int64, trainable=False)
    positions = tf.range(n, dtype=tf.int64)

    def permutation(_):
        count = iteration.assign_add(1)
        key = tf.stack([tf.constant(seed, tf.int64), count])
        return tf.random.experimental.stateless_shuffle(positions, seed=key)

    return (
        tf.data.Dataset.range(1)
        .map(permutation)
        .flat_map(tf.data.Dataset.from_tensor_slices)
        .apply(tf.data.experimental.assert_cardinality(n))  # Keras counts batches
    )


def make_dataset(
    X,
    y=None,
    weights=None,
    *,
    image_shape,
    batch_size,
    shuffle_seed=None,
    errors=None,
    infos=None,
    mirror=False,
):
    """A batched tf.data pipeline over the rows of X, shuffled when seeded.

    Batches are gathered from the arrays by index, so the data is not copied
    into a shuffle buffer and uint8 pixels stay uint8 until the network. When
    X holds file paths, each batch is decoded as it is needed, by ImageLoader's
    code (at ``image_shape``, with the ``_file_infos`` rows ``infos``, found
    here if None), several batches in parallel: memory does not grow with the
    number of images. Decoding errors are appended to ``errors``.
    Without y (prediction), the last batch is padded with zeros to
    ``batch_size`` rows: the network then always runs on batches of one shape,
    and the prediction of a sample does not depend on which other samples
    share its batch. With ``mirror`` (prediction only), each such batch is
    followed, in the same tensor of ``2 * batch_size`` rows, by its mirror
    images (left and right swapped), for test-time augmentation: each image
    is read and decoded once.
    """
    if y is None and X.dtype != object:
        batches = _padded_batches(X, batch_size)
        return batches.map(_with_mirror_images) if mirror else batches
    arrays = tuple(a for a in (X, y, weights) if a is not None)
    indices = tf.data.Dataset.range(len(X))
    if shuffle_seed is not None:
        indices = _shuffled_each_epoch(len(X), shuffle_seed)
    tensors = tuple(
        tf.constant(a.astype(str) if a.dtype == object else a) for a in arrays
    )
    decode = None
    if X.dtype == object:
        decode = path_decoder(image_shape, errors)
        height, width, _ = image_shape
        if infos is None:
            infos = _file_infos(X, (height, width), scale_down=True)
        infos = tf.constant(infos)

    def batch(idx):
        parts = [tf.gather(t, idx) for t in tensors]
        if decode is not None:
            parts[0] = decode(parts[0], tf.gather(infos, idx))
        if y is None:
            missing = batch_size - tf.shape(parts[0])[0]
            images = tf.pad(parts[0], [[0, missing], [0, 0], [0, 0], [0, 0]])
            return _with_mirror_images(images) if mirror else images
        return tuple(parts)

    batches = indices.batch(batch_size).map(
        batch, num_parallel_calls=tf.data.AUTOTUNE if decode else None
    )
    return batches.prefetch(tf.data.AUTOTUNE)


def _with_mirror_images(images):
    """A batch of images followed by their mirror images (width reversed)."""
    return tf.concat([images, tf.reverse(images, axis=[2])], axis=0)


def _padded_batches(X, batch_size):
    """The batches of the images X, in order, the last padded with zeros.

    Slicing and batching, with no ``map``, is what a prediction on arrays needs:
    a mapped function would be traced again at every predict call.
    """
    full = len(X) - len(X) % batch_size
    batches = tf.data.Dataset.from_tensor_slices(X[:full]).batch(batch_size)
    if full < len(X):
        last = np.zeros((batch_size, *X.shape[1:]), dtype=X.dtype)
        last[: len(X) - full] = X[full:]
        batches = batches.concatenate(tf.data.Dataset.from_tensors(last))
    return batches.prefetch(tf.data.AUTOTUNE)


def path_decoder(image_shape, errors):
    """A TensorFlow function decoding a batch of paths (and their ``_file_infos``
    rows) to uint8 images of ``image_shape``, by ImageLoader's decoder with its
    default settings (errors naming a file are appended to ``errors``)."""
    height, width, channels = image_shape
    settings = decode_settings(
        (height, width),
        _COLOR_MODE_OF_CHANNELS[channels],
        interpolation="bilinear",
        antialias=False,
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
    )
    decode_one = _make_decoder(settings, errors)
    signature = tf.TensorSpec((height, width, channels), tf.uint8)

    def decode(paths, infos):
        return tf.map_fn(
            lambda args: decode_one(args[0], *tf.unstack(args[1])),
            (paths, infos),
            fn_output_signature=signature,
        )

    return decode
