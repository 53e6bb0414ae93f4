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
    """The results of compare_estimators as a text table, a row per estimator:
    mean ± standard deviation over the folds, or the score of a single split."""

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
