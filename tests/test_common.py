"""scikit-learn's estimator checks on cheap instances of skcnn's estimators.

Every check of ``CNNBinaryClassifier`` runs (none is skipped); each expected failure
has its reason below.
"""

import pytest
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcnn import CNNBinaryClassifier, ImageLoader

from .conftest import DATA_FREE_CHECKS, MINIMAL

EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "stochastic mini-batch training: a weight of 2 changes the batches, so it "
        "cannot equal a duplicated row exactly"
    ),
}


@parametrize_with_checks(
    [CNNBinaryClassifier(**MINIMAL, filters=(8,), epochs=10, learning_rate=0.01)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# ImageLoader takes file paths (its input tag is `string`): scikit-learn's
# check_estimator cannot feed it data and refuses it with a SkipTestWarning, as it
# does HashingVectorizer. DATA_FREE_CHECKS are its checks that need no data; what
# the others cover (fit returns self, transform's output, pickling, n_jobs) is
# tested with real image files in test_image.py.
@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_image_loader_checks_without_data(check):
    loader = ImageLoader(image_size=(8, 8), color_mode="grayscale")
    getattr(estimator_checks, check)("ImageLoader", loader)
