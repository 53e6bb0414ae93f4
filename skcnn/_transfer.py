"""CNNBinaryClassifier(backbone=...): build_transfer_model, a pretrained
backbone with a new binary head, the fine-tuning of its top (unfreeze_top), and
fit_transfer, the estimator's fit with a backbone.

The network is built from three parts that share their layers: the whole model
(images to probability), the feature model (images to pooled backbone
features) and the head (pooled features to probability). Training the head on
features computed once gives the same weights as training the whole model with
its backbone frozen, at a fraction of the cost. fit_transfer trains the head so
(or through the backbone when augmentation precedes it), then, with
``fine_tune_layers``, the network in a second phase; each phase is a
train_model of _training.
"""

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import layers

from ._architecture import (
    _GLOBAL_POOLING_LAYERS,
    _augmentation_layers,
    _check_head,
    _head_layers,
    _seed_sequence,
)
from ._backbones import BACKBONES, apply_backbone, backbone_layers, get_backbone
from ._backbones._registry import _check_input_shape
from ._devices import apply_dtype_policy, strategy_scope
from ._inputs import _file_errors, make_dataset
from ._training import (
    _MAX_SEED,
    compile_model,
    metric_object,
    resolve_epochs,
    split_validation,
    train_model,
)
from .utils._tf_compat import silence_retracing_warnings


@dataclass
class TransferModel:
    """The parts of a transfer-learning network, sharing their layers.

    Attributes
    ----------
    model : keras.Model
        Images to the probability of the positive class.
    backbone : keras.Model
        The pretrained backbone inside ``model`` (frozen when built).
    features : keras.Model
        Images to the pooled backbone features: ``model`` without its head and
        without augmentation (for computing the features once).
    head : keras.Model
        Pooled features to the probability: the head of ``model``, same layers.
    cacheable : bool
        Whether nothing random precedes the backbone (no augmentation), so that
        training ``head`` on the output of ``features`` is training ``model``
        with its backbone frozen.
    """

    model: keras.Model
    backbone: keras.Model
    features: keras.Model
    head: keras.Model
    cacheable: bool


def build_transfer_model(
    image_shape,
    *,
    backbone,
    weights="imagenet",
    global_pooling="average",
    dense_units=(),
    dropout=0.5,
    activation="relu",
    augment=None,
    rescale=None,
    seed=None,
):
    """A pretrained backbone, frozen, under a new head with one sigmoid output.

    The network is::

        Input -> [augmentation] -> [Rescaling(rescale)] -> backbone (frozen:
              batch normalization in inference mode) -> global pooling
              -> Dense(u1) -> ... -> Dense(um) -> Dropout(dropout)
              -> Dense(1, sigmoid)

    Parameters
    ----------
    image_shape : tuple of int
        ``(height, width, channels)`` of one image, 1 or 3 channels, at least
        the backbone's minimum size.

    backbone : str
        A name of ``BACKBONES``.

    weights : "imagenet", None or path, default="imagenet"
        The backbone's weights (see :func:`apply_backbone`).

    global_pooling : {"average", "max"}, default="average"
        Pooling of the backbone's last feature map.

    dense_units : sequence of int, default=()
        Units of the hidden ``Dense`` layers of the head.

    dropout : float, default=0.5
        Rate of the ``Dropout`` layer before the output layer; 0 for none.

    activation : str, default="relu"
        Activation of the hidden dense layers.

    augment : dict or None, default=None
        Random augmentation layers (see :func:`build_cnn`), right after the
        input, on pixels in the scale of the input.

    rescale : float or None, default=None
        A ``Rescaling(rescale)`` layer before the backbone, which takes pixels
        in [0, 255]: 255 for float images in [0, 1].

    seed : int or None, default=None
        Seeds the head's initializers and dropout (and augmentation).

    Returns
    -------
    transfer : TransferModel
        The model and its parts; the backbone is frozen (``trainable=False``).
    """
    image_shape = _check_input_shape(
        backbone,
        image_shape,
        received=f"Received: images of shape {tuple(image_shape)}.",
    )
    if global_pooling not in _GLOBAL_POOLING_LAYERS:
        raise ValueError(
            '`global_pooling` must be one of {"average", "max"}. '
            f"Received: global_pooling={global_pooling!r}"
        )
    dense_units = _check_head(dropout, dense_units)
    next_seed = _seed_sequence(seed)

    inputs = keras.Input(shape=image_shape, name="image")
    x = inputs
    augmentation = []
    if augment:
        value_range = (0, 1) if rescale is not None else (0, 255)
        augmentation = _augmentation_layers(augment, value_range, next_seed)
        for layer in augmentation:
            x = layer(x)
    if rescale is not None:
        x = layers.Rescaling(rescale, name="rescaling")(x)
    maps, backbone_model = apply_backbone(backbone, x, weights=weights)
    backbone_model.trainable = False
    pool = _GLOBAL_POOLING_LAYERS[global_pooling](
        name=f"global_{global_pooling}_pooling"
    )
    pooled = pool(maps)

    head_layers = _head_layers(dense_units, dropout, activation, next_seed)

    def head_of(x):
        for layer in head_layers:
            x = layer(x)
        return x

    model = keras.Model(inputs, head_of(pooled), name=f"{backbone}_transfer")
    # Used only without augmentation: then the layers up to the pooling.
    features = keras.Model(inputs, pooled, name=f"{backbone}_features")
    vector = keras.Input(shape=(BACKBONES[backbone].channels,), name="features")
    head = keras.Model(vector, head_of(vector), name=f"{backbone}_head")
    return TransferModel(model, backbone_model, features, head, not augmentation)


