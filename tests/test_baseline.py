import numpy as np
import pytest
from sklearn.base import clone
from threadpoolctl import threadpool_info

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


def test_thread_limit_is_restored_after_fit(digits):
    X, y = digits
    before = [(i["filepath"], i["num_threads"]) for i in threadpool_info()]
    make_baseline().fit(X, y)
    assert [(i["filepath"], i["num_threads"]) for i in threadpool_info()] == before
