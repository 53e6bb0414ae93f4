"""scikit-learn's estimator checks on cheap instances of skcnn's estimators.

Every check of ``CNNBinaryClassifier`` runs (none is skipped); each expected failure
has its reason below.
"""

import pytest
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from skcnn import CNNBinaryClassifier, ImageLoader

EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "stochastic mini-batch training: a weight of 2 changes the batches, so it "
        "cannot equal a duplicated row exactly"
    ),
}


@parametrize_with_checks(
    [CNNBinaryClassifier(filters=(8,), epochs=10, learning_rate=0.01)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# ImageLoader takes file paths (its input tag is `string`): scikit-learn's
# check_estimator cannot feed it data and refuses it with a SkipTestWarning, as it
# does HashingVectorizer. These are its checks that need no data; what the others
# cover (fit returns self, transform's output, pickling, n_jobs) is tested with
# real image files in test_image.py.
IMAGE_LOADER_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
]


@pytest.mark.parametrize("check", IMAGE_LOADER_CHECKS)
def test_image_loader_checks_without_data(check):
    loader = ImageLoader(image_size=(8, 8), color_mode="grayscale")
    getattr(estimator_checks, check)("ImageLoader", loader)
