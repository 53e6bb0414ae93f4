import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

from skcnn import make_baseline


@pytest.mark.parametrize(
    "reshape", [lambda X: X, lambda X: X[..., 0], lambda X: X.reshape(len(X), -1)]
)
def test_takes_the_cnn_input(digits, reshape):
    X, y = digits
    baseline = make_baseline().fit(reshape(X), y)
    assert baseline.score(reshape(X), y) > 0.95
    np.testing.assert_array_equal(baseline.classes_, [7, 8])


def test_steps_and_params():
    baseline = make_baseline(C=0.5, class_weight="balanced", random_state=0)
    assert [name for name, _ in baseline.steps] == [
        "flatten",
        "scale",
        "logisticregression",
    ]
    params = baseline.get_params()
    assert params["logisticregression__C"] == 0.5
    assert params["logisticregression__class_weight"] == "balanced"
    clone(baseline)


def test_class_weight_balanced_favours_the_minority(digits):
    X, y = digits
    keep = np.r_[np.flatnonzero(y == 7), np.flatnonzero(y == 8)[:30]]
    X, y = X[keep], y[keep]
    plain = make_baseline(C=0.01).fit(X, y).predict_proba(X)[:, 1].mean()
    balanced = make_baseline(C=0.01, class_weight="balanced").fit(X, y)
    assert balanced.predict_proba(X)[:, 1].mean() > plain


def _blas_threads():
    """(library, threads) of each BLAS thread pool loaded."""
    return [
        (i["filepath"], i["num_threads"])
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]


def test_blas_runs_on_one_thread_during_fit_only(digits, monkeypatch):
    """The one-thread limit holds inside LogisticRegression.fit, and is lifted
    after it. BLAS is first given 2 threads, so that the limit is observable
    whatever this machine's default."""
    X, y = digits
    during = []
    parent_fit = LogisticRegression.fit

    def spying_fit(self, *args, **kwargs):
        during.append(_blas_threads())
        return parent_fit(self, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", spying_fit)
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        assert before and all(n == 2 for _, n in before)
        make_baseline().fit(X, y)
        after = _blas_threads()
    assert len(during) == 1
    assert during[0] == [(path, 1) for path, _ in before]
    assert after == before
