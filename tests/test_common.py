"""scikit-learn's estimator checks on a default-constructed CNNBinaryClassifier.

Every check runs (none is skipped); the one expected failure has its reason below.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skcnn import CNNBinaryClassifier

EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "stochastic mini-batch training: a weight of 2 changes the batches, so it "
        "cannot equal a duplicated row exactly"
    ),
}


@parametrize_with_checks(
    [CNNBinaryClassifier()],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
