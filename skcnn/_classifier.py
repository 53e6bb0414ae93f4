"""CNNBinaryClassifier: a scikit-learn classifier over a Keras 3 CNN."""

import contextlib
import math
import numbers
import os
import re
import warnings

import keras
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ._architecture import build_cnn
from ._image import (
    ImageLoader,
    _file_infos,
    _make_decoder,
    _release_iterators,
    _reraise_file_error,
)
from ._persist import _VersionedPickleMixin
from ._threads import size_thread_pools
from .utils._sklearn_compat import (
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)
from .utils._tf_compat import silence_retracing_warnings

_MAX_SEED = 2**31 - 1
_COLOR_MODES = {1: "grayscale", 3: "rgb", 4: "rgba"}
# uint8 pixels stay uint8 (scaled inside the network); anything else becomes float32.
_DTYPES = (np.float32, np.uint8)


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
    return "[0, 255] (uint8 images or image files)" if pixel_range == (0, 255) else (
        "[0, 1] (float images)"
    )


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
        or shape[2] not in _COLOR_MODES
    ):
        raise ValueError(
            "image_shape must be (height, width[, channels]) with positive sizes "
            f"and 1, 3 or 4 channels. Received: image_shape={tuple(image_shape)!r}"
        )
    return tuple(int(d) for d in shape)


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


def _release_gradient_registrations(model):
    """Unregister the gradient functions TensorFlow registered, globally and for
    good, while tracing ``model``'s training step.

    Keras sums the gradients over replicas (``all_reduce``, even with one replica)
    inside a ``tf.custom_gradient``. Traced in a graph, each such call registers a
    ``"CustomGradient-<n>"`` gradient function in TensorFlow's process-wide
    gradient registry, which is never emptied, and that function's closure holds
    the tensors, hence the whole traced graph, of the step: 2.5 to 3 MB per fit
    (measured), for the life of the process. The registered function would only
    be looked up by ``tf.gradients`` over the traced step, which nothing does
    once it is traced (a second-order gradient through the optimizer update).
    Only the entries whose graph uses one of ``model``'s variables are removed:
    another model, being fitted in another thread, keeps its own.
    """
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):
        return  # another TensorFlow: nothing we know how to release
    try:  # memory hygiene, never a reason for a fit to fail
        # A traced graph captures the resource handles of the variables it uses.
        variables = [*model.variables, *getattr(model.optimizer, "variables", ())]
        ours = {id(v.value.handle) for v in variables}
        for name in [n for n in list(registry) if n.startswith("CustomGradient-")]:
            entry = registry.get(name)
            grad_fn = entry.get("type") if isinstance(entry, dict) else None
            captured = getattr(_traced_graph(grad_fn), "external_captures", ())
            if any(id(tensor) in ours for tensor in captured):
                registry.pop(name, None)
    except Exception:  # a TensorFlow or Keras whose internals differ
        pass


def _traced_graph(grad_fn):
    """The graph of the tensors a registered custom gradient function holds, or
    None if it is not one of tf.custom_gradient's (see TensorFlow's
    ops/custom_gradient.py, _graph_mode_decorator)."""

    def free_variables(fn):
        code, closure = getattr(fn, "__code__", None), getattr(fn, "__closure__", None)
        if code is None or closure is None:
            return {}
        try:
            return {
                k: c.cell_contents
                for k, c in zip(code.co_freevars, closure, strict=True)
            }
        except ValueError:  # an empty cell
            return {}

    tape_grad_fn = free_variables(grad_fn).get("tape_grad_fn")
    result = free_variables(tape_grad_fn).get("result")
    for tensor in tf.nest.flatten(result):
        graph = getattr(tensor, "graph", None)
        if graph is not None:
            return graph
    return None


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


