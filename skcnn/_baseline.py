"""make_baseline: the logistic-regression yardstick, taking the same X as the CNN."""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from ._versioning import _VersionedPickleMixin


def flatten_images(X):
    """Reshape images of shape (n_samples, ...) to (n_samples, n_pixels)."""
    X = np.asarray(X)
    return X.reshape(len(X), -1)


class OneThreadLogisticRegression(_VersionedPickleMixin, LogisticRegression):
    """LogisticRegression whose ``fit`` runs BLAS on one thread.

    Its lbfgs solver spends its time in many small BLAS calls, for which extra
    threads gain little, and they slow it down badly when other work competes
    for the cores (a CNN training, parallel cross-validation): measured on 2
    cores, default threads took 0.8-1.9x the one-thread time on an idle machine
    and 1.2-3x under load (``benchmarks/bench_baseline.py``). Parameters and
    attributes are those of :class:`~sklearn.linear_model.LogisticRegression`.
    """

    def fit(self, X, y, sample_weight=None):
        with threadpool_limits(limits=1, user_api="blas"):
            return super().fit(X, y, sample_weight=sample_weight)


def make_baseline(*, C=1.0, class_weight=None, max_iter=1000, random_state=None):
    """Logistic regression on standardized pixels: the yardstick for a CNN.

    The pipeline flattens images, standardizes each pixel and fits a logistic
    regression, so it takes exactly the X that :class:`CNNBinaryClassifier` takes
    (uint8 or float images of shape (n, h, w[, c]) or flattened pixels) and the two
    can be cross-validated on the same folds.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularization strength of the logistic regression.

    class_weight : dict, "balanced" or None, default=None
        Class weights, as for :class:`CNNBinaryClassifier`.

    max_iter : int, default=1000
        Maximum lbfgs iterations; standardized pixels converge well within it.

    random_state : int, RandomState instance or None, default=None
        Passed to the logistic regression (lbfgs itself is deterministic).

    Returns
    -------
    pipeline : :class:`~sklearn.pipeline.Pipeline`
        Steps ``flatten``, ``scale`` (StandardScaler) and ``logisticregression``
        (LogisticRegression fitted with BLAS on one thread, which keeps lbfgs
        fast when other work competes for the cores), so
        ``logisticregression__C`` can be tuned.

    Examples
    --------
    >>> from skcnn import make_baseline
    >>> from skcnn.datasets import load_digits_pair
    >>> X, y = load_digits_pair(return_X_y=True)
    >>> round(make_baseline().fit(X, y).score(X, y), 2)
    1.0
    """
    return Pipeline(
        [
            ("flatten", FunctionTransformer(flatten_images)),
            ("scale", StandardScaler()),
            (
                "logisticregression",
                OneThreadLogisticRegression(
                    C=C,
                    class_weight=class_weight,
                    max_iter=max_iter,
                    random_state=random_state,
                ),
            ),
        ]
    )
