"""ClassBalanceDisplay: the number of images of each class."""

import numpy as np

from ._base import check_matplotlib_support


class ClassBalanceDisplay:
    """Class balance visualization: a bar chart of the number of images per class.

    It is recommended to use :meth:`ClassBalanceDisplay.from_dataset` or
    :meth:`ClassBalanceDisplay.from_labels` to create a display. All parameters
    are stored as attributes.

    Parameters
    ----------
    labels : ndarray of shape (n_classes,)
        The classes, in the order of the bars.

    counts : ndarray of shape (n_classes,)
        The number of images of each class.

    Attributes
    ----------
    bars_ : matplotlib BarContainer
        The bars, one per class.

    ax_ : matplotlib Axes
        Axes with the bar chart.

    figure_ : matplotlib Figure
        Figure containing the bar chart.

    See Also
    --------
    skcnn.load_image_folder : Lists the images of a class-per-subfolder folder.
    ImageGridDisplay : Images with their labels.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from skcnn.plot import ClassBalanceDisplay
    >>> display = ClassBalanceDisplay.from_labels(["cat", "dog", "cat"])
    >>> display.labels.tolist(), display.counts.tolist()
    (['cat', 'dog'], [2, 1])
    >>> plt.close(display.figure_)
    """

    def __init__(self, labels, counts):
        self.labels = labels
        self.counts = counts

    def plot(self, *, ax=None, bar_kw=None):
        """Plot visualization.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.

        bar_kw : dict, default=None
            Keywords passed to matplotlib's ``bar``.

        Returns
        -------
        display : :class:`ClassBalanceDisplay`
            Object that stores computed values.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        labels, counts = np.asarray(self.labels), np.asarray(self.counts)
        if labels.ndim != 1 or counts.shape != labels.shape:
            raise ValueError(
                "`labels` and `counts` must be 1-D and of the same length. "
                f"Received: labels of shape {labels.shape}, counts of shape "
                f"{counts.shape}."
            )
        if ax is None:
            width = max(3.0, 1.2 * len(labels) + 1.5)
            _, ax = plt.subplots(figsize=(width, 3.5), layout="constrained")
        positions = np.arange(len(labels))
        self.bars_ = ax.bar(
            positions, counts, tick_label=[str(c) for c in labels], **(bar_kw or {})
        )
        ax.bar_label(self.bars_, labels=[str(c) for c in counts.tolist()])
        ax.margins(y=0.12)  # room for the counts above the highest bar
        total = int(counts.sum())
        ax.set(xlabel="Class", ylabel="Number of images", title=f"{total} images")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_labels(cls, y, *, ax=None, bar_kw=None):
        """Plot the number of samples of each label of ``y``.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            The label of each image. The bars follow the sorted labels.

        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.

        bar_kw : dict, default=None
            Keywords passed to matplotlib's ``bar``.

        Returns
        -------
        display : :class:`ClassBalanceDisplay`
        """
        check_matplotlib_support(f"{cls.__name__}.from_labels")
        y = np.asarray(y)
        if y.ndim != 1 or not len(y):
            raise ValueError(
                "`y` must be a non-empty 1-D array of labels. Received: y of "
                f"shape {y.shape}."
            )
        labels, counts = np.unique(y, return_counts=True)
        return cls(labels, counts).plot(ax=ax, bar_kw=bar_kw)

    @classmethod
    def from_dataset(cls, dataset, *, ax=None, bar_kw=None):
        """Plot the number of images of each class of a dataset.

        Parameters
        ----------
        dataset : :class:`~sklearn.utils.Bunch`
            A dataset with ``target`` (the label of each image) and
            ``target_names`` (the classes, in the order of the bars), such as
            :func:`skcnn.load_image_folder` returns. A ``target`` of indices
            into ``target_names`` (as in scikit-learn's datasets) is counted by
            class name. Classes without images have a bar of 0.

        ax : matplotlib Axes, default=None
            Axes object to plot on. If None, a new figure and axes is created.

        bar_kw : dict, default=None
            Keywords passed to matplotlib's ``bar``.

        Returns
        -------
        display : :class:`ClassBalanceDisplay`
        """
        check_matplotlib_support(f"{cls.__name__}.from_dataset")
        if not all(hasattr(dataset, key) for key in ("target", "target_names")):
            raise TypeError(
                "`dataset` must have `target` and `target_names`, as the Bunch "
                "skcnn.load_image_folder returns. Received: dataset of type "
                f"{type(dataset).__name__}."
            )
        if dataset.target is None:
            raise ValueError(
                "`dataset` has no labels (dataset.target is None: loaded with "
                "labels=None): there are no classes to count."
            )
        target = np.asarray(dataset.target)
        names = np.asarray(dataset.target_names)
        if not np.isin(target, names).all() and np.issubdtype(target.dtype, np.integer):
            if target.min() >= 0 and target.max() < len(names):
                target = names[target]  # indices into target_names
        unknown = sorted({str(t) for t in set(target.tolist()) - set(names.tolist())})
        if unknown:
            raise ValueError(
                f"`dataset.target` holds labels that are not in `dataset."
                f"target_names` {names.tolist()}: {unknown}."
            )
        counts = np.array([np.count_nonzero(target == name) for name in names])
        return cls(names, counts).plot(ax=ax, bar_kw=bar_kw)