class CNNBinaryClassifier(_VersionedPickleMixin, ClassifierMixin, BaseEstimator):
    """Convolutional neural network for binary image classification.

    A scikit-learn classifier that builds a Keras 3 CNN (see :func:`build_cnn`) in
    ``fit`` from its parameters and the shape of the images, trains it with binary
    cross-entropy, and predicts the original labels.

    Parameters
    ----------
    filters : sequence of int or of tuple of int, default=(32, 64)
        One entry per convolution block: the number of filters of each of its
        ``convs_per_block`` convolutions, or a tuple listing the filters of the
        block's convolutions one by one.

    dropout : float, default=0.5
        Rate of the ``Dropout`` layer just before the output layer; 0 for none.

    kernel_size : int, default=3
        Height and width of every convolution window.

    convs_per_block : int, default=1
        Convolutions in a block whose ``filters`` entry is an int.

    pooling : {"max", "average"} or None, default="max"
        Pooling layer closing each block; None for none.

    pool_size : int, default=2
        Pooling window and stride.

    padding : {"same", "valid"}, default="same"
        Padding of convolutions and pooling. "same" works for images of any size;
        published architectures often use "valid".

    block_dropout : float, default=0.0
        Rate of a ``Dropout`` layer closing each block; 0 for none.

    dense_units : sequence of int, default=()
        Units of the hidden ``Dense`` layers of the head.

    activation : str, default="relu"
        Activation of convolutions and hidden dense layers (a Keras name).

    augment : dict or None, default=None
        Random data augmentation applied while training only, never at predict
        time, seeded by ``random_state``. Keys, each optional: ``"flip"``
        ("horizontal", "vertical" or "horizontal_and_vertical") and factors in
        (0, 1] for ``"rotation"``, ``"zoom"``, ``"shear"``, ``"translation"`` and
        ``"contrast"`` (Keras' ``RandomFlip``, ``RandomRotation``, ... layers, see
        :func:`build_cnn`). The COVID X-ray tutorial's recipe is
        ``{"shear": 0.2, "zoom": 0.2, "flip": "horizontal"}``. Contrast assumes
        uint8 pixels, or float pixels in [0, 1].

    image_shape : tuple of int or None, default=None
        ``(height, width[, channels])`` of one image when X is given as flattened
        pixels of shape ``(n_samples, n_features)``, or the size and colour mode
        (1 channel: grayscale, 3: RGB, 4: RGBA; 1 if omitted) image files are
        decoded to when X is a 1-D array of paths (then it is required). For
        flattened pixels and None, a square grayscale image is assumed if
        ``n_features`` is a square, then a square RGB image if ``n_features / 3``
        is, else a ``1 x n_features`` strip. For image arrays it only checks their
        shape.

    optimizer : str or keras.optimizers.Optimizer, default="adam"
        A Keras optimizer name, or an optimizer whose configuration is copied for
        each fit.

    learning_rate : float, default=0.001
        Learning rate given to the optimizer.

    epochs : int, default=10
        Maximum number of passes over the training data.

    batch_size : int, default=32
        Samples per gradient update, and per prediction batch.

    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data (a
        stratified, seeded split) and stop when its loss has not improved for
        ``n_iter_no_change`` epochs, restoring the weights of the best epoch.

    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping`` is True.

    n_iter_no_change : int, default=5
        Epochs without improvement of the validation loss before stopping.

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, keyed by label, as in scikit-learn: "balanced"
        weighs each class by ``n_samples / (2 * n_samples_of_class)``.

    metrics : list of str or keras.metrics.Metric, default=("accuracy",)
        Keras metrics computed at every epoch, on the training data and (with
        ``early_stopping``) on the validation data, recorded in ``history_``
        under their Keras names (``"accuracy"``, ``"val_accuracy"``, ...). They
        do not change training. Give names (such as ``"auc"``, ``"precision"``,
        ``"recall"``) for models saved with :func:`skcnn.save`.

    callbacks : list of keras.callbacks.Callback or None, default=None
        Keras callbacks passed through to ``keras.Model.fit``.

    random_state : int, RandomState instance or None, default=None
        Seeds the weights, dropout, shuffling and validation split. An int makes
        ``fit`` reproducible, without touching any global random generator.

    verbose : int, default=0
        Keras verbosity of ``fit``: 0 is silent (as scikit-learn estimators
        are), 1 shows a progress bar, 2 one line per epoch. With 1, a
        prediction spanning several batches shows a progress bar too; with 0
        and 2, predictions print nothing.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two class labels, sorted; ``classes_[1]`` is the positive class.

    model_ : keras.Model
        The trained network (compiled), mapping images to the probability of
        ``classes_[1]``.

    history_ : dict of str to list of float
        Per-epoch loss and ``metrics`` (``"loss"``, ``"accuracy"``, ...), as in
        ``keras.callbacks.History``; with ``early_stopping``, the ``val_``
        entries too. Plot ``history_["accuracy"]`` against
        ``history_["val_accuracy"]`` for the learning curves.

    n_iter_ : int
        Number of epochs run.

    best_epoch_ : int
        The epoch (counted from 1) whose weights the model holds: with
        ``early_stopping``, the one with the lowest validation loss (its weights
        are restored), else the last, ``n_iter_``.

    pixel_range_ : tuple of (int, int) or None
        The pixel scale the network was trained on: ``(0, 255)`` for uint8
        images, image files and float images with values up to 255, ``(0, 1)``
        for float images in [0, 1], None for inputs that are in neither (such
        as standardized features). Predictions on images in the other scale are
        refused with an error saying so, rather than silently wrong.

    image_shape_ : tuple of int
        ``(height, width, channels)`` of the images the network takes.

    n_features_in_ : int
        Number of pixel values per sample, ``height * width * channels``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    build_cnn : The function that builds the network.
    make_baseline : A logistic-regression pipeline taking the same input.

    Notes
    -----
    uint8 pixels are scaled by 1/255 inside the network (a ``Rescaling`` layer), so
    the data stays uint8 in memory; the fitted network applies the same scaling to
    whatever it is given at predict time. Float input is used as it is. The fitted
    model records its pixel scale (``pixel_range_``) and refuses, with a message
    naming both scales, images in the other common scale: float pixels in [0, 1]
    (``X / 255``, as Keras tutorials prepare them) for a model trained on uint8
    images, or 0-255 pixels (uint8 or image files) for a model trained on floats
    in [0, 1].

    Examples
    --------
    >>> from skcnn import CNNBinaryClassifier
    >>> from skcnn.datasets import load_digits_pair
    >>> X, y = load_digits_pair(return_X_y=True)
    >>> clf = CNNBinaryClassifier(filters=(8,), epochs=3, random_state=0, verbose=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        "filters": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "convs_per_block": [Interval(numbers.Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"max", "average"}), None],
        "pool_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "padding": [StrOptions({"same", "valid"})],
        "block_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "dense_units": ["array-like"],
        "activation": [str],
        "augment": [dict, None],
        "image_shape": ["array-like", None],
        "optimizer": [str, keras.optimizers.Optimizer],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "metrics": [list, tuple, None],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        filters=(32, 64),
        dropout=0.5,
        *,
        kernel_size=3,
        convs_per_block=1,
        pooling="max",
        pool_size=2,
        padding="same",
        block_dropout=0.0,
        dense_units=(),
        activation="relu",
        augment=None,
        image_shape=None,
        optimizer="adam",
        learning_rate=0.001,
        epochs=10,
        batch_size=32,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        metrics=("accuracy",),
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.filters = filters
        self.dropout = dropout
        self.kernel_size = kernel_size
        self.convs_per_block = convs_per_block
        self.pooling = pooling
        self.pool_size = pool_size
        self.padding = padding
        self.block_dropout = block_dropout
        self.dense_units = dense_units
        self.activation = activation
        self.augment = augment
        self.image_shape = image_shape
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.metrics = metrics
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.three_d_array = True
        return tags

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Build and train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels]) or \
                (n_samples, n_features) or (n_samples,)
            Images (uint8 pixels are scaled by 1/255 inside the network, float
            pixels are used as given), flattened pixels (see ``image_shape``), or
            image file paths (str or os.PathLike), which are streamed from disk:
            decoded batch by batch (by :class:`ImageLoader`'s code, at
            ``image_shape``) while training, so memory does not grow with their
            number. A file that cannot be read raises an error naming it.

        y : array-like of shape (n_samples,)
            Labels of exactly two classes (strings, ints or bools).

        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss, multiplied by ``class_weight``.

        Returns
        -------
        self : CNNBinaryClassifier
            The fitted estimator.

        Notes
        -----
        ``fit`` starts by removing the fitted attributes of a previous fit, and a
        fit that raises leaves the estimator unfitted (``check_is_fitted`` raises
        ``NotFittedError``), never with this fit's ``classes_`` beside the previous
        fit's ``model_``. The one exception is an interruption (Ctrl-C, i.e.
        ``KeyboardInterrupt``) during training after at least one epoch ended
        (its training pass, and validation pass with ``early_stopping``): the
        estimator is then fitted with the weights so far (including the updates
        of the batches of the interrupted epoch), ``history_`` and ``n_iter_``
        cover the epochs that ended, a ``UserWarning`` says so, and the
        ``KeyboardInterrupt`` is raised again, so a script still stops. With
        ``early_stopping``, the weights are those of the best epoch early
        stopping had checked, as an uninterrupted fit would restore them.
        Interrupted before its first epoch ended, the estimator is unfitted and
        the ``KeyboardInterrupt`` is raised again.
        """
        size_thread_pools()
        self._clear_fitted()
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            # Fitted only if this fit got as far as setting model_ (it is set
            # last), i.e. finished or was interrupted after an epoch.
            if not hasattr(self, "model_"):
                self._clear_fitted()
            raise

    def _clear_fitted(self):
        """Remove the fitted attributes: those check_is_fitted looks for."""
        for name in [a for a in vars(self) if a.endswith("_") and a[:2] != "__"]:
            delattr(self, name)

    def _fit(self, X, y, sample_weight):
        _check_label_types(y)
        paths = _as_paths(X)
        if paths is None:
            with _short_errors():
                X, y = validate_data(self, X, y, allow_nd=True, dtype=_DTYPES)
            X = self._as_images(X, fitting=True)
        else:
            if y is None:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target "
                    "y is None."
                )
            X, y = paths, np.asarray(y)
            check_consistent_length(X, y)
            self.image_shape_ = _image_shape_of_paths(self.image_shape)
            self.n_features_in_ = math.prod(self.image_shape_)
        pixel_range = _pixel_range(X)
        y_encoded = self._encode_targets(y)
        metrics = self._check_metrics()
        for i, callback in enumerate(self.callbacks or []):
            if not isinstance(callback, keras.callbacks.Callback):
                raise TypeError(
                    "`callbacks` must be a list of keras.callbacks.Callback. Got "
                    f"{type(callback).__name__} at index {i}: {callback!r}."
                )
        if isinstance(self.class_weight, dict):
            unknown = [k for k in self.class_weight if k not in set(self.classes_)]
            if unknown:
                raise ValueError(
                    f"class_weight names labels that are not classes of y: {unknown}. "
                    f"The classes are {self.classes_.tolist()}."
                )
        weights = _check_sample_weight(sample_weight, X, dtype=np.float32)
        if self.class_weight is not None:
            weights = weights * compute_sample_weight(self.class_weight, y)
        weights = weights.astype(np.float32)

        rng = check_random_state(self.random_state)
        build_seed, shuffle_seed, split_seed = (
            int(s) for s in rng.randint(0, _MAX_SEED, size=3)
        )

        validation = None
        all_X = X
        infos = validation_infos = None
        if X.dtype == object:
            # Every file that cannot be opened is named now, in one error,
            # before training starts.
            infos = _file_infos(X, self.image_shape_[:2], scale_down=True)
        callbacks = list(self.callbacks or [])
        if self.early_stopping:
            try:
                train, val = train_test_split(
                    np.arange(len(X)),
                    test_size=self.validation_fraction,
                    stratify=y_encoded,
                    random_state=split_seed,
                )
            except ValueError as exc:
                raise ValueError(
                    "early_stopping=True cannot hold out a stratified "
                    f"validation_fraction={self.validation_fraction} of the "
                    f"{len(X)} training samples: {exc}"
                ) from exc
            validation = (X[val], y_encoded[val], weights[val])
            X, y_encoded, weights = X[train], y_encoded[train], weights[train]
            if infos is not None:
                validation_infos, infos = infos[val], infos[train]
            stopper = keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=self.n_iter_no_change,
                restore_best_weights=True,
            )
            callbacks.append(stopper)

        model = build_cnn(
            self.image_shape_,
            self.filters,
            kernel_size=self.kernel_size,
            convs_per_block=self.convs_per_block,
            pooling=self.pooling,
            pool_size=self.pool_size,
            padding=self.padding,
            block_dropout=self.block_dropout,
            dense_units=self.dense_units,
            dropout=self.dropout,
            activation=self.activation,
            augment=self.augment,
            rescale=1 / 255 if X.dtype in (np.uint8, object) else None,
            seed=build_seed,
        )
        model.compile(
            optimizer=self._make_optimizer(),
            loss="binary_crossentropy",
            metrics=metrics,
        )
        # Creating the optimizer's variables now, not inside the first traced
        # training step, spares TensorFlow a second trace of that step.
        model.optimizer.build(model.trainable_variables)
        epoch_logs = _EpochLogs()
        try:
            with silence_retracing_warnings(), _file_errors(all_X) as errors:
                if validation is not None:
                    validation = self._dataset(
                        *validation, errors=errors, infos=validation_infos
                    )
                history = model.fit(
                    self._dataset(
                        X,
                        y_encoded,
                        weights,
                        shuffle_seed=shuffle_seed,
                        errors=errors,
                        infos=infos,
                    ),
                    epochs=self.epochs,
                    validation_data=validation,
                    callbacks=[epoch_logs, *callbacks],
                    shuffle=False,
                    verbose=self.verbose,
                )
        except KeyboardInterrupt as interrupt:
            _release_iterators(interrupt)  # freed before the program stops
            n_epochs = len(getattr(epoch_logs, "epochs", ()))
            if not n_epochs:
                raise  # fit() leaves the estimator unfitted
            message = (
                f"fit was interrupted (KeyboardInterrupt) after {n_epochs} "
                f"completed epoch{'s' * (n_epochs > 1)} of {self.epochs}: the "
                "estimator is fitted and its model holds the weights so far"
            )
            if self.early_stopping and stopper.best_weights is not None:
                # What EarlyStopping.on_train_end, not reached, would have done.
                model.set_weights(stopper.best_weights)
                message += (
                    ", those of the best epoch early stopping had checked "
                    f"(epoch {stopper.best_epoch + 1})"
                )
            self.history_ = epoch_logs.history()
            self.n_iter_ = n_epochs
            self.best_epoch_ = n_epochs
            if self.early_stopping and stopper.best_weights is not None:
                self.best_epoch_ = stopper.best_epoch + 1
            self.pixel_range_ = pixel_range
            self.model_ = model  # last: fit() tells a fitted estimator by it
            warnings.warn(message + ".", UserWarning, stacklevel=4)
            raise
        finally:
            # However training ended: else the process keeps the traced step.
            _release_gradient_registrations(model)
        self.history_ = {k: [float(v) for v in vs] for k, vs in history.history.items()}
        self.n_iter_ = len(history.epoch)
        self.best_epoch_ = self.n_iter_
        if self.early_stopping and stopper.best_weights is not None:
            self.best_epoch_ = stopper.best_epoch + 1  # the weights restored
        self.pixel_range_ = pixel_range
        self.model_ = model  # last: fit() tells a fitted estimator by it
        return self

    def _encode_targets(self, y):
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
        self.classes_ = classes
        return y_encoded.astype(np.float32)

    def _check_metrics(self):
        """The ``metrics`` as a list for ``keras.Model.compile``."""
        metrics = list(self.metrics or ())
        for i, metric in enumerate(metrics):
            if not isinstance(metric, (str, keras.metrics.Metric)):
                raise TypeError(
                    "`metrics` must be a list of Keras metric names or "
                    f"keras.metrics.Metric instances. Got {type(metric).__name__} "
                    f"at index {i}: {metric!r}."
                )
        return metrics

    def _make_optimizer(self):
        """A new optimizer, named the same at every fit.

        Keras names each new optimizer uniquely ("adam", "adam_1", ...), and the
        names of its variables, under its name, are attributes of the
        TensorFlow ops that create them: TensorFlow's eager kernel cache, which
        only ``keras.backend.clear_session()`` empties, would keep new kernels
        at every fit, about 0.5 MB.
        """
        if isinstance(self.optimizer, keras.optimizers.Optimizer):
            config = {
                **self.optimizer.get_config(),
                "learning_rate": self.learning_rate,
            }
            return type(self.optimizer).from_config(config)
        config = {"learning_rate": self.learning_rate, "name": self.optimizer.lower()}
        try:
            optimizer = keras.optimizers.deserialize(
                {"class_name": self.optimizer, "config": config}
            )
        except (ValueError, TypeError):
            optimizer = None  # an unknown name may also come back as a str
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise ValueError(
                "`optimizer` must be the name of a Keras optimizer, such as 'adam', "
                f"'sgd' or 'rmsprop'. Received: optimizer={self.optimizer!r}"
            )
        return optimizer

    def _as_images(self, X, fitting):
        """Validated X as a (n, height, width, channels) array, uint8 or float32."""
        if fitting:
            self.image_shape_ = _image_shape_of(X, self.image_shape)
            self.n_features_in_ = math.prod(self.image_shape_)
        elif X.ndim == 2:
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is "
                    f"expecting {self.n_features_in_} features as input."
                )
        else:
            got = _image_shape_of(X, None)
            if got != self.image_shape_:
                raise ValueError(
                    f"X has images of shape {got}, but {type(self).__name__} is "
                    f"expecting images of shape {self.image_shape_} "
                    "(height, width, channels)."
                )
        return X.reshape((len(X), *self.image_shape_))

    def _dataset(
        self, X, y=None, weights=None, shuffle_seed=None, errors=None, infos=None
    ):
        """A batched tf.data pipeline over the rows of X, shuffled when seeded.

        Batches are gathered from the arrays by index, so the data is not copied
        into a shuffle buffer and uint8 pixels stay uint8 until the network. When
        X holds file paths, each batch is decoded as it is needed, by ImageLoader's
        code, several batches in parallel: memory does not grow with the number
        of images. Decoding errors are appended to ``errors``.
        Without y (prediction), the last batch is padded with zeros to
        ``batch_size`` rows: the network then always runs on batches of one shape,
        and the prediction of a sample does not depend on which other samples
        share its batch.
        """
        arrays = tuple(a for a in (X, y, weights) if a is not None)
        indices = tf.data.Dataset.range(len(X))
        if shuffle_seed is not None:
            indices = _shuffled_each_epoch(len(X), shuffle_seed)
        tensors = tuple(
            tf.constant(a.astype(str) if a.dtype == object else a) for a in arrays
        )
        decode = None
        if X.dtype == object:
            decode = self._path_decoder(errors)
            height, width, _ = self.image_shape_
            if infos is None:
                infos = _file_infos(X, (height, width), scale_down=True)
            infos = tf.constant(infos)
        batch_size = self.batch_size

        def batch(idx):
            parts = [tf.gather(t, idx) for t in tensors]
            if decode is not None:
                parts[0] = decode(parts[0], tf.gather(infos, idx))
            if y is None:
                missing = batch_size - tf.shape(parts[0])[0]
                return tf.pad(parts[0], [[0, missing], [0, 0], [0, 0], [0, 0]])
            return tuple(parts)

        batches = indices.batch(batch_size).map(
            batch, num_parallel_calls=tf.data.AUTOTUNE if decode else None
        )
        return batches.prefetch(tf.data.AUTOTUNE)

    def _path_decoder(self, errors):
        """A TensorFlow function decoding a batch of paths to uint8 images, by
        ImageLoader's decoder (errors naming a file are appended to ``errors``)."""
        height, width, channels = self.image_shape_
        params = ImageLoader(
            image_size=(height, width), color_mode=_COLOR_MODES[channels]
        )._check_params()
        decode_one = _make_decoder(params, errors)
        signature = tf.TensorSpec((height, width, channels), tf.uint8)

        def decode(paths, infos):
            return tf.map_fn(
                lambda args: decode_one(args[0], *tf.unstack(args[1])),
                (paths, infos),
                fn_output_signature=signature,
            )

        return decode

    # -------------------------------------------------------------- predict
    def _positive_proba(self, X):
        size_thread_pools()
        check_is_fitted(self)
        paths = _as_paths(X)
        if paths is not None:
            X = paths
        else:
            self._check_one_image(X)
            with _short_errors():
                if getattr(X, "ndim", None) == 2 or hasattr(X, "columns"):
                    X = validate_data(
                        self, X, reset=False, allow_nd=True, dtype=_DTYPES
                    )
                else:
                    X = check_array(
                        X, allow_nd=True, dtype=_DTYPES, input_name="X", estimator=self
                    )
            X = self._as_images(X, fitting=False)
        self._check_pixel_range(X)
        verbose = 1 if self.verbose == 1 and len(X) > self.batch_size else 0
        with silence_retracing_warnings(), _file_errors(X) as errors:
            proba = self.model_.predict(self._dataset(X, errors=errors), verbose=verbose)
        return proba[: len(X), 0].astype(np.float64)

    def _check_one_image(self, X):
        """Refuse one image given where a batch of images is expected."""
        shape = tuple(getattr(self, "image_shape_", ()))
        try:
            got = tuple(np.shape(X))
        except (TypeError, ValueError):  # ragged: left to the validation
            return
        if not shape or len(got) not in (2, 3):
            return
        if len(got) == 2:
            one, as_batch = shape[:2], (*got[1:], 1)
            if got[1] == self.n_features_in_:
                return  # flattened pixels, as fitted
        else:
            one, as_batch = shape, (*got[1:], 1)
        if as_batch != shape and got == one and (len(got) == 3 or shape[2] == 1):
            raise ValueError(
                f"X is one image of shape {got}, but {type(self).__name__} "
                "predicts a batch of images, of shape "
                f"(n_samples, {', '.join(map(str, shape))}): pass X[np.newaxis] "
                f"(shape {(1, *got)})."
            )

    def _check_pixel_range(self, X):
        """Refuse images in the other common pixel scale than the model's."""
        fitted = getattr(self, "pixel_range_", None)
        if fitted is None or not len(X):
            return
        if X.dtype == object:
            if fitted == (0, 1):
                raise ValueError(
                    f"This {type(self).__name__} was trained on pixels in "
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
                    f"This {type(self).__name__} was trained on pixels in "
                    f"{_describe_scale(fitted)}, but X holds {X.dtype} pixels in "
                    f"[0, 1] (min {low:.3g}, max {high:.3g}). Pass the images as "
                    "for training, e.g. (X * 255).round().astype('uint8'), or refit "
                    "on [0, 1] floats."
                )
        if fitted == (0, 1) and high > 1.5:
            raise ValueError(
                f"This {type(self).__name__} was trained on pixels in "
                f"{_describe_scale(fitted)}, but X holds {X.dtype} pixels up to "
                f"{high:.4g}, as in [0, 255]. Pass the images as for training, "
                "e.g. X / 255, or refit on these pixels."
            )

    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : array-like of the shape given to ``fit``
            Images or flattened pixels.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Columns follow ``classes_``.
        """
        positive = self._positive_proba(X)
        return np.column_stack([1.0 - positive, positive])

    def decision_function(self, X):
        """Log-odds of the positive class ``classes_[1]``.

        Parameters
        ----------
        X : array-like of the shape given to ``fit``
            Images or flattened pixels.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``log(p / (1 - p))`` of the predicted probability ``p``; positive
            means ``classes_[1]``.
        """
        positive = self._positive_proba(X)
        eps = np.finfo(np.float32).eps
        positive = np.clip(positive, eps, 1 - eps)
        return np.log(positive) - np.log1p(-positive)

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of the shape given to ``fit``
            Images or flattened pixels.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``classes_[1]`` where its probability exceeds 0.5, else ``classes_[0]``.
        """
        positive = self._positive_proba(X)
        return self.classes_[(positive > 0.5).astype(int)]
