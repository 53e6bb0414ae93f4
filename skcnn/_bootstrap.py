"""Bootstrap confidence intervals of a binary classifier's test metrics."""

import numpy as np
from scipy.stats import rankdata

METRICS = (
    "accuracy",
    "balanced_accuracy",
    "roc_auc",
    "sensitivity",
    "specificity",
)


def _roc_auc(is_positive, y_score):
    """ROC AUC as the Mann-Whitney statistic (ties count half): what
    roc_auc_score computes, without its input validation, which would dominate
    the time of a thousand resamples."""
    n_positive = is_positive.sum()
    n_negative = len(is_positive) - n_positive
    ranks = rankdata(y_score)[is_positive].sum()
    return (ranks - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)


def _metrics(is_positive, predicted_positive, y_score):
    sensitivity = predicted_positive[is_positive].mean()
    specificity = (~predicted_positive[~is_positive]).mean()
    return {
        "accuracy": (predicted_positive == is_positive).mean(),
        "balanced_accuracy": (sensitivity + specificity) / 2,
        "roc_auc": _roc_auc(is_positive, y_score),
        "sensitivity": sensitivity,
        "specificity": specificity,
    }


def bootstrap_metrics(
    y_true,
    y_pred,
    y_score,
    *,
    pos_label,
    n_resamples=1000,
    confidence_level=0.95,
    random_state=0,
):
    """Test metrics with percentile bootstrap confidence intervals.

    Each resample draws, with replacement, as many positive samples from the
    positive ones and as many negative samples from the negative ones
    (stratified), so every resample holds both classes and ROC AUC is always
    defined; the interval is the percentiles of the resampled metric.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.

    y_score : array-like of shape (n_samples,)
        Probability of ``pos_label``.

    pos_label : label
        The positive class: sensitivity is its recall, specificity the other's.

    n_resamples : int, default=1000
    confidence_level : float, default=0.95
    random_state : int, default=0

    Returns
    -------
    metrics : dict
        For each of ``METRICS``: ``{"value", "low", "high"}``.

    Examples
    --------
    >>> from skcnn._bootstrap import bootstrap_metrics
    >>> y = [0, 0, 0, 0, 1, 1, 1, 1]
    >>> pred = [0, 0, 0, 1, 1, 1, 1, 0]
    >>> score = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.4]
    >>> result = bootstrap_metrics(y, pred, score, pos_label=1)
    >>> result["accuracy"]["value"], result["roc_auc"]["value"]
    (0.75, 0.9375)
    >>> 0.25 <= result["accuracy"]["low"] <= 0.75 <= result["accuracy"]["high"] <= 1
    True
    """
    y_true = np.asarray(y_true)
    is_positive = y_true == pos_label
    predicted_positive = np.asarray(y_pred) == pos_label
    y_score = np.asarray(y_score, dtype=float)
    if is_positive.all() or not is_positive.any():
        raise ValueError(
            "Confidence intervals need images of both classes. Got only "
            f"{np.unique(y_true).tolist()}."
        )
    point = _metrics(is_positive, predicted_positive, y_score)
    rng = np.random.default_rng(random_state)
    positives, negatives = np.flatnonzero(is_positive), np.flatnonzero(~is_positive)
    resampled = {name: np.empty(n_resamples) for name in METRICS}
    for b in range(n_resamples):
        index = np.concatenate(
            [
                rng.choice(positives, len(positives)),
                rng.choice(negatives, len(negatives)),
            ]
        )
        values = _metrics(is_positive[index], predicted_positive[index], y_score[index])
        for name in METRICS:
            resampled[name][b] = values[name]
    tail = 100 * (1 - confidence_level) / 2
    result = {}
    for name in METRICS:
        low, high = np.percentile(resampled[name], [tail, 100 - tail])
        result[name] = {
            "value": float(point[name]),
            "low": float(low),
            "high": float(high),
        }
    return result
