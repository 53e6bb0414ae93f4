"""compare_estimators: cross-validate estimators on the same stratified folds."""

import math
import numbers
import sys
import time

import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline


def n_trainable_params(estimator):
    """Number of trainable parameters of a fitted CNN, linear model or pipeline.

    Returns None for estimators of another kind.
    """
    if isinstance(estimator, Pipeline):
        estimator = estimator[-1]
    model = getattr(estimator, "model_", None)
    if model is not None:
        return int(sum(math.prod(w.shape) for w in model.trainable_weights))
    if hasattr(estimator, "coef_"):
        return int(np.size(estimator.coef_) + np.size(estimator.intercept_))
    return None


def compare_estimators(estimators, X, y, *, cv=5, random_state=0, verbose=1):
    """Cross-validate estimators on the same stratified folds, fold by fold.

    Each estimator is cloned and fitted on each training fold, then scored on the
    held-out fold from one ``predict_proba`` call, so fit and predict times are
    measured separately.

    Parameters
    ----------
    estimators : dict of str to estimator
        Binary classifiers with ``predict_proba``, keyed by the name to report.

    X : array-like of shape (n_samples, ...)
        Input accepted by every estimator.

    y : array-like of shape (n_samples,)
        Binary labels.

    cv : int or iterable of (train, test) index arrays, default=5
        Number of stratified folds (shuffled with ``random_state``), or the splits
        themselves, as scikit-learn's ``cv`` takes them: a single split
        ``[(train, test)]`` scores a held-out test set.

    random_state : int, default=0
        Seeds the folds, when ``cv`` is an int.

    verbose : int, default=1
        When positive, prints one line per fold and estimator to stderr.

    Returns
    -------
    results : dict of str to dict
        Per estimator: ``accuracy``, ``roc_auc``, ``fit_time`` and
        ``predict_time`` (lists with one value per fold, times in seconds) and
        ``trainable_params`` of the last fitted clone.

    See Also
    --------
    format_comparison : The results as a text table.
    paired_difference : The difference of two estimators' scores, with its
        confidence interval.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from skcnn import compare_estimators, make_baseline
    >>> from skcnn.datasets import load_digits_pair
    >>> X, y = load_digits_pair(return_X_y=True)
    >>> results = compare_estimators(
    ...     {"baseline": make_baseline(), "prior": DummyClassifier()},
    ...     X, y, cv=3, verbose=0,
    ... )
    >>> sorted(results["baseline"])
    ['accuracy', 'fit_time', 'predict_time', 'roc_auc', 'trainable_params']
    >>> results["prior"]["roc_auc"]
    [0.5, 0.5, 0.5]
    """
    if isinstance(cv, numbers.Integral):
        splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
        folds = list(splitter.split(X, y))
    else:
        folds = list(cv)
    y = np.asarray(y)
    results = {
        name: {
            "accuracy": [],
            "roc_auc": [],
            "fit_time": [],
            "predict_time": [],
            "trainable_params": None,
        }
        for name in estimators
    }
    for k, (train, test) in enumerate(folds, start=1):
        for name, estimator in estimators.items():
            fitted = clone(estimator)
            start = time.perf_counter()
            fitted.fit(X[train], y[train])
            fit_time = time.perf_counter() - start
            start = time.perf_counter()
            proba = fitted.predict_proba(X[test])
            predict_time = time.perf_counter() - start
            classes = fitted.classes_
            row = results[name]
            row["accuracy"].append(
                float(accuracy_score(y[test], classes[np.argmax(proba, axis=1)]))
            )
            row["roc_auc"].append(
                float(roc_auc_score(y[test] == classes[1], proba[:, 1]))
            )
            row["fit_time"].append(fit_time)
            row["predict_time"].append(predict_time)
            row["trainable_params"] = n_trainable_params(fitted)
            if verbose:
                where = f"fold {k}/{len(folds)}" if len(folds) > 1 else "test"
                print(
                    f"{where}  {name:<10} accuracy "
                    f"{row['accuracy'][-1]:.3f}  ROC AUC {row['roc_auc'][-1]:.3f}  "
                    f"fit {fit_time:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
    return results


def format_comparison(results):
    """The results of :func:`compare_estimators` as a text table.

    A row per estimator: its accuracy and ROC AUC, as the mean ± standard
    deviation over the folds or the score of a single split, its mean fit and
    predict times and its trainable parameters.

    Parameters
    ----------
    results : dict of str to dict
        What :func:`compare_estimators` returns.

    Returns
    -------
    table : str
        A header, a rule, and a line per estimator.

    See Also
    --------
    compare_estimators : Measures the results.
    paired_difference : The difference of two estimators' scores, with its
        confidence interval.

    Examples
    --------
    >>> from skcnn import format_comparison
    >>> results = {
    ...     "baseline": {
    ...         "accuracy": [0.9, 1.0],
    ...         "roc_auc": [0.95, 1.0],
    ...         "fit_time": [0.1, 0.1],
    ...         "predict_time": [0.01, 0.01],
    ...         "trainable_params": 65,
    ...     }
    ... }
    >>> print(format_comparison(results))  # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
    model accuracy ROC AUC fit time (s) predict (s) trainable params
    ------...
    baseline 0.950 ± 0.050 0.975 ± 0.025 0.10 0.010 65
    """

    def score(values):
        if len(values) == 1:
            return f"{values[0]:>15.3f}"
        return f"{np.mean(values):>7.3f} ± {np.std(values):.3f}"

    header = (
        f"{'model':<10} {'accuracy':>15} {'ROC AUC':>15} {'fit time (s)':>13} "
        f"{'predict (s)':>12} {'trainable params':>17}"
    )
    lines = [header, "-" * len(header)]
    for name, row in results.items():
        params = row["trainable_params"]
        params = "-" if params is None else f"{params:,}"
        lines.append(
            f"{name:<10} "
            f"{score(row['accuracy'])} {score(row['roc_auc'])} "
            f"{np.mean(row['fit_time']):>13.2f} {np.mean(row['predict_time']):>12.3f} "
            f"{params:>17}"
        )
    return "\n".join(lines)


def paired_difference(
    results, model, reference="baseline", *, metric="accuracy", test_train_ratio
):
    """Mean per-fold difference ``model - reference`` of compare_estimators'
    scores, with the corrected resampled t-test of Nadeau and Bengio (2003).

    The folds of a cross-validation share most of their training data, so their
    scores are not independent and the plain paired t-test is overconfident.
    Nadeau and Bengio's correction inflates the variance of the mean difference
    from ``var / k`` to ``(1 / k + n_test / n_train) * var`` (``var`` the sample
    variance of the ``k`` per-fold differences), with ``k - 1`` degrees of freedom.

    Parameters
    ----------
    results : dict
        What :func:`compare_estimators` returns.

    model, reference : str
        The two estimators' names in ``results``.

    metric : {"accuracy", "roc_auc"}, default="accuracy"
        The per-fold score to compare.

    test_train_ratio : float
        Test over training samples of a fold: ``1 / (k - 1)`` for k-fold
        cross-validation.

    Returns
    -------
    difference : dict
        ``mean`` (of the per-fold differences), ``ci_low`` and ``ci_high`` (its
        95% confidence interval), ``t`` and ``p_value`` (two-sided, for a mean
        difference of 0) and ``folds``. With a single fold, only ``mean`` and
        ``folds``; the others are None.

    See Also
    --------
    compare_estimators : Measures the per-fold scores.

    Examples
    --------
    >>> from skcnn import paired_difference
    >>> results = {
    ...     "cnn": {"accuracy": [0.90, 0.95, 0.92]},
    ...     "baseline": {"accuracy": [0.80, 0.90, 0.85]},
    ... }
    >>> difference = paired_difference(results, "cnn", test_train_ratio=1 / 2)
    >>> round(difference["mean"], 3), difference["folds"]
    (0.073, 3)
    >>> round(difference["ci_low"], 3), round(difference["ci_high"], 3)
    (-0.026, 0.172)
    >>> round(difference["p_value"], 3)
    0.086
    """
    from scipy import stats

    first = np.asarray(results[model][metric], dtype=float)
    second = np.asarray(results[reference][metric], dtype=float)
    if first.shape != second.shape:
        raise ValueError(
            f"{model!r} and {reference!r} were scored on different folds: "
            f"{first.size} and {second.size} scores."
        )
    differences = first - second
    k = differences.size
    out = {"mean": float(np.mean(differences)), "folds": int(k)}
    out.update(ci_low=None, ci_high=None, t=None, p_value=None)
    if k < 2:
        return out
    se = math.sqrt((1 / k + test_train_ratio) * np.var(differences, ddof=1))
    half = float(stats.t.ppf(0.975, k - 1)) * se
    out.update(ci_low=out["mean"] - half, ci_high=out["mean"] + half)
    if se > 0:
        t = out["mean"] / se
        out.update(t=float(t), p_value=float(2 * stats.t.sf(abs(t), k - 1)))
    else:  # every fold gave the same difference
        out.update(p_value=1.0 if out["mean"] == 0 else 0.0)
    return out


def format_differences(results, reference="baseline", *, test_train_ratio):
    """Lines ``model - reference`` for every other model of ``results``: the
    mean per-fold difference of accuracy and ROC AUC, with the 95% confidence
    interval and p-value of :func:`paired_difference`."""
    lines = []
    for name in results:
        if name == reference:
            continue
        parts = []
        for metric, label in (("accuracy", "accuracy"), ("roc_auc", "ROC AUC")):
            d = paired_difference(
                results,
                name,
                reference,
                metric=metric,
                test_train_ratio=test_train_ratio,
            )
            text = f"{label} {d['mean']:+.3f}"
            if d["ci_low"] is not None:
                text += (
                    f" (95% CI {d['ci_low']:+.3f} to {d['ci_high']:+.3f}, "
                    f"p = {d['p_value']:.3g})"
                )
            parts.append(text)
        lines.append(f"{name} - {reference}: " + ", ".join(parts))
    if lines and len(results[reference]["accuracy"]) > 1:
        lines.append(
            "(mean per-fold differences; intervals and p-values from the corrected "
            "resampled t-test of Nadeau and Bengio, for folds sharing training data)"
        )
    return "\n".join(lines)
