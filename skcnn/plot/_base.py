"""What the Displays share: the matplotlib check, argument checks, the grid of
axes, the estimator's images and predictions, and the drawing of images.

matplotlib is imported inside the functions that draw, never at import time,
and so are the parts of skcnn that start TensorFlow."""

import math
import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

# The colour mode ImageLoader reads with, for a network taking that many channels.
_COLOR_MODE_OF_CHANNELS = {1: "grayscale", 3: "rgb", 4: "rgba"}


def check_matplotlib_support(caller_name):
    """Raise an ImportError naming ``caller_name`` if matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib. You can install it with "
            "`pip install skcnn[plot]`."
        ) from exc


def check_positive_int(value, name):
    """``value`` if it is an int >= 1, else a TypeError or ValueError naming it."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(
            f"`{name}` must be an int >= 1. Received: {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if value < 1:
        raise ValueError(f"`{name}` must be an int >= 1. Received: {name}={value!r}")
    return int(value)


def final_estimator(estimator):
    """The estimator itself, or the last step of a Pipeline."""
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def check_classifier(estimator, caller_name):
    """Refuse an estimator without ``predict_proba`` or not fitted."""
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            f"{caller_name} needs a classifier with predict_proba, such as a "
            "CNNBinaryClassifier or a Pipeline ending in one. Got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator)


def pick_indices(n_samples, n_images, random_state):
    """The first ``n_images`` of ``n_samples`` (all if fewer), or, with a
    ``random_state``, that many drawn without replacement, in increasing order."""
    n_images = min(check_positive_int(n_images, "n_images"), n_samples)
    if random_state is None:
        return np.arange(n_images)
    rng = check_random_state(random_state)
    return np.sort(rng.choice(n_samples, size=n_images, replace=False))


def take(X, indices):
    """The samples ``indices`` of X (an array, a list or a pandas object)."""
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    return np.asarray(X)[indices]


