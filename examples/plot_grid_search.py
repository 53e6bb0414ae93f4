"""
Grid search over filters and dropout
====================================

:class:`~skcnn.CNNBinaryClassifier` is a scikit-learn estimator, so
:class:`~sklearn.model_selection.GridSearchCV` tunes its parameters like any
other's: it clones the estimator for each candidate and fold, sets the
parameters, fits, scores, and refits the best candidate on all the data. Here, the
network's width and depth (``filters``: one entry per convolution block) and its
``dropout``, on the digits 7 and 8 at random positions on a 16x16 canvas
(:func:`skcnn.datasets.make_shifted_digits`, bundled with scikit-learn, no
download).

The fits are kept tiny (6 epochs, 2 folds of 132 training images) so that the
example runs in seconds on 2 CPU cores; on your own images, use more folds and
search with the number of epochs you will train with, since the best width and
dropout depend on it.
"""

# %%
# Data and search
# ---------------
# A quarter of the images is held out to check the refitted model. The search
# scores every candidate and fold by its accuracy (the ROC AUCs of this easy task
# are all close to 1, so they would not tell the candidates apart), then refits
# the best candidate on all the training images.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, train_test_split

from skcnn import CNNBinaryClassifier
from skcnn.datasets import make_shifted_digits

X, y = make_shifted_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
cnn = CNNBinaryClassifier(
    global_pooling="max",
    augment=None,
    learning_rate=0.005,
    learning_rate_schedule=None,
    epochs=6,
    metrics=(),  # no per-epoch accuracy: the search scores the folds itself
    random_state=0,
)
param_grid = {"filters": [(8,), (16, 32)], "dropout": [0.0, 0.5]}
search = GridSearchCV(cnn, param_grid, cv=2, scoring="accuracy")
search.fit(X_train, y_train)

# %%
# The results table
# -----------------
# ``cv_results_`` holds every candidate's fold scores and fit times; a DataFrame
# makes it readable.
table = pd.DataFrame(search.cv_results_)
columns = {
    "param_filters": "filters",
    "param_dropout": "dropout",
    "split0_test_score": "fold 1",
    "split1_test_score": "fold 2",
    "mean_test_score": "accuracy",
    "mean_fit_time": "fit (s)",
    "rank_test_score": "rank",
}
table = table[list(columns)].rename(columns=columns).sort_values("rank")
print(table.to_string(index=False, float_format="{:.3f}".format))
print(f"best parameters: {search.best_params_}")
print(
    f"held-out accuracy of the refitted best model: {search.score(X_test, y_test):.3f}"
)

# %%
# Scores per candidate
# --------------------
# Each point is one fold's accuracy, the dash the mean over the folds. With folds
# of 132 images, one image is 0.008 of accuracy, and a candidate's two folds
# differ by up to 0.02 here: read differences of a hundredth or two between
# candidates as noise.
fold_scores = np.array([search.cv_results_[f"split{k}_test_score"] for k in range(2)]).T
labels = [
    f"filters={p['filters']}\ndropout={p['dropout']}"
    for p in search.cv_results_["params"]
]
figure, ax = plt.subplots(figsize=(7, 3.4), layout="constrained")
positions = np.arange(len(labels))
ax.plot(positions, fold_scores.mean(axis=1), "_", color="C0", markersize=40, mew=2)
for k in range(fold_scores.shape[1]):
    ax.plot(positions, fold_scores[:, k], "o", color="black", markersize=4)
ax.set_xticks(positions, labels, fontsize="small")
ax.set_ylabel("accuracy per fold")
ax.set_xlim(-0.5, len(labels) - 0.5)
ax.set_ylim(fold_scores.min() - 0.03, 1.005)
ax.set_title("GridSearchCV of CNNBinaryClassifier on the shifted digits")
plt.show()
