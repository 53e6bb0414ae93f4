"""scikit-learn's Displays (confusion matrix, ROC, precision-recall, calibration,
learning and validation curves) on skcnn estimators: a CNNBinaryClassifier on
arrays and a Pipeline(ImageLoader, CNNBinaryClassifier) on image paths. skcnn
adds no plotting code of its own for these; the tests check the values the
Displays hold against scikit-learn's metric functions."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    RocCurveDisplay,
    average_precision_score,
    confusion_matrix,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline

from skcnn import CNNBinaryClassifier, ImageLoader

from .conftest import FAST, write_pngs

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def on_paths(digits, tmp_path_factory):
    """A fitted pipeline on PNG paths of the digits, with the paths and labels."""
    X, y = digits
    paths = write_pngs(tmp_path_factory.mktemp("displays"), X)
    loader = ImageLoader(image_size=(8, 8), color_mode="grayscale")
    model = make_pipeline(loader, CNNBinaryClassifier(**FAST, random_state=0))
    return model.fit(paths, y), paths, y


@pytest.fixture(params=["arrays", "paths"])
def fitted(request, fitted_cnn, digits, on_paths):
    """(fitted estimator, X, y): the CNN on arrays, or the pipeline on paths."""
    if request.param == "arrays":
        return (fitted_cnn, *digits)
    return on_paths


def test_confusion_matrix_display(fitted):
    model, X, y = fitted
    display = ConfusionMatrixDisplay.from_estimator(model, X, y)
    expected = confusion_matrix(y, model.predict(X))
    np.testing.assert_array_equal(display.confusion_matrix, expected)
    assert expected.trace() > 0.9 * len(y)  # the model learnt the digits
    assert display.display_labels.tolist() == [7, 8]
    assert display.figure_ is not None and display.ax_.get_xlabel()


def test_roc_and_precision_recall_displays(fitted):
    model, X, y = fitted
    proba = model.predict_proba(X)[:, 1]
    roc = RocCurveDisplay.from_estimator(model, X, y)
    assert roc.roc_auc == pytest.approx(roc_auc_score(y == 8, proba))
    assert roc.roc_auc > 0.95  # 8 is the positive class, as classes_[1]
    pr = PrecisionRecallDisplay.from_estimator(model, X, y)
    assert pr.average_precision == pytest.approx(average_precision_score(y == 8, proba))
    assert roc.ax_.lines and pr.ax_.lines


def test_calibration_display(fitted):
    from sklearn.calibration import CalibrationDisplay, calibration_curve

    model, X, y = fitted
    display = CalibrationDisplay.from_estimator(model, X, y, n_bins=5)
    prob_true, prob_pred = calibration_curve(
        y == 8, model.predict_proba(X)[:, 1], n_bins=5
    )
    np.testing.assert_allclose(display.prob_true, prob_true)
    np.testing.assert_allclose(display.prob_pred, prob_pred)
    assert display.prob_true[-1] > 0.9 > 0.1 > display.prob_true[0]


def test_learning_and_validation_curve_displays(on_paths):
    from sklearn.model_selection import LearningCurveDisplay, ValidationCurveDisplay

    model, paths, y = on_paths
    display = LearningCurveDisplay.from_estimator(
        model, paths, y, train_sizes=[0.5, 1.0], cv=2, scoring="accuracy"
    )
    # 353 images in 2 folds: 176 or 177 to train on, half of which is 88.
    assert display.train_sizes.tolist() == [88, 176]
    assert display.test_scores.shape == (2, 2)
    assert np.all(display.test_scores[-1] > 0.8)  # the full folds learn the digits
    validation = ValidationCurveDisplay.from_estimator(
        model,
        paths,
        y,
        param_name="cnnbinaryclassifier__learning_rate",
        param_range=[1e-9, 0.01],
        cv=2,
    )
    # A learning rate of 1e-9 leaves the network as initialised: near chance.
    assert np.all(validation.test_scores[0] < 0.7)
    assert np.all(validation.test_scores[1] > 0.8)
    assert validation.ax_.get_xlabel() == "cnnbinaryclassifier__learning_rate"


def test_importing_skcnn_imports_no_matplotlib():
    # `import skcnn` loads nothing heavy (PEP 562 lazy names). Keras itself imports
    # matplotlib when it is installed (keras.src.visualization), so the estimators
    # do with it: what skcnn guarantees is that none of its own modules does at
    # import time. Only skcnn.plot imports matplotlib, inside the functions that draw.
    code = (
        "import sys, skcnn, skcnn.cli, skcnn.plot\n"
        "skcnn.plot.HistoryDisplay, skcnn.plot.GradCAMDisplay\n"
        "skcnn.plot.TopLossesDisplay, skcnn.plot.ImageGridDisplay\n"
        "print([m for m in ('matplotlib', 'keras', 'tensorflow') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    import ast
    from pathlib import Path

    import skcnn

    package = Path(skcnn.__file__).parent
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text())
        in_functions = {
            id(node)
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(function)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if not any(n.split(".")[0] == "matplotlib" for n in names):
                continue
            assert id(node) in in_functions, f"{path}: matplotlib at import time"
            assert path.parent == package / "plot", f"{path} imports matplotlib"
