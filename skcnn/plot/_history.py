"""HistoryDisplay: the loss and metrics of a fit, epoch by epoch."""

from collections.abc import Mapping

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._base import axes_grid, check_matplotlib_support, final_estimator


def _check_history(history):
    """``history`` (a dict, or a keras.callbacks.History) as a dict of lists."""
    if not isinstance(history, Mapping) and isinstance(
        getattr(history, "history", None), Mapping
    ):
        history = history.history  # a keras.callbacks.History
    if not isinstance(history, Mapping):
        raise TypeError(
            "`history` must be a dict of str to list of float, such as a fitted "
            "estimator's `history_` or keras.callbacks.History.history. "
            f"Received: history of type {type(history).__name__}."
        )
    if not any(len(values) for values in history.values()):
        raise ValueError(
            f"`history` holds no epoch. Received: history={dict(history)!r}"
        )
    return {
        str(key): np.asarray(values, dtype=float) for key, values in history.items()
    }


def _check_metrics(history, metrics):
    """The quantities to plot: ``metrics`` checked against ``history``, or by
    default "loss" then the other metrics of ``history``, without "learning_rate"."""
    quantities = []
    for key in history:
        name = key.removeprefix("val_")
        if name not in quantities:
            quantities.append(name)
    if metrics is None:
        metrics = [name for name in quantities if name != "learning_rate"]
        return sorted(metrics, key=lambda name: name != "loss")  # loss first
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [name for name in metrics if name not in quantities]
    if unknown or not len(metrics):
        raise ValueError(
            f"`metrics` must name quantities of the history, without the 'val_' "
            f"prefix: some of {quantities}. Received: metrics={list(metrics)!r}"
        )
    return list(metrics)


class HistoryDisplay:
    """Training history visualization: the loss and metrics at each epoch.

    One panel per quantity (the loss, each Keras metric), the training values
    and, when the history has them (``early_stopping=True``), the validation
    values (``"val_"`` entries) against the epoch, counted from 1.

    It is recommended to use :meth:`HistoryDisplay.from_estimator` or
    :meth:`HistoryDisplay.from_history` to create a display. All parameters are
    stored as attributes.

    Parameters
    ----------
    history : dict of str to list of float
        Per-epoch values, as a fitted estimator's ``history_`` or
        ``keras.callbacks.History.history``: ``"loss"``, ``"accuracy"``,
        ``"val_loss"``, ``"learning_rate"``...

    metrics : list of str or None, default=None
        The quantities to plot, one panel each, without the ``"val_"`` prefix.
        None plots ``"loss"`` then every other quantity of ``history`` except
        ``"learning_rate"``.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        The line of each entry of ``history`` plotted, by its key (``"loss"``,
        ``"val_loss"``...).

    axes_ : ndarray of matplotlib Axes
        The panel of each quantity, in a grid of ``n_cols`` columns (None in the
        unused cells); the array given as ``ax``, if one was.

    ax_ : matplotlib Axes
        The first panel, the loss by default.

    bounding_ax_ : matplotlib Axes or None
        The Axes given as ``ax`` and divided into the panels, else None.

    figure_ : matplotlib Figure
        Figure containing the panels.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against the number of
        training samples, by cross-validation.
    ImageGridDisplay : Images with their true and predicted labels.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from skcnn.plot import HistoryDisplay
    >>> history = {"loss": [0.69, 0.41, 0.30], "val_loss": [0.70, 0.52, 0.45],
    ...            "accuracy": [0.55, 0.83, 0.90], "val_accuracy": [0.5, 0.8, 0.8]}
    >>> display = HistoryDisplay.from_history(history)
    >>> display.metrics
    ['loss', 'accuracy']
    >>> display.ax_.get_ylabel(), display.lines_["val_loss"].get_ydata().tolist()
    ('loss', [0.7, 0.52, 0.45])
    >>> plt.close(display.figure_)
    """

    def __init__(self, history, *, metrics=None):
        self.history = history
        self.metrics = metrics

    def plot(self, *, ax=None, n_cols=3, line_kw=None):
        """Plot visualization.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            None draws on a new figure. One Axes holds a single quantity, or is
            divided into a grid of panels; an array of Axes must hold one per
            quantity.

        n_cols : int, default=3
            Maximum number of panels per row (ignored with an array ``ax``).

        line_kw : dict, default=None
            Keywords passed to matplotlib's ``plot`` for every line.

        Returns
        -------
        display : :class:`HistoryDisplay`
            Object that stores computed values.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        from matplotlib.ticker import MaxNLocator

        history = _check_history(self.history)
        metrics = _check_metrics(history, self.metrics)
        self.figure_, self.axes_, self.bounding_ax_ = axes_grid(
            len(metrics),
            n_cols=n_cols,
            ax=ax,
            caller_name=f"{type(self).__name__}.plot",
            panel_size=(4.0, 3.0),
            hspace=0.45,
            wspace=0.4,
        )
        self.lines_ = {}
        for ax_i, name in zip(self.axes_.ravel()[: len(metrics)], metrics, strict=True):
            for key, label in [(name, "training"), (f"val_{name}", "validation")]:
                if key in history:
                    values = history[key]
                    epochs = np.arange(1, len(values) + 1)
                    (self.lines_[key],) = ax_i.plot(
                        epochs, values, marker=".", label=label, **(line_kw or {})
                    )
            ax_i.set(xlabel="Epoch", ylabel=name)
            ax_i.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax_i.grid(alpha=0.3)
            if len(ax_i.lines) > 1:
                ax_i.legend()
        self.ax_ = self.axes_.ravel()[0]
        return self

    @classmethod
    def from_estimator(cls, estimator, *, metrics=None, ax=None, n_cols=3):
        """Plot the training history of a fitted estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skcnn.CNNBinaryClassifier`, a fitted
            :class:`~sklearn.pipeline.Pipeline` ending in one, or any object with
            a ``history_`` dict.

        metrics : list of str or None, default=None
            The quantities to plot, without the ``"val_"`` prefix. None plots
            ``"loss"`` and the other metrics, not ``"learning_rate"``.

        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw: see :meth:`plot`.

        n_cols : int, default=3
            Maximum number of panels per row.

        Returns
        -------
        display : :class:`HistoryDisplay`

        Raises
        ------
        NotFittedError
            If the estimator is not fitted.
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        final = final_estimator(estimator)
        if not hasattr(final, "history_"):
            check_is_fitted(final, "history_")
        return cls.from_history(final.history_, metrics=metrics, ax=ax, n_cols=n_cols)

    @classmethod
    def from_history(cls, history, *, metrics=None, ax=None, n_cols=3):
        """Plot a training history.

        Parameters
        ----------
        history : dict of str to list of float or keras.callbacks.History
            Per-epoch values, such as an estimator's ``history_``.

        metrics : list of str or None, default=None
            The quantities to plot, without the ``"val_"`` prefix. None plots
            ``"loss"`` and the other metrics, not ``"learning_rate"``.

        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw: see :meth:`plot`.

        n_cols : int, default=3
            Maximum number of panels per row.

        Returns
        -------
        display : :class:`HistoryDisplay`
        """
        check_matplotlib_support(f"{cls.__name__}.from_history")
        metrics = _check_metrics(_check_history(history), metrics)
        if not isinstance(history, Mapping):
            history = history.history  # a keras.callbacks.History
        return cls(history, metrics=metrics).plot(ax=ax, n_cols=n_cols)
