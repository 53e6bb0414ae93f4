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
        # The MNIST tutorial's small network suits 8x8 images: Flatten head, no
        # augmentation (the defaults are tuned for real image folders).
        "cnn": CNNBinaryClassifier(
            filters=(32, 64),
            global_pooling=None,
            dropout=0.5,
            augment=None,
            learning_rate_schedule=None,
            epochs=20,
            random_state=0,
            verbose=0,
        ),
        "baseline": make_baseline(),
    },
    X,
    y,
    cv=5,
)
print(format_comparison(results))