def n_samples_of(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _as_images(array, image_shape):
    """``array`` as a batch of images, or None if it is not one."""
    array = np.asarray(array)
    if array.dtype.kind not in "uifb":
        return None
    if array.ndim == 2 and image_shape and math.prod(image_shape) == array.shape[1]:
        array = array.reshape((len(array), *image_shape))
    if array.ndim == 4 and array.shape[-1] in _COLOR_MODE_OF_CHANNELS:
        return array
    return array if array.ndim == 3 else None


def estimator_images(estimator, X):
    """The images ``estimator`` takes for the samples X, to be drawn.

    For a Pipeline, the output of its steps before the last if they are images;
    for image file paths, the files read by ImageLoader at the size and colour
    mode of the network; else X itself (flattened pixels reshaped)."""
    final = final_estimator(estimator)
    image_shape = getattr(final, "image_shape_", None)
    if image_shape is None and hasattr(final, "model_"):
        image_shape = tuple(final.model_.input_shape[1:])
    if getattr(estimator, "steps", None) and len(estimator.steps) > 1:
        images = _as_images(estimator[:-1].transform(X), image_shape)
        if images is not None:
            return images
    array = X.to_numpy() if hasattr(X, "to_numpy") else np.asarray(X)
    if array.dtype.kind in "OUS" and image_shape is not None:
        from .._image import ImageLoader

        height, width, channels = image_shape
        loader = ImageLoader(
            image_size=(height, width),
            color_mode=_COLOR_MODE_OF_CHANNELS[channels],
            n_jobs=1,
        )
        return loader.transform(array.ravel())
    images = _as_images(array, image_shape)
    if images is None:
        raise ValueError(
            "Cannot draw X as images: expected images of shape (n_samples, height, "
            "width[, channels]), flattened pixels of the network's image shape "
            f"{image_shape}, or image file paths. Got an array of shape {array.shape}."
        )
    return images


def predictions(estimator, X):
    """(predicted labels, probability of the predicted class, probabilities)."""
    proba = np.asarray(estimator.predict_proba(X))
    classes = np.asarray(final_estimator(estimator).classes_)
    best = np.argmax(proba, axis=1)
    return classes[best], proba[np.arange(len(proba)), best], proba


def check_images(images, name="images"):
    """``images`` as an ndarray of shape (n, h, w) or (n, h, w, 1, 3 or 4)."""
    images = np.asarray(images)
    if (
        images.dtype.kind not in "uifb"
        or images.ndim not in (3, 4)
        or (images.ndim == 4 and images.shape[-1] not in _COLOR_MODE_OF_CHANNELS)
    ):
        raise ValueError(
            f"`{name}` must be an array of images of shape (n_images, height, width) "
            "or (n_images, height, width, channels) with 1, 3 or 4 channels. "
            f"Received: {name} of shape {images.shape} and dtype {images.dtype}."
        )
    return images


def misclassified(y_true, y_pred):
    """Whether each true label differs from its predicted label, as a bool array
    (compared as Python objects, so that labels of any types compare)."""
    pairs = zip(y_true.tolist(), y_pred.tolist(), strict=True)
    return np.array([true != pred for true, pred in pairs], dtype=bool)


def check_length(values, n, name, images_name="images"):
    """``values`` as an ndarray of length ``n``, or None."""
    if values is None:
        return None
    values = np.asarray(values)
    if values.ndim != 1 or len(values) != n:
        raise ValueError(
            f"`{name}` must have one value per image: {n} for the {n} {images_name}. "
            f"Received: {name} of shape {values.shape}."
        )
    return values


def axes_grid(n, *, n_cols, ax, caller_name, panel_size, hspace, wspace):
    """Figure, ndarray of ``n`` Axes and bounding Axes for ``n`` panels.

    As scikit-learn's PartialDependenceDisplay: with ``ax`` None, a new figure
    of ``panel_size`` (width, height) per panel; with one Axes, that Axes (one
    panel) or the Axes divided into a grid (its frame turned off); with an
    array of Axes, those, in their shape. Unused cells of the grid are None.
    ``hspace`` and ``wspace`` space the panels of a divided Axes (a new figure
    is laid out by matplotlib)."""
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpecFromSubplotSpec

    if ax is not None and not isinstance(ax, plt.Axes):
        axes = np.asarray(ax, dtype=object)
        if axes.size != n or not all(isinstance(a, plt.Axes) for a in axes.flat):
            raise ValueError(
                f"{caller_name}: `ax` must be a matplotlib Axes or an array of "
                f"{n} Axes (one per panel). Received: ax of {axes.size} item(s)."
            )
        return axes.ravel()[0].figure, axes.reshape(axes.shape or (1,)), None
    if ax is not None and n == 1:
        return ax.figure, np.array([[ax]], dtype=object), None

    n_cols = min(check_positive_int(n_cols, "n_cols"), n)
    n_rows = math.ceil(n / n_cols)
    if ax is None:
        width, height = panel_size
        figure = plt.figure(
            figsize=(width * n_cols, height * n_rows), layout="constrained"
        )
        spec, bounding_ax = figure.add_gridspec(n_rows, n_cols), None
    else:
        if not ax.axison:
            raise ValueError(
                f"{caller_name}: the ax was already used in another plot function, "
                "please set ax=display.axes_ instead."
            )
        if ax.get_subplotspec() is None:
            raise ValueError(
                f"{caller_name}: `ax` must be a subplot (from plt.subplots or "
                "figure.add_subplot) to be divided into a grid of panels."
            )
        ax.set_axis_off()
        figure, bounding_ax = ax.figure, ax
        spec = GridSpecFromSubplotSpec(
            n_rows,
            n_cols,
            subplot_spec=ax.get_subplotspec(),
            hspace=hspace,
            wspace=wspace,
        )
    axes = np.empty((n_rows, n_cols), dtype=object)
    for i in range(n):
        axes[i // n_cols, i % n_cols] = figure.add_subplot(
            spec[i // n_cols, i % n_cols]
        )
    return figure, axes, bounding_ax


def draw_image(ax, image, *, title=None, wrong=False, heatmap=None, overlay_kw=None):
    """Draw ``image`` on ``ax`` without ticks, with ``title``; ``wrong`` makes the
    title and frame red; ``heatmap`` (values in [0, 1]) is drawn over the image,
    stretched to its size, with ``overlay_kw`` (cmap, alpha) for ``imshow``.

    Returns the AxesImage of the heatmap, or None."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype.kind in "fb" or image.dtype.itemsize > 1:
        # Floats in [0, 1] are shown as they are; other values as 0-255 pixels.
        image = image.astype(np.float64)
        if image.size and np.nanmax(image) > 1:
            image = image / 255
        image = np.clip(image, 0, 1)
    vmax = 255 if image.dtype == np.uint8 else 1
    if image.ndim == 2:
        ax.imshow(image, cmap="gray", vmin=0, vmax=vmax)
    else:
        ax.imshow(image)
    overlay = None
    if heatmap is not None:
        height, width = image.shape[:2]
        overlay = ax.imshow(
            heatmap,
            vmin=0,
            vmax=1,
            extent=(-0.5, width - 0.5, height - 0.5, -0.5),
            **(overlay_kw or {}),
        )
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        if wrong:
            spine.set_color("red")
            spine.set_linewidth(3)
        else:
            spine.set_visible(False)
    if title is not None:
        ax.set_title(title, fontsize="small", **({"color": "red"} if wrong else {}))
    return overlay


def draw_image_grid(display, images, titles, *, wrong, heatmaps, n_cols, ax, **kw):
    """Draw ``images`` in a grid, with ``titles``, red where ``wrong``, under
    ``heatmaps`` if not None (drawn with ``kw``: cmap, alpha); set ``display``'s
    figure_, axes_, ax_ and bounding_ax_. Returns the heatmaps' AxesImages."""
    if n_cols is None:
        n_cols = math.ceil(math.sqrt(len(images)))
    display.figure_, display.axes_, display.bounding_ax_ = axes_grid(
        len(images),
        n_cols=n_cols,
        ax=ax,
        caller_name=f"{type(display).__name__}.plot",
        panel_size=(1.9, 2.2),
        hspace=0.6,  # room for two lines of title
        wspace=0.15,
    )
    display.ax_ = display.axes_.ravel()[0]
    return [
        draw_image(
            ax_i,
            images[i],
            title=titles[i],
            wrong=wrong[i],
            heatmap=None if heatmaps is None else heatmaps[i],
            overlay_kw=kw,
        )
        for i, ax_i in enumerate(display.axes_.ravel()[: len(images)])
    ]
