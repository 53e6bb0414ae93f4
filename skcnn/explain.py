"""Grad-CAM: where in an image a fitted CNNBinaryClassifier found the evidence
for a class (Selvaraju et al., ICCV 2017)."""

import numbers

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, check_scalar

from ._classifier import CNNBinaryClassifier
from ._inputs import (
    _check_pixel_range,
    _file_errors,
    make_dataset,
    validate_predict_input,
)
from ._threads import size_thread_pools
from ._training import predicts_with_flips

_CONV_LAYERS = (layers.Conv2D, layers.DepthwiseConv2D, layers.SeparableConv2D)
# What finishes a convolution of build_cnn(batch_norm=True): its normalization
# and its activation.
_CONV_FOLLOWERS = (layers.BatchNormalization, layers.Activation, layers.ReLU)


def grad_cam(estimator, X, *, target_class=None, layer=None, batch_size=32):
    """Grad-CAM heatmaps: where in each image the network sees a class.

    For each image, the gradient of the class score with respect to the feature
    maps of a convolutional layer, averaged over the image, weighs each map; the
    weighted sum, without its negative part, upsampled to the image size and
    divided by its maximum, is the heatmap.

    Parameters
    ----------
    estimator : CNNBinaryClassifier or Pipeline
        A fitted :class:`~skcnn.CNNBinaryClassifier`, or a fitted pipeline whose last
        step is one (such as ``make_pipeline(ImageLoader(...),
        CNNBinaryClassifier())``).

    X : array-like or ndarray of shape (n_samples,)
        What the estimator's ``predict`` takes: images, flattened pixels or image
        file paths for a CNNBinaryClassifier; the input of the first step for a
        pipeline, whose steps but the last transform it.

    target_class : label, default=None
        The class whose evidence is shown, one of ``classes_``; None:
        ``classes_[1]``, the positive class.

    layer : str or None, default=None
        The name of the layer whose feature maps are weighed, searched in the
        network and in the networks nested in it (a pretrained backbone); a
        nested network stands for its output. None: the last spatial feature map
        before the network's global pooling or ``Flatten``: the last ``Conv2D``
        (with ``batch_norm=True``, the ``Activation`` after its
        ``BatchNormalization``), or the output of a pretrained backbone.

    batch_size : int, default=32
        Images per gradient computation.

    Returns
    -------
    heatmaps : ndarray of shape (n_samples, height, width), dtype float32
        Values in [0, 1], at the height and width of the network's input
        (``estimator.model_.input_shape[1:3]``): 1 at the strongest evidence of
        each image, 0 where there is none (an image with no evidence for the
        class has a heatmap of zeros).

    Raises
    ------
    NotFittedError
        If the CNNBinaryClassifier is not fitted.
    TypeError
        If ``estimator`` is neither a CNNBinaryClassifier nor a pipeline ending
        in one.
    ValueError
        If ``target_class`` is not a class, or ``layer`` names no layer with a
        spatial (4-D) output.

    Notes
    -----
    Grad-CAM is Selvaraju et al., "Grad-CAM: Visual Explanations from Deep
    Networks via Gradient-based Localization", ICCV 2017. The score of the
    positive class is the logit of the network's sigmoid output (the input of
    the sigmoid), as the paper takes the score before the softmax; that of the
    negative class is its negation, the logit of ``1 - p``, so that its heatmap
    shows the evidence for the negative class. The probability would give the
    same heatmaps up to its factor ``p * (1 - p)``, which the division by the
    maximum removes, except that this factor rounds to 0 for confident
    predictions, leaving heatmaps of zeros.

    The network runs in inference mode (augmentation off, batch normalization
    with its moving statistics); the estimator and its network are not changed.
    With test-time flips (the estimator's ``test_time_augmentation``), as its
    prediction averages the image's and its mirror image's, the heatmap is
    that of the sum of the image's map and of the mirror image's map mirrored
    back, divided by its maximum.

    Examples
    --------
    >>> from skcnn import CNNBinaryClassifier
    >>> from skcnn.datasets import load_digits_pair
    >>> from skcnn.explain import grad_cam
    >>> X, y = load_digits_pair(return_X_y=True)
    >>> clf = CNNBinaryClassifier(filters=(4,), epochs=1, augment=None,
    ...                           random_state=0).fit(X, y)
    >>> heatmaps = grad_cam(clf, X[:3])
    >>> heatmaps.shape, heatmaps.dtype
    ((3, 8, 8), dtype('float32'))
    """
    size_thread_pools()
    cnn, X = _cnn_and_input(estimator, X)
    sign = _sign(cnn, target_class)
    check_scalar(batch_size, "batch_size", numbers.Integral, min_val=1)
    model = cnn.model_
    path = _layer_path(model, layer)
    forward = _forward(model, path)
    X = validate_predict_input(cnn, X)
    _check_pixel_range(X, getattr(cnn, "pixel_range_", None), type(cnn).__name__)
    size = tuple(model.input_shape[1:3])
    mirrored = predicts_with_flips(cnn)
    heatmaps = []
    with _file_errors(X) as errors:
        # Batches as predict_proba makes them (the last one padded with zeros).
        batches = make_dataset(
            X, image_shape=cnn.image_shape_, batch_size=batch_size, errors=errors
        )
        for images in batches:
            images = tf.cast(images, tf.float32)
            cams = _cams(forward, images, sign, size)
            if mirrored:  # the mirror image's map, mirrored back
                cams += tf.reverse(_cams(forward, images[:, :, ::-1], sign, size), [2])
            heatmaps.append(_normalized(cams))
    return np.concatenate(heatmaps)[: len(X)]


