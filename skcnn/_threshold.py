"""Operating points of a binary classifier: the decision threshold that meets a
target sensitivity or specificity on held-out data, and the table of
sensitivity, specificity, PPV and NPV at thresholds.

The fitted model that applies a threshold is scikit-learn's
``FixedThresholdClassifier`` (around a ``FrozenEstimator``), which ``skcnn
train --target-sensitivity`` saves. ``TunedThresholdClassifierCV`` is not used
for a constraint: it needs a scorer written for it, and it searches a grid of
thresholds (100 by default) spread between the held-out scores, so it can miss
the best threshold that meets the target (it gave a lower specificity than
:func:`decision_threshold` on 13 of 100 synthetic problems, see the user guide).
"""

import numpy as np
from sklearn.metrics import roc_curve


def _positive(y_true, y_score, pos_label):
    """y_true as booleans (is the positive class) and y_score as floats."""
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=float)
    if y_true.ndim != 1 or y_score.shape != y_true.shape:
        raise ValueError(
            "y_true and y_score must be 1-d and of the same length. Got shapes "
            f"{y_true.shape} and {y_score.shape}."
        )
    labels = np.unique(y_true)
    if pos_label is None:
        if len(labels) != 2:
            raise ValueError(
                "y_true must hold both classes to choose a threshold. Got "
                f"{len(labels)} class(es): {labels.tolist()}."
            )
        pos_label = labels[1]
    elif pos_label not in labels:
        raise ValueError(
            f"pos_label={pos_label!r} is not a label of y_true: {labels.tolist()}."
        )
    is_positive = y_true == pos_label
    if is_positive.all() or not is_positive.any():
        raise ValueError(
            "y_true must hold both classes to choose a threshold. Got only "
            f"{labels.tolist()}."
        )
    return is_positive, y_score


def decision_threshold(
    y_true, y_score, *, target_sensitivity=None, target_specificity=None, pos_label=None
):
    """The decision threshold that meets a target sensitivity or specificity.

    Predicting the positive class when ``y_score >= threshold`` (scikit-learn's
    rule in ``FixedThresholdClassifier``): with ``target_sensitivity``, the
    largest threshold whose sensitivity (recall of the positive class) on
    ``y_true`` is at least the target, which gives the highest specificity
    that meets it; with ``target_specificity``, the smallest threshold whose
    specificity is at least the target, which gives the highest sensitivity.
    Choose it on data the model was not trained on; on new data the
    sensitivity varies around the target.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, both classes present.

    y_score : array-like of shape (n_samples,)
        Probability (or score) of the positive class, as
        ``predict_proba(X)[:, 1]``.

    target_sensitivity : float in (0, 1], default=None
        Sensitivity to reach. Give exactly one of the two targets.

    target_specificity : float in (0, 1], default=None
        Specificity to reach.

    pos_label : int, float, bool or str, default=None
        The positive class; by default the larger of the two labels, as
        ``classes_[1]``.

    Returns
    -------
    threshold : float
        A value of ``y_score``, or ``inf`` (predict no positive) when only that
        meets a target specificity.

    See Also
    --------
    operating_points : Sensitivity, specificity, PPV and NPV at thresholds.
    sklearn.model_selection.FixedThresholdClassifier : Applies a threshold.

    Examples
    --------
    >>> from skcnn import decision_threshold
    >>> y = [0, 0, 0, 1, 1, 1, 1]
    >>> score = [0.1, 0.4, 0.7, 0.3, 0.6, 0.8, 0.9]
    >>> float(decision_threshold(y, score, target_sensitivity=0.75))
    0.6
    >>> float(decision_threshold(y, score, target_specificity=1.0))
    0.8
    """
    targets = {"target_sensitivity": target_sensitivity}
    targets["target_specificity"] = target_specificity
    given = {name: value for name, value in targets.items() if value is not None}
    if len(given) != 1:
        raise ValueError(
            "Give exactly one of target_sensitivity and target_specificity. Got "
            f"{', '.join(f'{k}={v!r}' for k, v in targets.items())}."
        )
    ((name, target),) = given.items()
    if not 0 < target <= 1:
        raise ValueError(f"{name} must be in (0, 1]. Got {name}={target!r}.")
    is_positive, y_score = _positive(y_true, y_score, pos_label)
    # roc_curve's thresholds: inf, then each distinct score, highest first; at
    # each, the rates of predicting positive when y_score >= threshold.
    fpr, tpr, thresholds = roc_curve(is_positive, y_score, drop_intermediate=False)
    sensitivity, specificity = tpr, 1 - fpr
    if name == "target_sensitivity":
        # Sensitivity grows as the threshold falls: the first that reaches it.
        return float(thresholds[np.argmax(sensitivity >= target - 1e-12)])
    # Specificity falls as the threshold falls; at inf it is 1.
    return float(thresholds[np.flatnonzero(specificity >= target - 1e-12)[-1]])


def operating_points(y_true, y_score, thresholds, *, pos_label=None):
    """Sensitivity, specificity, PPV and NPV at each threshold.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, both classes present.

    y_score : array-like of shape (n_samples,)
        Probability (or score) of the positive class.

    thresholds : array-like of float
        Decision thresholds: positive when ``y_score >= threshold``.

    pos_label : int, float, bool or str, default=None
        The positive class; by default the larger of the two labels.

    Returns
    -------
    table : list of dict
        One dict per threshold: ``threshold``, ``sensitivity``,
        ``specificity``, ``ppv``, ``npv`` (NaN where nothing is predicted of
        that class), ``n_positive_predictions``.

    Examples
    --------
    >>> from skcnn import operating_points
    >>> y = [0, 0, 0, 1, 1, 1, 1]
    >>> score = [0.1, 0.4, 0.7, 0.3, 0.6, 0.8, 0.9]
    >>> point = operating_points(y, score, [0.5])[0]
    >>> point["sensitivity"], point["specificity"], point["ppv"]
    (0.75, 0.6666666666666666, 0.75)
    """
    is_positive, y_score = _positive(y_true, y_score, pos_label)
    table = []
    for threshold in np.asarray(thresholds, dtype=float).ravel():
        predicted = y_score >= threshold
        tp = int((predicted & is_positive).sum())
        fp = int((predicted & ~is_positive).sum())
        tn = int((~predicted & ~is_positive).sum())
        fn = int((~predicted & is_positive).sum())
        table.append(
            {
                "threshold": float(threshold),
                "sensitivity": tp / (tp + fn),
                "specificity": tn / (tn + fp),
                "ppv": tp / (tp + fp) if tp + fp else float("nan"),
                "npv": tn / (tn + fn) if tn + fn else float("nan"),
                "n_positive_predictions": tp + fp,
            }
        )
    return table


def split_threshold(model):
    """``(inner, decision)`` of a model: for a FixedThresholdClassifier (around a
    FrozenEstimator, as ``skcnn train --target-sensitivity`` saves), the model it
    thresholds and ``(threshold, positive class)``; else ``(model, None)``, the
    class of highest probability being predicted."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier

    if not isinstance(model, FixedThresholdClassifier):
        return model, None
    inner = getattr(model, "estimator_", model.estimator)
    if isinstance(inner, FrozenEstimator):
        inner = inner.estimator
    classes = getattr(model, "classes_", None)
    positive = model.pos_label
    if positive is None and classes is not None:
        positive = classes[1]
    threshold = 0.5 if model.threshold == "auto" else float(model.threshold)
    return inner, (threshold, positive)
