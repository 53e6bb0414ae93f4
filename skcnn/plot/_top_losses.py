"""TopLossesDisplay: the images a classifier is most confidently wrong about."""

import numpy as np
from sklearn.utils import check_consistent_length

from ._base import (
    check_classifier,
    check_images,
    check_length,
    check_matplotlib_support,
    check_positive_int,
    draw_image_grid,
    estimator_images,
    final_estimator,
    misclassified,
    take,
)
from ._grad_cam import check_heatmaps, grad_cam_of_predicted_class


def _top_losses(y_true, y_proba, classes, n_images):
    """Indices of the ``n_images`` largest log losses, in decreasing order, with
    those losses, the predicted labels and their probabilities."""
    classes = np.asarray(classes)
    y_true = np.asarray(y_true)
    y_proba = np.asarray(y_proba, dtype=float)
    if y_proba.ndim == 1 and len(classes) == 2:
        y_proba = np.column_stack([1 - y_proba, y_proba])
    if y_proba.ndim != 2 or y_proba.shape != (len(y_true), len(classes)):
        raise ValueError(
            "`y_proba` must hold the probability of each class of `classes` for "
            f"each sample: shape ({len(y_true)}, {len(classes)}), or "
            f"({len(y_true)},) for the probability of classes[1] of two classes. "
            f"Received: y_proba of shape {np.shape(y_proba)}."
        )
    unknown = sorted(
        {str(label) for label in set(y_true.tolist()) - set(classes.tolist())}
    )
    if unknown:
        raise ValueError(
            f"`y_true` holds labels that are not in `classes` {classes.tolist()}: "
            f"{unknown}."
        )
    column_of = {label: i for i, label in enumerate(classes.tolist())}
    column = np.array([column_of[label] for label in y_true.tolist()], dtype=int)
    p_true = y_proba[np.arange(len(y_true)), column]
    losses = -np.log(np.clip(p_true, np.finfo(y_proba.dtype).eps, 1))
    order = np.argsort(-losses, kind="stable")[:n_images]
    best = np.argmax(y_proba[order], axis=1)
    return order, losses[order], classes[best], y_proba[order, best]