def _cnn_and_input(estimator, X):
    """The fitted CNNBinaryClassifier of ``estimator``, and X as it takes it."""
    if isinstance(estimator, Pipeline):
        cnn = estimator.steps[-1][1]
        if not isinstance(cnn, CNNBinaryClassifier):
            raise TypeError(
                "grad_cam needs a pipeline whose last step is a "
                f"CNNBinaryClassifier. Got a pipeline ending in {cnn!r}."
            )
        check_is_fitted(cnn)
        if len(estimator.steps) > 1:
            X = estimator[:-1].transform(X)
        return cnn, X
    if not isinstance(estimator, CNNBinaryClassifier):
        raise TypeError(
            "grad_cam needs a CNNBinaryClassifier or a Pipeline ending in one. "
            f"Got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    return estimator, X


def _sign(cnn, target_class):
    """1.0 for the positive class, -1.0 for the negative class."""
    classes = cnn.classes_.tolist()
    if target_class is None:
        return 1.0
    if target_class not in classes:
        raise ValueError(
            f"`target_class` must be one of the estimator's classes_ {classes}. "
            f"Received: target_class={target_class!r}"
        )
    return 1.0 if target_class == classes[1] else -1.0


def _layer_path(model, name):
    """The layer named ``name`` (None: the default of grad_cam), as the list of
    the nested models leading to it from ``model``, then the layer."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"`layer` must be a str or None. Received: layer={name!r}")
    path = _default_path(model) if name is None else _search(model, name)
    if path is None:
        raise ValueError(
            f"The network has no layer named {name!r}. Its convolutional layers "
            f"(and nested networks) are: {_conv_names(model)}."
        )
    while isinstance(path[-1], keras.Model):  # a nested network: its output
        inner = path[-1]
        last = [x for x in inner.layers if x.output is inner.outputs[0]]
        if not last:
            raise ValueError(
                f"Name a layer inside nested network {inner.name!r}: its output "
                f"is not a layer's own. Received: layer={name!r}."
            )
        path.append(last[0])
    if len(path[-1].output.shape) != 4:
        raise ValueError(
            "`layer` must name a layer whose output is a spatial feature map "
            f"(batch, rows, cols, channels). Received: layer={name!r}, of output "
            f"shape {tuple(path[-1].output.shape)}."
        )
    return path


def _default_path(model):
    """The last convolution (and the layers finishing it), or nested network,
    before the first layer whose output is not a spatial feature map."""
    chosen = previous = None
    for layer in model.layers:
        if len(layer.output.shape) != 4:
            break  # Flatten or global pooling: the head
        if isinstance(layer, (*_CONV_LAYERS, keras.Model)) or (
            chosen is not None
            and previous is chosen
            and isinstance(layer, _CONV_FOLLOWERS)
        ):
            chosen = layer
        previous = layer
    if chosen is None:
        raise ValueError(
            f"Network {model.name!r} has no convolutional layer before its head: "
            "pass the name of a layer with a spatial output as `layer`."
        )
    return [chosen]


def _search(model, name):
    """[nested models..., layer] for the layer ``name`` of ``model``, searching
    its own layers first, then those of the models nested in it; or None."""
    for layer in model.layers:
        if layer.name == name:
            return [layer]
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found = _search(layer, name)
            if found is not None:
                return [layer, *found]
    return None


def _conv_names(model):
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            names += [layer.name, *_conv_names(layer)]
        elif isinstance(layer, _CONV_LAYERS):
            names.append(layer.name)
    return names


def _forward(model, path):
    """A function of images to (the output of ``path[-1]``, the logit of
    ``model``'s sigmoid output)."""
    head = model.layers[-1]
    if not (
        isinstance(head, layers.Dense)
        and head.units == 1
        and head.activation is keras.activations.sigmoid
    ):
        raise ValueError(
            "grad_cam needs a network ending in a Dense(1, sigmoid) layer, as "
            f"CNNBinaryClassifier builds. Network {model.name!r} ends in {head!r}."
        )
    body = _through(model, path, head)

    def forward(images):
        maps, features = body(images)
        logits = keras.ops.matmul(features, head.kernel)
        if head.use_bias:
            logits = logits + head.bias
        return maps, logits[:, 0]

    return forward


def _through(model, path, stop):
    """A function of ``model``'s input to (the output of ``path[-1]``, the input
    of layer ``stop`` of ``model``, or its output if ``stop`` is None).

    A layer inside a nested network has no tensor in ``model``'s graph: the
    network is then run in three parts, the layers before the nested network,
    the nested network returning the layer's output beside its own (recursively)
    and the layers after it, called in order (between a nested network and
    ``stop``, the layers of the networks skcnn builds are a chain).
    """
    end = model.outputs[0] if stop is None else stop.input
    if len(path) == 1:
        both = keras.Model(model.inputs[0], [path[0].output, end], name="grad_cam")
        return lambda x: both(x, training=False)
    nested = path[0]
    index = model.layers.index(nested)
    before = model.layers[index - 1].output if index else model.inputs[0]
    first = keras.Model(model.inputs[0], before, name="grad_cam_before")
    inner = _through(nested, path[1:], None)
    after = model.layers[index + 1 : None if stop is None else model.layers.index(stop)]

    def run(x):
        maps, x = inner(first(x, training=False))
        for layer in after:
            x = layer(x, training=False)
        return maps, x

    return run


def _cams(forward, images, sign, size):
    """Grad-CAM of ``images`` (a float32 batch), at ``size`` (height, width), not
    yet divided by its maximum: the feature maps of ``forward``, weighed by the
    mean gradient of the score (``sign`` times the logit) with respect to each."""
    with tf.GradientTape() as tape:
        # Every operation recorded, whatever the variables' trainable flags.
        tape.watch(images)
        maps, logits = forward(images)
        scores = sign * logits
    grads = tape.gradient(scores, maps)
    weights = tf.reduce_mean(grads, axis=(1, 2))
    cams = tf.nn.relu(tf.einsum("bhwc,bc->bhw", maps, weights))
    return tf.image.resize(cams[..., None], size, method="bilinear")[..., 0]


def _normalized(cams):
    """Each of ``cams`` divided by its maximum (zeros stay zeros), as float32."""
    peaks = tf.reduce_max(cams, axis=(1, 2), keepdims=True)
    return tf.math.divide_no_nan(cams, peaks).numpy().astype(np.float32)
