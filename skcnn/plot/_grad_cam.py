"""GradCAMDisplay: Grad-CAM heatmaps drawn over the images they explain."""

import numpy as np

from ._base import (
    check_classifier,
    check_images,
    check_matplotlib_support,
    draw_image_grid,
    estimator_images,
    final_estimator,
    n_samples_of,
    pick_indices,
    predictions,
    take,
)


def check_heatmaps(heatmaps, n_images):
    """``heatmaps`` as a float ndarray of shape (n_images, height, width)."""
    heatmaps = np.asarray(heatmaps)
    if heatmaps.dtype.kind not in "uifb" or heatmaps.ndim != 3:
        raise ValueError(
            "`heatmaps` must be an array of shape (n_images, height, width) of "
            f"values in [0, 1]. Received: heatmaps of shape {heatmaps.shape} and "
            f"dtype {heatmaps.dtype}."
        )
    if len(heatmaps) != n_images:
        raise ValueError(
            f"`heatmaps` must hold one heatmap per image: {n_images}. Received: "
            f"{len(heatmaps)} heatmaps."
        )
    return heatmaps


def grad_cam_of_predicted_class(estimator, X, y_pred, layer):
    """The Grad-CAM heatmap of each sample of X for its predicted label."""
    from ..explain import grad_cam

    heatmaps = None
    for label in np.unique(y_pred):
        rows = np.flatnonzero(y_pred == label)
        found = grad_cam(estimator, take(X, rows), target_class=label, layer=layer)
        if heatmaps is None:
            heatmaps = np.empty((len(y_pred), *found.shape[1:]), dtype=found.dtype)
        heatmaps[rows] = found
    return heatmaps