class TopLossesDisplay:
    """Top losses visualization: the images the model is most confidently wrong
    about, as fastai's ``plot_top_losses``.

    The images with the largest log loss (``-log`` of the probability of their
    true label), in decreasing order, each titled with its predicted and true
    labels, its loss and the probability of the predicted label. Misclassified
    ones have a red title and frame. Optionally, each image's Grad-CAM heatmap
    for its predicted label is drawn over it.

    It is recommended to use :meth:`TopLossesDisplay.from_estimator` or
    :meth:`TopLossesDisplay.from_predictions` to create a display. All
    parameters are stored as attributes.

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width[, channels])
        The images, in decreasing order of loss.

    y_true : ndarray of shape (n_images,)
        True labels.

    y_pred : ndarray of shape (n_images,)
        Predicted labels.

    losses : ndarray of shape (n_images,)
        The log loss of each image, in decreasing order.

    probabilities : ndarray of shape (n_images,)
        Probability of each predicted label.

    indices : ndarray of shape (n_images,), default=None
        Index of each image in the data: the samples sorted by loss, largest
        first.

    heatmaps : ndarray of shape (n_images, height, width), default=None
        Grad-CAM heatmaps in [0, 1] drawn over the images, or None.

    Attributes
    ----------
    overlays_ : list of matplotlib AxesImage or None
        The heatmap drawn over each image, when ``heatmaps`` is given.

    axes_ : ndarray of matplotlib Axes
        The Axes of each image, in a grid (None in the unused cells); the array
        given as ``ax``, if one was.

    ax_ : matplotlib Axes
        The Axes of the image with the largest loss.

    bounding_ax_ : matplotlib Axes or None
        The Axes given as ``ax`` and divided into the grid, else None.

    figure_ : matplotlib Figure
        Figure containing the grid.

    See Also
    --------
    ImageGridDisplay : Images with their true and predicted labels.
    GradCAMDisplay : Grad-CAM heatmaps over images.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skcnn.plot import TopLossesDisplay
    >>> images = np.zeros((3, 8, 8), dtype=np.uint8)
    >>> display = TopLossesDisplay.from_predictions(
    ...     images, y_true=["cat", "dog", "dog"],
    ...     y_proba=[[0.9, 0.1], [0.8, 0.2], [0.4, 0.6]], classes=["cat", "dog"])
    >>> display.indices.tolist(), display.losses.round(2).tolist()
    ([1, 2, 0], [1.61, 0.51, 0.11])
    >>> plt.close(display.figure_)
    """

    def __init__(
        self,
        images,
        y_true,
        y_pred,
        losses,
        probabilities,
        *,
        indices=None,
        heatmaps=None,
    ):
        self.images = images
        self.y_true = y_true
        self.y_pred = y_pred
        self.losses = losses
        self.probabilities = probabilities
        self.indices = indices
        self.heatmaps = heatmaps

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
        display : :class:`TopLossesDisplay`
            Object that stores computed values.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        images = check_images(self.images)
        n = len(images)
        y_true = check_length(self.y_true, n, "y_true")
        y_pred = check_length(self.y_pred, n, "y_pred")
        losses = check_length(self.losses, n, "losses")
        probabilities = check_length(self.probabilities, n, "probabilities")
        heatmaps = None
        if self.heatmaps is not None:
            heatmaps = check_heatmaps(self.heatmaps, n)
        titles = [
            f"pred {y_pred[i]} / true {y_true[i]}\n"
            f"loss {losses[i]:.2f} / prob {probabilities[i]:.2f}"
            for i in range(n)
        ]
        overlays = draw_image_grid(
            self,
            images,
            titles,
            wrong=misclassified(y_true, y_pred),
            heatmaps=heatmaps,
            n_cols=n_cols,
            ax=ax,
            cmap=cmap,
            alpha=alpha,
        )
        self.overlays_ = None if heatmaps is None else overlays
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        n_images=9,
        n_cols=None,
        grad_cam=False,
        layer=None,
        alpha=0.4,
        ax=None,
    ):
        """Plot the samples of X with the largest loss for a fitted classifier.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skcnn.CNNBinaryClassifier` or a fitted
            :class:`~sklearn.pipeline.Pipeline` ending in one.

        X : array-like of shape (n_samples, ...)
            Images, flattened pixels or image file paths (drawn as in
            :meth:`ImageGridDisplay.from_estimator`).

        y : array-like of shape (n_samples,)
            True labels.

        n_images : int, default=9
            Number of images to draw (all of X if it holds fewer).

        n_cols : int, default=None
            Number of images per row; None makes the grid about square.

        grad_cam : bool, default=False
            Whether to draw each image's Grad-CAM heatmap for its predicted
            label over it (:func:`skcnn.explain.grad_cam`).

        layer : str or None, default=None
            The convolutional layer of the Grad-CAM, as in
            :func:`skcnn.explain.grad_cam`; only used with ``grad_cam=True``.

        alpha : float, default=0.4
            Opacity of the heatmaps over the images.

        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw: see :meth:`plot`.

        Returns
        -------
        display : :class:`TopLossesDisplay`

        Raises
        ------
        NotFittedError
            If the estimator is not fitted.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_classifier(estimator, f"{cls.__name__}.from_estimator")
        check_consistent_length(X, y)
        n_images = check_positive_int(n_images, "n_images")
        classes = final_estimator(estimator).classes_
        indices, losses, y_pred, probabilities = _top_losses(
            y, estimator.predict_proba(X), classes, n_images
        )
        X_top = take(X, indices)
        heatmaps = None
        if grad_cam:
            heatmaps = grad_cam_of_predicted_class(estimator, X_top, y_pred, layer)
        display = cls(
            estimator_images(estimator, X_top),
            np.asarray(y)[indices],
            y_pred,
            losses,
            probabilities,
            indices=indices,
            heatmaps=heatmaps,
        )
        return display.plot(n_cols=n_cols, alpha=alpha, ax=ax)

    @classmethod
    def from_predictions(
        cls, images, y_true, y_proba, classes, *, n_images=9, n_cols=None, ax=None
    ):
        """Plot the images with the largest loss for given probabilities.

        Parameters
        ----------
        images : ndarray of shape (n_samples, height, width[, channels])
            The images: grayscale, RGB or RGBA, uint8 or floats in [0, 1].

        y_true : array-like of shape (n_samples,)
            True labels, each in ``classes``.

        y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
            Predicted probabilities of ``classes``, as ``predict_proba`` returns;
            1-D, the probability of ``classes[1]`` of two classes.

        classes : array-like of shape (n_classes,)
            The labels of the columns of ``y_proba`` (a classifier's
            ``classes_``).

        n_images : int, default=9
            Number of images to draw (all if there are fewer).

        n_cols : int, default=None
            Number of images per row; None makes the grid about square.

        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw: see :meth:`plot`.

        Returns
        -------
        display : :class:`TopLossesDisplay`
        """
        check_matplotlib_support(f"{cls.__name__}.from_predictions")
        images = check_images(images)
        y_true = check_length(y_true, len(images), "y_true")
        n_images = check_positive_int(n_images, "n_images")
        indices, losses, y_pred, probabilities = _top_losses(
            y_true, y_proba, classes, n_images
        )
        display = cls(
            images[indices],
            y_true[indices],
            y_pred,
            losses,
            probabilities,
            indices=indices,
        )
        return display.plot(n_cols=n_cols, ax=ax)