def unfreeze_top(model, n_layers):
    """Make the top ``n_layers`` layers ("all": every layer) of the backbone in
    ``model`` trainable, except batch normalization, which stays frozen, hence
    in inference mode (a frozen ``BatchNormalization`` uses its moving
    statistics in Keras 3), as in Keras' transfer-learning guide. Returns the
    layers made trainable."""
    backbone = backbone_layers(model)
    chosen = (
        backbone if n_layers == "all" else backbone[max(0, len(backbone) - n_layers) :]
    )
    chosen_ids = {id(layer) for layer in chosen}
    get_backbone(model).trainable = True
    unfrozen = []
    for layer in backbone:
        trainable = id(layer) in chosen_ids and not isinstance(
            layer, layers.BatchNormalization
        )
        layer.trainable = trainable
        if trainable and layer.weights:
            unfrozen.append(layer)
    return unfrozen


def fit_transfer(est, X, data, pixel_range, metrics, seeds, rng):
    """Fit ``est`` with its pretrained ``backbone``: train the head, the backbone
    frozen (on features computed once, when nothing random precedes the
    backbone and ``est._features_once``), then, with ``fine_tune_layers``,
    fine-tune the network. ``data`` is (X, encoded y, weights, file infos),
    ``seeds`` the (build, shuffle, split) seeds drawn by fit, ``rng`` its random
    state, which draws the fine-tuning's shuffle seed."""
    build_seed, shuffle_seed, split_seed = seeds
    with strategy_scope(est.strategy):
        transfer = build_transfer_model(
            est.image_shape_,
            backbone=est.backbone,
            weights=est.weights,
            global_pooling=est.global_pooling or "average",
            dense_units=est.dense_units,
            dropout=est.dropout,
            activation=est.activation,
            augment=est._transfer_augment(),
            # The backbones take pixels in [0, 255].
            rescale=255.0 if pixel_range == (0, 1) else None,
            seed=build_seed,
        )
    model = transfer.model
    apply_dtype_policy(model, est.dtype_policy)
    train, validation = split_validation(est, data, split_seed)
    steps = math.ceil(len(train[0]) / est.batch_size)
    epochs = resolve_epochs(est.epochs, len(X), est.backbone)
    fine_tune = est.fine_tune_layers == "all" or est.fine_tune_layers > 0
    if transfer.cacheable and est._features_once:
        features = backbone_features(est, transfer.features, X, data[3])
        head_train, head_validation = split_validation(
            est, (features, *data[1:3], None), split_seed
        )
        compile_model(est, transfer.head, est.learning_rate, metrics, steps, epochs)
        # model_ is compiled, with the optimizer that trains its head.
        model.compile(
            optimizer=transfer.head.optimizer,
            loss="binary_crossentropy",
            metrics=[metric_object(m) for m in metrics],
        )
        done = train_model(
            est,
            transfer.head,
            X,
            head_train,
            head_validation,
            shuffle_seed,
            pixel_range,
            epochs=epochs,
            fitted=model,
            final=not fine_tune,
        )
    else:
        compile_model(est, model, est.learning_rate, metrics, steps, epochs)
        done = train_model(
            est,
            model,
            X,
            train,
            validation,
            shuffle_seed,
            pixel_range,
            epochs=epochs,
            final=not fine_tune,
        )
    if not fine_tune:
        return
    unfreeze_top(model, est.fine_tune_layers)
    compile_model(
        est, model, est.fine_tune_learning_rate, metrics, steps, est.fine_tune_epochs
    )
    train_model(
        est,
        model,
        X,
        train,
        validation,
        int(rng.randint(0, _MAX_SEED)),
        pixel_range,
        epochs=est.fine_tune_epochs,
        before=done,
    )


def backbone_features(est, features_model, X, infos):
    """The pooled backbone features of every image of X (arrays or files,
    decoded batch by batch), as a float32 array of shape (n, channels)."""
    with silence_retracing_warnings(), _file_errors(X) as errors:
        dataset = make_dataset(
            X,
            image_shape=est.image_shape_,
            batch_size=est.batch_size,
            errors=errors,
            infos=infos,
        )
        features = features_model.predict(dataset, verbose=est.verbose)
    return features[: len(X)].astype(np.float32, copy=False)
