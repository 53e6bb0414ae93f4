"""
Look at what a CNN learned: curves, predictions, top losses and Grad-CAM
========================================================================

Scores say how often a model is right; figures say where and why it goes wrong.
This example trains a small CNN and draws skcnn's Displays (:mod:`skcnn.plot`),
which follow scikit-learn's convention (``Display.from_estimator(...)``,
attributes ``figure_`` and ``ax_``), and scikit-learn's own
:class:`~sklearn.metrics.ConfusionMatrixDisplay` and
:class:`~sklearn.metrics.RocCurveDisplay`, which take the CNN as they take any
classifier.

The data are scikit-learn's digits 7 and 8, each at a random position on a 16x16
canvas (:func:`skcnn.datasets.make_shifted_digits`, bundled, no download); the CNN
is the small one of ``skcnn compare``. Needs ``pip install "skcnn[plot]"``
(matplotlib).

With a folder as argument, the example also saves each figure there as a PNG
file; the user guide's figures are made so::

    python examples/plot_model_inspection.py docs/images
"""

# %%
# Data and model
# --------------
# 30% of the images are held out. ``early_stopping=True`` holds out a further
# ``validation_fraction`` (10%) of the training images, scored at every epoch:
# that gives the validation curves of ``history_``.
import sys
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay
from sklearn.model_selection import train_test_split

from skcnn import CNNBinaryClassifier
from skcnn.datasets import make_shifted_digits
from skcnn.plot import (
    ClassBalanceDisplay,
    GradCAMDisplay,
    HistoryDisplay,
    ImageGridDisplay,
    TopLossesDisplay,
)

out = Path(sys.argv[1]) if len(sys.argv) > 1 else None


def save(figure, name):
    """Save the figure as NAME.png in the folder given as argument, if any."""
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        figure.savefig(out / f"{name}.png", dpi=80)


data = make_shifted_digits()
X_train, X_test, y_train, y_test = train_test_split(
    data.images, data.target, test_size=0.3, stratify=data.target, random_state=0
)
cnn = CNNBinaryClassifier(
    filters=(16, 32),
    global_pooling="max",
    dropout=0.5,
    augment=None,
    learning_rate_schedule=None,
    epochs=30,
    early_stopping=True,
    random_state=0,
).fit(X_train, y_train)
print(f"{cnn.n_iter_} epochs run, weights of epoch {cnn.best_epoch_} kept")
print(f"test accuracy: {cnn.score(X_test, y_test):.3f} on {len(y_test)} images")

# %%
# Class balance
# -------------
# Before training: how many images of each class. An imbalanced folder calls for
# ``class_weight="balanced"`` and for looking at more than the accuracy.
display = ClassBalanceDisplay.from_dataset(data)
save(display.figure_, "class_balance")

# %%
# Training curves
# ---------------
# Loss and accuracy per epoch, on the training images and on the validation
# fraction, from ``history_``. Early stopping restored the weights of the epoch
# with the lowest validation loss.
display = HistoryDisplay.from_estimator(cnn)
save(display.figure_, "history")

# %%
# Predictions on test images
# --------------------------
# Each image with its predicted label and the probability of that label, and its
# true label; a misclassified image gets a red title and frame.
display = ImageGridDisplay.from_estimator(
    cnn, X_test, y_test, n_images=12, n_cols=6, random_state=0
)
save(display.figure_, "image_grid")

# %%
# Top losses, with Grad-CAM
# -------------------------
# The test images of largest log loss: the most confidently wrong, or, when none
# is wrong, the least confident right ones. ``grad_cam=True`` lays over each the
# Grad-CAM heatmap of its predicted class: where the network found its evidence.
display = TopLossesDisplay.from_estimator(
    cnn, X_test, y_test, n_images=6, n_cols=6, grad_cam=True
)
save(display.figure_, "top_losses")

# %%
# Grad-CAM
# --------
# :func:`skcnn.grad_cam` computes one heatmap per image; by default for
# ``classes_[1]``, here the eights. On the eights of this run it lies on the
# digit; on the sevens, the evidence for "8" is scattered, or on a single stroke.
display = GradCAMDisplay.from_estimator(cnn, X_test[:6], n_cols=6)
print(f"Grad-CAM of class {cnn.classes_[1]} over the first six test images")
save(display.figure_, "grad_cam")

# %%
# scikit-learn's Displays
# -----------------------
# The confusion matrix and the ROC curve (positive class: ``classes_[1]``).
figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained")
ConfusionMatrixDisplay.from_estimator(cnn, X_test, y_test, ax=left, colorbar=False)
RocCurveDisplay.from_estimator(cnn, X_test, y_test, ax=right, name="CNN")
save(figure, "sklearn_displays")
plt.show()
