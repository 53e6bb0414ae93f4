"""Look at what a CNN learned: class balance, training curves, predictions,
top losses and Grad-CAM.

Trains the small CNN of ``skcnn compare`` on scikit-learn's digits 7 and 8 placed
at random positions on a 16x16 canvas (``skcnn.datasets.make_shifted_digits``,
bundled, no download), then draws skcnn's Displays. With a folder as argument it
saves each figure there as a PNG (the user guide's figures are made with
``python examples/plot_model_inspection.py docs/images``). Runs in about 20 s on
2 CPU cores; needs ``pip install "skcnn[plot]"``.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skcnn import CNNBinaryClassifier  # noqa: E402
from skcnn.datasets import make_shifted_digits  # noqa: E402
from skcnn.plot import (  # noqa: E402
    ClassBalanceDisplay,
    GradCAMDisplay,
    HistoryDisplay,
    ImageGridDisplay,
    TopLossesDisplay,
)

out = Path(sys.argv[1]) if len(sys.argv) > 1 else None
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
    early_stopping=True,  # holds out validation_fraction: validation curves
    random_state=0,
).fit(X_train, y_train)
print(f"test accuracy: {cnn.score(X_test, y_test):.3f}")

displays = {
    "class_balance": ClassBalanceDisplay.from_dataset(data),
    "history": HistoryDisplay.from_estimator(cnn),
    "image_grid": ImageGridDisplay.from_estimator(
        cnn, X_test, y_test, n_images=12, n_cols=6, random_state=0
    ),
    "top_losses": TopLossesDisplay.from_estimator(
        cnn, X_test, y_test, n_images=6, n_cols=6, grad_cam=True
    ),
    "grad_cam": GradCAMDisplay.from_estimator(cnn, X_test[:6], n_cols=6),
}
# scikit-learn's own Displays take the CNN as they take any classifier.
figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained")
ConfusionMatrixDisplay.from_estimator(cnn, X_test, y_test, ax=left, colorbar=False)
RocCurveDisplay.from_estimator(cnn, X_test, y_test, ax=right, name="CNN")
figures = {name: display.figure_ for name, display in displays.items()}
figures["sklearn_displays"] = figure
for name, figure in figures.items():
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        figure.savefig(out / f"{name}.png", dpi=80)
    plt.close(figure)
