"""CNN versus logistic regression on the digits 7 and 8, on the same folds.

Runs in well under a minute on 2 CPU cores; needs nothing but skcnn.
"""

from skcnn import (
    CNNBinaryClassifier,
    compare_estimators,
    format_comparison,
    make_baseline,
)
from skcnn.datasets import load_digits_pair

X, y = load_digits_pair(return_X_y=True)
results = compare_estimators(
    {
        "cnn": CNNBinaryClassifier(
            filters=(32, 64), epochs=20, random_state=0, verbose=0
        ),
        "baseline": make_baseline(),
    },
    X,
    y,
    cv=5,
)
print(format_comparison(results))
