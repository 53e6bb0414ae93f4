"""paired_difference: the corrected resampled t-test of compare's folds."""

import numpy as np
import pytest
from scipy import stats

from skcnn import paired_difference
from skcnn._compare import format_differences

CNN = [0.90, 0.85, 0.95, 0.88, 0.92]
BASELINE = [0.80, 0.82, 0.81, 0.85, 0.79]


def _results(first, second):
    return {"cnn": {"accuracy": first}, "baseline": {"accuracy": second}}


def test_uncorrected_is_the_paired_t_test():
    d = paired_difference(_results(CNN, BASELINE), "cnn", test_train_ratio=0.0)
    plain = stats.ttest_rel(CNN, BASELINE)
    assert d["mean"] == pytest.approx(np.mean(CNN) - np.mean(BASELINE))
    assert d["t"] == pytest.approx(plain.statistic)
    assert d["p_value"] == pytest.approx(plain.pvalue)
    low, high = plain.confidence_interval(0.95)
    assert (d["ci_low"], d["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert d["folds"] == 5


def test_nadeau_bengio_correction_for_5_folds():
    # 5-fold cross-validation: test / train = 1 / 4. The variance of the mean
    # grows from var / 5 to (1 / 5 + 1 / 4) var: t shrinks by sqrt(0.2 / 0.45).
    d = paired_difference(_results(CNN, BASELINE), "cnn", test_train_ratio=0.25)
    plain = stats.ttest_rel(CNN, BASELINE)
    t = plain.statistic * np.sqrt(0.2 / 0.45)
    assert d["t"] == pytest.approx(t)
    assert d["p_value"] == pytest.approx(2 * stats.t.sf(t, df=4))
    assert d["p_value"] > plain.pvalue
    differences = np.subtract(CNN, BASELINE)
    half = stats.t.ppf(0.975, 4) * np.sqrt(0.45 * np.var(differences, ddof=1))
    assert d["ci_low"] == pytest.approx(differences.mean() - half)
    assert d["ci_high"] == pytest.approx(differences.mean() + half)


def test_single_split_and_equal_differences():
    d = paired_difference(_results([0.9], [0.8]), "cnn", test_train_ratio=0.5)
    assert d["mean"] == pytest.approx(0.1) and d["folds"] == 1
    assert d["ci_low"] is d["ci_high"] is d["t"] is d["p_value"] is None
    same = paired_difference(
        _results([0.75, 0.5], [0.5, 0.25]), "cnn", test_train_ratio=1.0
    )
    assert same["ci_low"] == 0.25 == same["ci_high"]
    assert same["p_value"] == 0.0
    tie = paired_difference(_results([0.9, 0.8], [0.9, 0.8]), "cnn", test_train_ratio=1)
    assert tie["mean"] == 0 and tie["p_value"] == 1.0


def test_different_folds_are_refused():
    with pytest.raises(ValueError, match="different folds: 2 and 3 scores"):
        paired_difference(
            _results([0.9, 0.8], [0.8, 0.7, 0.6]), "cnn", test_train_ratio=0.5
        )


def test_format_differences():
    results = _results(CNN, BASELINE)
    results["cnn"]["roc_auc"] = CNN
    results["baseline"]["roc_auc"] = BASELINE
    text = format_differences(results, test_train_ratio=0.25)
    d = paired_difference(results, "cnn", test_train_ratio=0.25)
    first = text.splitlines()[0]
    assert first.startswith(f"cnn - baseline: accuracy {d['mean']:+.3f} (95% CI ")
    assert f"p = {d['p_value']:.3g}" in first
    assert "Nadeau and Bengio" in text
