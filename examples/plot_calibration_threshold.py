"""
Calibrated probabilities and a decision threshold
=================================================

A CNN trained for a few epochs can rank images perfectly and still be wrong about
its probabilities, and a probability of 0.5 is rarely the threshold a task needs.
Both are fixed after training, on images the network was not trained on, with
scikit-learn's own tools, which take :class:`~skcnn.CNNBinaryClassifier` like any
classifier:

- :class:`~sklearn.calibration.CalibratedClassifierCV` maps the scores to
  calibrated probabilities;
- :class:`~sklearn.model_selection.TunedThresholdClassifierCV` chooses the
  threshold that maximizes a score (here the balanced accuracy);
- :func:`skcnn.decision_threshold` chooses the threshold that meets a target
  sensitivity, applied by :class:`~sklearn.model_selection.FixedThresholdClassifier`
  (what ``skcnn train --target-sensitivity`` saves).

The trained network is wrapped in :class:`~sklearn.frozen.FrozenEstimator`, so
none of them retrains it. The data: scikit-learn's digits 3 and 8, each at a
random position on a 24x24 canvas (:func:`skcnn.datasets.make_shifted_digits`, no
download), with 8 as the positive class.
"""

# %%
# Three disjoint sets
# -------------------
# Half of the images train the network, a quarter is held out to calibrate and to
# choose thresholds, and the last quarter tests what was chosen.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import CalibratedClassifierCV, CalibrationDisplay
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import (
    FixedThresholdClassifier,
    TunedThresholdClassifierCV,
    train_test_split,
)

from skcnn import CNNBinaryClassifier, decision_threshold, operating_points
from skcnn.datasets import make_shifted_digits

X, y = make_shifted_digits((3, 8), canvas_size=24, return_X_y=True)
X_train, X_rest, y_train, y_rest = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
X_held, X_test, y_held, y_test = train_test_split(
    X_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=0
)
print(f"train {len(y_train)}, held out {len(y_held)}, test {len(y_test)} images")

cnn = CNNBinaryClassifier(
    filters=(16, 32),
    global_pooling="max",
    dropout=0.5,
    augment=None,
    learning_rate_schedule=None,
    epochs=10,
    random_state=0,
).fit(X_train, y_train)
proba = cnn.predict_proba(X_test)[:, 1]  # of classes_[1], the 8s
print(
    f"test ROC AUC {roc_auc_score(y_test == 8, proba):.3f}, balanced accuracy at "
    f"0.5 {balanced_accuracy_score(y_test, cnn.predict(X_test)):.3f}, "
    f"probabilities from {proba.min():.2f} to {proba.max():.2f}"
)

# %%
# Calibration
# -----------
# After 10 epochs the probabilities stay near 0.5 whatever the image: the model is
# underconfident. Sigmoids fitted on the held-out images (Platt scaling; with the
# default ``cv``, one per fold of the held-out images, averaged) map them to
# calibrated probabilities; the ranking, and so the ROC AUC, stays the same.
calibrated = CalibratedClassifierCV(FrozenEstimator(cnn), method="sigmoid")
calibrated.fit(X_held, y_held)
proba_calibrated = calibrated.predict_proba(X_test)[:, 1]
for name, p in [("CNN", proba), ("calibrated", proba_calibrated)]:
    print(
        f"{name:<10} Brier score {brier_score_loss(y_test == 8, p):.3f}, "
        f"ROC AUC {roc_auc_score(y_test == 8, p):.3f}"
    )

figure, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
CalibrationDisplay.from_predictions(y_test == 8, proba, n_bins=5, name="CNN", ax=ax)
CalibrationDisplay.from_predictions(
    y_test == 8, proba_calibrated, n_bins=5, name="calibrated", ax=ax
)
ax.set_title("Calibration on the test images")
plt.show()

# %%
# A threshold that maximizes the balanced accuracy
# ------------------------------------------------
# :class:`~sklearn.model_selection.TunedThresholdClassifierCV` tries 100
# thresholds on the held-out images (in 5 folds; the frozen network is not
# refitted) and keeps the best on average.
tuned = TunedThresholdClassifierCV(
    FrozenEstimator(cnn), scoring="balanced_accuracy", cv=5
).fit(X_held, y_held)
print(
    f"tuned threshold {tuned.best_threshold_:.3f}: test balanced accuracy "
    f"{balanced_accuracy_score(y_test, tuned.predict(X_test)):.3f}"
)

# %%
# A threshold for a target sensitivity
# ------------------------------------
# A screening model must find (say) 95% of the positives. The largest threshold
# that finds 95% of the held-out 8s gives the best specificity that meets it;
# on new images the sensitivity varies around the target, the more so the fewer
# positives were held out.
threshold = decision_threshold(
    y_held, cnn.predict_proba(X_held)[:, 1], target_sensitivity=0.95, pos_label=8
)
screening = FixedThresholdClassifier(
    FrozenEstimator(cnn),
    threshold=threshold,
    pos_label=8,
    response_method="predict_proba",
).fit(X_held, y_held)
n_held = (y_held == 8).sum()
print(f"threshold for 95% sensitivity: {threshold:.3f} (from {n_held} held-out 8s)")

# %%
# The test images at each threshold
# ---------------------------------
# :func:`skcnn.operating_points` gives sensitivity, specificity, PPV and NPV.
thresholds = {"0.5": 0.5, "tuned": tuned.best_threshold_, "95% sens.": threshold}
print(
    f"{'threshold':<20} {'sensitivity':>11} {'specificity':>11} {'PPV':>6} {'NPV':>6}"
)
points = operating_points(y_test, proba, list(thresholds.values()), pos_label=8)
for name, point in zip(thresholds, points, strict=True):
    print(
        f"{name:<10} {point['threshold']:>9.3f} {point['sensitivity']:>11.3f} "
        f"{point['specificity']:>11.3f} {point['ppv']:>6.3f} {point['npv']:>6.3f}"
    )
np.testing.assert_array_equal(screening.predict(X_test) == 8, proba >= threshold)

grid = np.linspace(proba.min(), proba.max(), 200)
points = operating_points(y_test, proba, grid, pos_label=8)
figure, ax = plt.subplots(figsize=(7.5, 3.4), layout="constrained")
ax.plot(grid, [p["sensitivity"] for p in points], label="sensitivity")
ax.plot(grid, [p["specificity"] for p in points], label="specificity")
for (name, value), style in zip(thresholds.items(), [":", "--", "-."], strict=True):
    ax.axvline(value, color="grey", linestyle=style, label=f"threshold {name}")
ax.set_xlabel("threshold on the CNN's probability of 8")
ax.set_title("Test images: sensitivity and specificity by threshold")
ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1, 0.5))
plt.show()