class GradCAMDisplay:
    """Grad-CAM visualization: heatmaps of where the network looks, over images.

    Each heatmap (values in [0, 1]) is drawn with the colormap ``cmap`` (red is
    high) at opacity ``alpha`` over its image, stretched to the image's size.

    It is recommended to use :meth:`GradCAMDisplay.from_estimator` or
    :meth:`GradCAMDisplay.from_heatmaps` to create a display. All parameters
    are stored as attributes.

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width[, channels])
        The images: grayscale, RGB or RGBA, uint8 or floats in [0, 1].

    heatmaps : ndarray of shape (n_images, height, width)
        One heatmap per image, with values in [0, 1], as
        :func:`skcnn.explain.grad_cam` returns.

    titles : list of str, default=None
        A title per image, or None.

    indices : ndarray of shape (n_images,), default=None
        Index of each image in the data it was taken from.

    Attributes
    ----------
    overlays_ : list of matplotlib AxesImage
        The heatmap drawn over each image.

    axes_ : ndarray of matplotlib Axes
        The Axes of each image, in a grid (None in the unused cells); the array
        given as ``ax``, if one was.

    ax_ : matplotlib Axes
        The Axes of the first image.

    bounding_ax_ : matplotlib Axes or None
        The Axes given as ``ax`` and divided into the grid, else None.

    figure_ : matplotlib Figure
        Figure containing the grid.

    See Also
    --------
    skcnn.explain.grad_cam : Computes the heatmaps.
    TopLossesDisplay : The images with the largest loss, optionally with their
        Grad-CAM heatmaps.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skcnn.plot import GradCAMDisplay
    >>> images = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    >>> heatmaps = np.linspace(0, 1, 2 * 4 * 4).reshape(2, 4, 4)
    >>> display = GradCAMDisplay.from_heatmaps(images, heatmaps, titles=["a", "b"])
    >>> display.overlays_[1].get_array().max(), display.overlays_[1].get_alpha()
    (np.float64(1.0), 0.4)
    >>> plt.close(display.figure_)
    """

    def __init__(self, images, heatmaps, *, titles=None, indices=None):
        self.images = images
        self.heatmaps = heatmaps
        self.titles = titles
        self.indices = indices

    def plot(self, *, n_cols=None, alpha=0.4, cmap="jet", ax=None):
        """Plot visualization.

        Parameters
        ----------
        n_cols : int, default=None
            Number of images per row; None makes the grid about square.

        alpha : float, default=0.4
            Opacity of the heatmaps over the images.

        cmap : str or matplotlib Colormap, default="jet"
            Colormap of the heatmaps.

        ax : matplotlib Axes or array-like of Axes, default=None
            None draws on a new figure; one Axes is divided into the grid; an
            array of Axes must hold one per image.

        Returns
        -------
        display : :class:`GradCAMDisplay`
            Object that stores computed values.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        images = check_images(self.images)
        heatmaps = check_heatmaps(self.heatmaps, len(images))
        titles = [None] * len(images) if self.titles is None else list(self.titles)
        if len(titles) != len(images):
            raise ValueError(
                f"`titles` must hold one title per image: {len(images)}. "
                f"Received: {len(titles)} titles."
            )
        self.overlays_ = draw_image_grid(
            self,
            images,
            titles,
            wrong=[False] * len(images),
            heatmaps=heatmaps,
            n_cols=n_cols,
            ax=ax,
            cmap=cmap,
            alpha=alpha,
        )
        return self

    @classmethod
    def from_heatmaps(
        cls,
        images,
        heatmaps,
        *,
        titles=None,
        n_cols=None,
        alpha=0.4,
        cmap="jet",
        ax=None,
    ):
        """Plot given heatmaps over their images.

        Parameters
        ----------
        images : ndarray of shape (n_images, height, width[, channels])
            The images: grayscale, RGB or RGBA, uint8 or floats in [0, 1].

        heatmaps : ndarray of shape (n_images, height, width)
            One heatmap per image, with values in [0, 1].

        titles : list of str, default=None
            A title per image, or None.

        n_cols : int, default=None
            Number of images per row; None makes the grid about square.

        alpha : float, default=0.4
            Opacity of the heatmaps over the images.

        cmap : str or matplotlib Colormap, default="jet"
            Colormap of the heatmaps.

        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw: see :meth:`plot`.

        Returns
        -------
        display : :class:`GradCAMDisplay`
        """
        check_matplotlib_support(f"{cls.__name__}.from_heatmaps")
        images = check_images(images)
        heatmaps = check_heatmaps(heatmaps, len(images))
        display = cls(images, heatmaps, titles=titles)
        return display.plot(n_cols=n_cols, alpha=alpha, cmap=cmap, ax=ax)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        target_class=None,
        layer=None,
        n_images=16,
        n_cols=None,
        random_state=None,
        alpha=0.4,
        cmap="jet",
        ax=None,
    ):
        """Plot the Grad-CAM heatmaps of a fitted classifier over the images of X.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skcnn.CNNBinaryClassifier` or a fitted
            :class:`~sklearn.pipeline.Pipeline` ending in one.

        X : array-like of shape (n_samples, ...)
            Images, flattened pixels or image file paths (drawn as in
            :meth:`ImageGridDisplay.from_estimator`).

        target_class : label or None, default=None
            The class whose evidence the heatmaps show, one of ``classes_``,
            passed to :func:`skcnn.explain.grad_cam`; None: ``classes_[1]``, the
            positive class.

        layer : str or None, default=None
            The convolutional layer, passed to :func:`skcnn.explain.grad_cam`.

        n_images : int, default=16
            Number of images to draw (all of X if it holds fewer).

        n_cols : int, default=None
            Number of images per row; None makes the grid about square.

        random_state : int, RandomState instance or None, default=None
            None draws the first ``n_images`` samples; else that many drawn at
            random (without replacement), in the order of X.

        alpha : float, default=0.4
            Opacity of the heatmaps over the images.

        cmap : str or matplotlib Colormap, default="jet"
            Colormap of the heatmaps.

        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw: see :meth:`plot`.

        Returns
        -------
        display : :class:`GradCAMDisplay`
            Each image titled with its predicted label, that label's
            probability and the class whose evidence the heatmap shows.

        Raises
        ------
        NotFittedError
            If the estimator is not fitted.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_classifier(estimator, f"{cls.__name__}.from_estimator")
        from ..explain import grad_cam

        indices = pick_indices(n_samples_of(X), n_images, random_state)
        X_shown = take(X, indices)
        y_pred, confidence, _ = predictions(estimator, X_shown)
        heatmaps = grad_cam(estimator, X_shown, target_class=target_class, layer=layer)
        if target_class is None:
            target_class = final_estimator(estimator).classes_[1]
        pairs = zip(y_pred, confidence, strict=True)
        titles = [
            f"pred: {label} ({proba:.2f})\nevidence for: {target_class}"
            for label, proba in pairs
        ]
        display = cls(
            estimator_images(estimator, X_shown),
            heatmaps,
            titles=titles,
            indices=indices,
        )
        return display.plot(n_cols=n_cols, alpha=alpha, cmap=cmap, ax=ax)
