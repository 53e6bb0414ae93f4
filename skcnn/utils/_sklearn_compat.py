"""The one module that imports private scikit-learn API.

scikit-learn does not promise these names across releases; importing them here keeps
any breakage in a single place.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

__all__ = ["Interval", "StrOptions", "_check_sample_weight", "_fit_context"]
