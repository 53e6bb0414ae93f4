"""ImageGridDisplay: images titled with their true and predicted labels."""

import numpy as np
from sklearn.utils import check_consistent_length

from ._base import (
    check_classifier,
    check_images,
    check_length,
    check_matplotlib_support,
    draw_image_grid,
    estimator_images,
    misclassified,
    n_samples_of,
    pick_indices,
    predictions,
    take,
)


class ImageGridDisplay:
    """Image grid visualization: images with their true and predicted labels.

    Each image is titled with its predicted label and the probability of that
    label (the confidence), and its true label when known. Misclassified images
    have a red title and frame.

    It is recommended to use :meth:`ImageGridDisplay.from_estimator` or
    :meth:`ImageGridDisplay.from_predictions` to create a display. All
    parameters are stored as attributes.

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width[, channels])
        The images: grayscale (no or 1 channel), RGB or RGBA, uint8 in 0-255
        or floats in [0, 1].

    y_true : array-like of shape (n_images,), default=None
        True labels, or None (unlabelled images).

    y_pred : array-like of shape (n_images,), default=None
        Predicted labels, or None.

    confidence : array-like of shape (n_images,), default=None
        Probability of each predicted label, or None.

    indices : ndarray of shape (n_images,), default=None
        Index of each image in the data it was taken from.

    Attributes
    ----------
    misclassified_ : ndarray of bool of shape (n_images,) or None
        Whether each image's predicted label differs from its true label; None
        unless both are known.

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
    TopLossesDisplay : The images the model is most confidently wrong about.
    GradCAMDisplay : Where in the images the network looks.
    sklearn.metrics.ConfusionMatrixDisplay : The counts of right and wrong
        predictions.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skcnn.plot import ImageGridDisplay
    >>> images = np.zeros((3, 8, 8), dtype=np.uint8)
    >>> display = ImageGridDisplay.from_predictions(
    ...     images, y_true=["cat", "dog", "dog"], y_pred=["cat", "cat", "dog"],
    ...     confidence=[0.9, 0.6, 0.8])
    >>> display.misclassified_.tolist()
    [False, True, False]
    >>> print(display.axes_[0, 1].get_title())
    pred: cat (0.60)
    true: dog
    >>> plt.close(display.figure_)
    """

    def __init__(
        self, images, *, y_true=None, y_pred=None, confidence=None, indices=None
    ):
        self.images = images
        self.y_true = y_true
        self.y_pred = y_pred
        self.confidence = confidence
        self.indices = indices

    def plot(self, *, n_cols=None, ax=None):
        """Plot visualization.

        Parameters
        ----------
        n_cols : int, default=None
            Number of images per row; None makes the grid about square.

        ax : matplotlib Axes or array-like of Axes, default=None
            None draws on a new figure; one Axes is divided into the grid; an
            array of Axes must hold one per image.

        Returns
        -------
        display : :class:`ImageGridDisplay`
            Object that stores computed values.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        images = check_images(self.images)
        n = len(images)
        y_true = check_length(self.y_true, n, "y_true")
        y_pred = check_length(self.y_pred, n, "y_pred")
        confidence = check_length(self.confidence, n, "confidence")
        if confidence is not None and y_pred is None:
            raise ValueError(
                "`confidence` is the probability of each predicted label: pass "
                "`y_pred` with it."
            )
        titles = []
        for i in range(n):
            lines = []
            if y_pred is not None:
                score = "" if confidence is None else f" ({confidence[i]:.2f})"
                lines.append(f"pred: {y_pred[i]}{score}")
            if y_true is not None:
                lines.append(f"true: {y_true[i]}")
            titles.append("\n".join(lines) if lines else None)
        self.misclassified_ = None
        if y_true is not None and y_pred is not None:
            self.misclassified_ = misclassified(y_true, y_pred)
        wrong = (
            np.zeros(n, bool) if self.misclassified_ is None else self.misclassified_
        )
        draw_image_grid(
            self, images, titles, wrong=wrong, heatmaps=None, n_cols=n_cols, ax=ax
        )
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        n_images=16,
        n_cols=None,
        random_state=None,
        ax=None,
    ):
        """Plot images with the labels a fitted classifier predicts.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skcnn.CNNBinaryClassifier` or a fitted
            :class:`~sklearn.pipeline.Pipeline` ending in one (such as
            ``make_pipeline(ImageLoader(...), CNNBinaryClassifier())``).

        X : array-like of shape (n_samples, ...)
            What the estimator predicts: images, flattened pixels or image file
            paths. The images drawn are what the pipeline's steps before the
            last output, else X's images, else the files read at the network's
            image size and colour mode.

        y : array-like of shape (n_samples,), default=None
            True labels; None for unlabelled images.

        n_images : int, default=16
            Number of images to draw (all of X if it holds fewer).

        n_cols : int, default=None
            Number of images per row; None makes the grid about square.

        random_state : int, RandomState instance or None, default=None
            None draws the first ``n_images`` samples; else that many drawn at
            random (without replacement), in the order of X.

        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw: see :meth:`plot`.

        Returns
        -------
        display : :class:`ImageGridDisplay`

        Raises
        ------
        NotFittedError
            If the estimator is not fitted.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_classifier(estimator, f"{cls.__name__}.from_estimator")
        if y is not None:
            check_consistent_length(X, y)
        indices = pick_indices(n_samples_of(X), n_images, random_state)
        X_shown = take(X, indices)
        y_pred, confidence, _ = predictions(estimator, X_shown)
        display = cls(
            estimator_images(estimator, X_shown),
            y_true=None if y is None else np.asarray(y)[indices],
            y_pred=y_pred,
            confidence=confidence,
            indices=indices,
        )
        return display.plot(n_cols=n_cols, ax=ax)

    @classmethod
    def from_predictions(
        cls,
        images,
        y_true=None,
        y_pred=None,
        confidence=None,
        *,
        n_images=16,
        n_cols=None,
        random_state=None,
        ax=None,
    ):
        """Plot images with given true and predicted labels.

        Parameters
        ----------
        images : ndarray of shape (n_samples, height, width[, channels])
            The images: grayscale, RGB or RGBA, uint8 or floats in [0, 1].

        y_true : array-like of shape (n_samples,), default=None
            True labels, or None.

        y_pred : array-like of shape (n_samples,), default=None
            Predicted labels, or None.

        confidence : array-like of shape (n_samples,), default=None
            Probability of each predicted label, or None.

        n_images : int, default=16
            Number of images to draw (all if there are fewer).

        n_cols : int, default=None
            Number of images per row; None makes the grid about square.

        random_state : int, RandomState instance or None, default=None
            None draws the first ``n_images``; else that many drawn at random.

        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw: see :meth:`plot`.

        Returns
        -------
        display : :class:`ImageGridDisplay`
        """
        check_matplotlib_support(f"{cls.__name__}.from_predictions")
        images = check_images(images)
        n = len(images)
        y_true = check_length(y_true, n, "y_true")
        y_pred = check_length(y_pred, n, "y_pred")
        confidence = check_length(confidence, n, "confidence")
        indices = pick_indices(n, n_images, random_state)
        display = cls(
            images[indices],
            y_true=None if y_true is None else y_true[indices],
            y_pred=None if y_pred is None else y_pred[indices],
            confidence=None if confidence is None else confidence[indices],
            indices=indices,
        )
        return display.plot(n_cols=n_cols, ax=ax)
