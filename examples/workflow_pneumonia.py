"""
Pneumonia on chest X-rays: class weights, class counts, images and training curves
==================================================================================

Pneumonia against normal chest X-rays, where the training folder holds about three
images of pneumonia for every normal one. ``class_weight="balanced"`` weighs each
class's images inversely to its count, so the minority class counts as much in the
loss as the majority. The example draws what to look at before and after training,
with skcnn's Displays, and saves them as PNG files in an output folder:

- ``class_balance.png``: the images per class (:class:`~skcnn.plot.ClassBalanceDisplay`);
- ``history.png``: loss and accuracy per epoch on the training images and on the
  held-out validation fraction (:class:`~skcnn.plot.HistoryDisplay`);
- ``image_grid.png``: test images with the predicted label and its probability,
  the misclassified ones in red (:class:`~skcnn.plot.ImageGridDisplay`).

It prints the test accuracy, balanced accuracy and ROC AUC of the CNN with and
without class weights, next to the logistic-regression baseline
(:func:`~skcnn.make_baseline`, also with balanced class weights).

Written for the ``pneumoniamnist`` folder of the project's development data
(PneumoniaMNIST of MedMNIST v2, Yang et al. 2023, from the chest X-rays of Kermany
et al. 2018; CC BY 4.0): 28x28 grayscale PNGs, 355 NORMAL and 1021 PNEUMONIA
images in ``train/``, 234 and 387 in ``test/``. Any folder with ``train/`` and
``test/``, each holding one subfolder per class, works the same way. Not executed
when the documentation is built; run it yourself::

    python examples/workflow_pneumonia.py PATH/TO/pneumoniamnist [--out figures]

Recorded output
---------------

Run on 2026-12-01 with ``python examples/workflow_pneumonia.py
/work/shared/data/pneumoniamnist --out /tmp/gal/pneumonia_figures`` (288 s in all, under
``nice`` on 2 CPU cores shared with other jobs; the fit times are upper bounds)::

    1376 image files in the class folders of '/work/shared/data/pneumoniamnist/train': 355 'NORMAL', 1021 'PNEUMONIA'.
    621 image files in the class folders of '/work/shared/data/pneumoniamnist/test': 234 'NORMAL', 387 'PNEUMONIA'.
    model         accuracy balanced  ROC AUC  fit (s)
    baseline         0.841    0.797    0.913      0.4
    cnn              0.881    0.851    0.959    160.1
    cnn balanced     0.895    0.889    0.953     58.5
    cnn balanced: 15 epochs run, weights of epoch 10
    figures saved in /tmp/gal/pneumonia_figures: class_balance.png, history.png, image_grid.png

Both CNNs rank the test images better than the baseline (ROC AUC 0.959 and 0.953
against 0.913). The class weights raise the CNN's balanced accuracy from 0.851 to
0.889 at the 0.5 threshold without improving its ranking: they move the operating
point towards the minority class, NORMAL, as a tuned threshold would (see the
calibration and threshold example). This is one run with one seed on one test
set: differences of a hundredth are within what another seed gives. The test set
holds more NORMAL images (37.7%) than the training set (25.8%).
"""  # noqa: E501

# %%
# Arguments and data
# ------------------
import argparse
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

from skcnn import CNNBinaryClassifier, ImageLoader, load_image_folder, make_baseline
from skcnn.plot import ClassBalanceDisplay, HistoryDisplay, ImageGridDisplay

parser = argparse.ArgumentParser(description="Pneumonia on chest X-rays.")
parser.add_argument("folder", help="the dataset folder, holding train/ and test/")
parser.add_argument("--out", default="pneumonia_figures", help="folder for the PNGs")
parser.add_argument("--epochs", type=int, default=40)
args = parser.parse_args(sys.argv[1:])

root, out = Path(args.folder), Path(args.out)
out.mkdir(parents=True, exist_ok=True)
train = load_image_folder(root / "train")
test = load_image_folder(root / "test")
print(train.DESCR)
print(test.DESCR)

display = ClassBalanceDisplay.from_dataset(train)
display.figure_.savefig(out / "class_balance.png", dpi=80)

# %%
# Read the images once
# --------------------
# The images are small, so they are decoded once into arrays (28x28 grayscale)
# and every model trains on the same arrays.
loader = ImageLoader(image_size=(28, 28), color_mode="grayscale")
X_train, X_test = loader.transform(train.filenames), loader.transform(test.filenames)
y_train, y_test = train.target, test.target

# %%
# With and without class weights
# ------------------------------
# CNNBinaryClassifier's defaults (four blocks, global average pooling,
# augmentation, cosine decay), with early stopping on a stratified 10% of the
# training images, which also records the validation curves of ``history_``.
params = {"epochs": args.epochs, "early_stopping": True, "random_state": 0}
models = {
    "baseline": make_baseline(class_weight="balanced"),
    "cnn": CNNBinaryClassifier(**params),
    "cnn balanced": CNNBinaryClassifier(class_weight="balanced", **params),
}
print(f"{'model':<13} {'accuracy':>8} {'balanced':>8} {'ROC AUC':>8} {'fit (s)':>8}")
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    proba = model.predict_proba(X_test)
    y_pred = model.classes_[np.argmax(proba, axis=1)]
    print(
        f"{name:<13} {accuracy_score(y_test, y_pred):>8.3f} "
        f"{balanced_accuracy_score(y_test, y_pred):>8.3f} "
        f"{roc_auc_score(y_test == model.classes_[1], proba[:, 1]):>8.3f} "
        f"{fit_time:>8.1f}"
    )
cnn = models["cnn balanced"]
print(f"cnn balanced: {cnn.n_iter_} epochs run, weights of epoch {cnn.best_epoch_}")

# %%
# Training curves and test images
# -------------------------------
display = HistoryDisplay.from_estimator(cnn)
display.figure_.savefig(out / "history.png", dpi=80)
display = ImageGridDisplay.from_estimator(
    cnn, X_test, y_test, n_images=16, n_cols=8, random_state=0
)
display.figure_.savefig(out / "image_grid.png", dpi=80)
print(f"figures saved in {out}: class_balance.png, history.png, image_grid.png")
plt.close("all")
