"""skcnn.plot: the Displays' values (lines, titles, bars, overlays) against what
the estimator and NumPy compute independently, where they draw, and their
errors."""

import importlib.util
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline

from skcnn import CNNBinaryClassifier, ImageLoader, load_image_folder
from skcnn.datasets import load_digits_pair
from skcnn.plot import (
    ClassBalanceDisplay,
    GradCAMDisplay,
    HistoryDisplay,
    ImageGridDisplay,
    TopLossesDisplay,
)

from .conftest import FAST, TINY, write_image_folder, write_pngs

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HAS_EXPLAIN = importlib.util.find_spec("skcnn.explain") is not None
needs_explain = pytest.mark.skipif(
    not HAS_EXPLAIN, reason="skcnn/explain.py (grad_cam) does not exist yet"
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def on_paths(digits, tmp_path_factory):
    """A fitted Pipeline(ImageLoader, CNNBinaryClassifier) on PNG paths of the
    digits, with the paths and labels."""
    X, y = digits
    paths = write_pngs(tmp_path_factory.mktemp("plot"), X)
    loader = ImageLoader(image_size=(8, 8), color_mode="grayscale")
    clf = CNNBinaryClassifier(**{**FAST, "metrics": ("accuracy",)}, random_state=0)
    model = make_pipeline(loader, clf)
    return model.fit(paths, y), paths, y


def _titles(display, n):
    return [ax.get_title() for ax in display.axes_.ravel()[:n]]


def _is_marked(ax):
    """Whether an image's Axes has the red title and frame of a wrong prediction."""
    red = matplotlib.colors.to_rgba("red")
    title_red = matplotlib.colors.to_rgba(ax.title.get_color()) == red
    frame_red = all(
        spine.get_visible() and spine.get_edgecolor() == red
        for spine in ax.spines.values()
    )
    assert title_red == frame_red, ax.get_title()
    return title_red


# ---------------------------------------------------------------- the package
# test_sklearn_displays.py checks that importing skcnn.plot imports neither
# matplotlib nor Keras, and that matplotlib is imported inside functions only.


def test_missing_matplotlib_is_an_import_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"ClassBalanceDisplay.from_labels requires"):
        ClassBalanceDisplay.from_labels([0, 1])
    with pytest.raises(ImportError, match=r"pip install skcnn\[plot\]"):
        HistoryDisplay({"loss": [1.0]}).plot()


# ------------------------------------------------------------ HistoryDisplay
def test_history_display_lines_are_the_history(fitted_cnn):
    history = fitted_cnn.history_
    display = HistoryDisplay.from_estimator(fitted_cnn)
    assert display.history is history
    assert display.metrics == ["loss", "accuracy"]  # loss first, as no val_ keys
    assert display.axes_.shape == (1, 2) and display.ax_ is display.axes_[0, 0]
    assert sorted(display.lines_) == ["accuracy", "loss"]  # no validation lines
    for ax, name in zip(display.axes_.ravel(), ["loss", "accuracy"], strict=True):
        (line,) = ax.lines
        assert line is display.lines_[name]
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(line.get_ydata(), history[name])
        assert ax.get_ylabel() == name and ax.get_xlabel() == "Epoch"
    assert display.figure_ is display.ax_.figure


def test_history_display_validation_lines_and_learning_rate():
    history = {
        "accuracy": [0.6, 0.8, 0.9, 0.95],
        "loss": [0.7, 0.5, 0.3, 0.2],
        "val_loss": [0.75, 0.6, 0.5, 0.55],
        "val_accuracy": [0.5, 0.7, 0.8, 0.8],
        "learning_rate": [1e-3, 1e-3, 5e-4, 5e-4],
    }
    display = HistoryDisplay.from_history(history)
    assert display.metrics == ["loss", "accuracy"]  # not learning_rate by default
    assert display.axes_.size == 2
    for ax, name in zip(display.axes_.ravel(), display.metrics, strict=True):
        train, val = ax.lines
        np.testing.assert_array_equal(train.get_ydata(), history[name])
        np.testing.assert_array_equal(val.get_ydata(), history[f"val_{name}"])
        np.testing.assert_array_equal(val.get_xdata(), [1, 2, 3, 4])
        legend = [text.get_text() for text in ax.get_legend().get_texts()]
        assert legend == ["training", "validation"]

    display = HistoryDisplay.from_history(history, metrics=["learning_rate", "loss"])
    assert display.metrics == ["learning_rate", "loss"]
    (line,) = display.ax_.lines
    np.testing.assert_array_equal(line.get_ydata(), history["learning_rate"])
    assert display.ax_.get_legend() is None  # a single line needs no legend


def test_history_display_of_a_pipeline_is_its_last_step(on_paths):
    model, _, _ = on_paths
    display = HistoryDisplay.from_estimator(model, metrics="accuracy")
    assert display.history is model[-1].history_
    np.testing.assert_array_equal(
        display.ax_.lines[0].get_ydata(), model[-1].history_["accuracy"]
    )


def test_history_display_uses_the_axes_given():
    history = {"loss": [3.0, 2.0], "accuracy": [0.5, 0.6]}
    fig, ax = plt.subplots()
    display = HistoryDisplay.from_history(history, metrics=["loss"], ax=ax)
    assert display.ax_ is ax and display.figure_ is fig and len(ax.lines) == 1

    fig, axes = plt.subplots(1, 2)
    display = HistoryDisplay.from_history(history, ax=axes)
    assert display.axes_.tolist() == axes.tolist() and display.bounding_ax_ is None
    assert [ax.get_ylabel() for ax in axes] == ["loss", "accuracy"]

    fig, ax = plt.subplots()
    display = HistoryDisplay.from_history(history, ax=ax)
    assert display.bounding_ax_ is ax and not ax.axison
    assert display.figure_ is fig and len(fig.axes) == 3  # ax divided in two
    with pytest.raises(ValueError, match="ax=display.axes_"):
        HistoryDisplay.from_history(history, ax=ax)  # already used
    with pytest.raises(ValueError, match="array of 2 Axes"):
        HistoryDisplay.from_history(history, ax=axes[:1])


def test_history_display_errors(on_paths):
    with pytest.raises(NotFittedError):
        HistoryDisplay.from_estimator(CNNBinaryClassifier())
    model, _, _ = on_paths
    from sklearn.base import clone

    with pytest.raises(NotFittedError):
        HistoryDisplay.from_estimator(clone(model))
    with pytest.raises(ValueError, match=r"`metrics` must name.*'auc'"):
        HistoryDisplay.from_history({"loss": [1.0]}, metrics=["auc"])
    with pytest.raises(TypeError, match="`history` must be a dict"):
        HistoryDisplay.from_history([0.5, 0.4])
    with pytest.raises(ValueError, match="`history` holds no epoch"):
        HistoryDisplay.from_history({"loss": []})


# ---------------------------------------------------------- ImageGridDisplay
def test_image_grid_titles_and_misclassified_marks(fitted_cnn, digits):
    X, y = digits
    proba = fitted_cnn.predict_proba(X[:16])
    predicted = fitted_cnn.predict(X[:16])
    # Flip the labels of two images the model predicts right: they become wrong.
    right = np.flatnonzero(predicted == y[:16])[:2]
    y_flipped = y.copy()
    y_flipped[right] = 15 - y[right]  # 7 <-> 8
    wrong = predicted != y_flipped[:16]
    assert wrong[right].all()

    display = ImageGridDisplay.from_estimator(fitted_cnn, X, y_flipped)
    np.testing.assert_array_equal(display.indices, np.arange(16))
    np.testing.assert_array_equal(display.images, X[:16])
    np.testing.assert_array_equal(display.y_pred, predicted)
    np.testing.assert_allclose(display.confidence, proba.max(axis=1))
    np.testing.assert_array_equal(display.misclassified_, wrong)
    for i, title in enumerate(_titles(display, 16)):
        column = list(fitted_cnn.classes_).index(predicted[i])
        assert title == (
            f"pred: {predicted[i]} ({proba[i, column]:.2f})\ntrue: {y_flipped[i]}"
        )
    marked = [_is_marked(ax) for ax in display.axes_.ravel()]
    np.testing.assert_array_equal(marked, wrong)
    assert display.axes_.shape == (4, 4)


def test_image_grid_without_labels_shows_predictions_only(fitted_cnn, digits):
    X, _ = digits
    display = ImageGridDisplay.from_estimator(fitted_cnn, X, n_images=5)
    proba = fitted_cnn.predict_proba(X[:5]).max(axis=1)
    predicted = fitted_cnn.predict(X[:5])
    expected = [f"pred: {p} ({c:.2f})" for p, c in zip(predicted, proba, strict=True)]
    assert _titles(display, 5) == expected
    assert display.misclassified_ is None
    assert not any(_is_marked(ax) for ax in display.axes_.ravel()[:5])
    assert display.axes_.shape == (2, 3) and display.axes_[1, 2] is None


def test_image_grid_random_state_and_n_images(fitted_cnn, digits):
    X, y = digits
    first = ImageGridDisplay.from_estimator(
        fitted_cnn, X, y, n_images=6, random_state=0
    )
    again = ImageGridDisplay.from_estimator(
        fitted_cnn, X, y, n_images=6, random_state=0
    )
    np.testing.assert_array_equal(first.indices, again.indices)
    assert len(set(first.indices)) == 6 and list(first.indices) == sorted(first.indices)
    assert not np.array_equal(first.indices, np.arange(6))
    np.testing.assert_array_equal(first.images, X[first.indices])
    np.testing.assert_array_equal(first.y_true, y[first.indices])
    np.testing.assert_array_equal(first.y_pred, fitted_cnn.predict(X[first.indices]))
    # More images asked than X holds: all of them.
    display = ImageGridDisplay.from_estimator(fitted_cnn, X[:3], n_images=16)
    assert len(display.images) == 3


def test_image_displays_on_png_paths(on_paths, digits, tmp_path):
    model, paths, y = on_paths
    X, _ = digits
    display = ImageGridDisplay.from_estimator(model, list(paths), y, n_images=4)
    np.testing.assert_array_equal(display.images, X[:4])  # pipeline[:-1] output
    np.testing.assert_array_equal(display.ax_.images[0].get_array(), X[0, ..., 0])
    np.testing.assert_array_equal(display.y_pred, model.predict(paths[:4]))
    top = TopLossesDisplay.from_estimator(model, paths, y, n_images=3)
    np.testing.assert_array_equal(top.images, X[top.indices])

    # A bare CNNBinaryClassifier on paths: the files read at its image shape.
    rgb_paths = write_pngs(tmp_path, np.repeat(X[:40], 3, axis=-1))
    cnn = CNNBinaryClassifier(**TINY, image_shape=(8, 8, 3), random_state=0)
    cnn.fit(rgb_paths, y[:40])
    display = ImageGridDisplay.from_estimator(cnn, rgb_paths, n_images=2)
    np.testing.assert_array_equal(display.images, np.repeat(X[:2], 3, axis=-1))


def test_image_grid_from_predictions():
    images = np.arange(4 * 5 * 6 * 3, dtype=np.uint8).reshape(4, 5, 6, 3)
    display = ImageGridDisplay.from_predictions(
        images, y_true=["a", "b", "a", "b"], y_pred=["a", "a", "a", "b"]
    )
    assert display.misclassified_.tolist() == [False, True, False, False]
    assert _titles(display, 4)[1] == "pred: a\ntrue: b"
    np.testing.assert_array_equal(display.axes_[0, 1].images[0].get_array(), images[1])
    display = ImageGridDisplay.from_predictions(images, y_true=[0, 1, 0, 1])
    assert _titles(display, 4) == ["true: 0", "true: 1", "true: 0", "true: 1"]
    assert display.misclassified_ is None


def test_image_grid_uses_the_axes_given(fitted_cnn, digits):
    X, y = digits
    fig, (left, right) = plt.subplots(1, 2)
    display = ImageGridDisplay.from_estimator(fitted_cnn, X, y, n_images=4, ax=right)
    assert display.bounding_ax_ is right and display.figure_ is fig
    assert not right.axison and len(fig.axes) == 2 + 4
    fig, axes = plt.subplots(1, 3)
    display = ImageGridDisplay.from_estimator(fitted_cnn, X, n_images=3, ax=axes)
    assert display.axes_.tolist() == axes.tolist()
    assert all(len(ax.images) == 1 for ax in axes)
    with pytest.raises(ValueError, match=r"`ax` must be .* an array of 4 Axes"):
        ImageGridDisplay.from_estimator(fitted_cnn, X, n_images=4, ax=axes)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_images": 0}, ValueError, r"`n_images` must be an int >= 1.*n_images=0"),
        ({"n_images": 2.5}, TypeError, r"`n_images` must be an int >= 1"),
        ({"n_cols": 0}, ValueError, r"`n_cols` must be an int >= 1"),
        ({"y": [7, 8]}, ValueError, "inconsistent numbers of samples"),
    ],
)
def test_image_grid_from_estimator_errors(fitted_cnn, digits, kwargs, error, match):
    X, _ = digits
    with pytest.raises(error, match=match):
        ImageGridDisplay.from_estimator(fitted_cnn, X, **kwargs)


def test_image_display_errors(digits):
    X, y = digits
    with pytest.raises(NotFittedError):
        ImageGridDisplay.from_estimator(CNNBinaryClassifier(), X)
    with pytest.raises(NotFittedError):
        TopLossesDisplay.from_estimator(CNNBinaryClassifier(), X, y)
    with pytest.raises(TypeError, match="needs a classifier with predict_proba"):
        ImageGridDisplay.from_estimator(ImageLoader(), X)
    images = np.zeros((3, 8, 8, 2), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"`images` must be .* 1, 3 or 4 channels"):
        ImageGridDisplay.from_predictions(images)
    with pytest.raises(ValueError, match=r"`y_pred` must have one value per image: 3"):
        ImageGridDisplay.from_predictions(images[..., :1], y_pred=[7, 8])
    with pytest.raises(ValueError, match="pass `y_pred` with it"):
        ImageGridDisplay.from_predictions(images[..., :1], confidence=[0.5] * 3)


# ----------------------------------------------------------- TopLossesDisplay
def test_top_losses_are_the_largest_log_losses_in_order(fitted_cnn, digits):
    X, y = digits
    proba = fitted_cnn.predict_proba(X)
    # Three confidently right images, relabelled: now confidently wrong.
    confident = np.argsort(-proba.max(axis=1), kind="stable")[:3]
    y_flipped = y.copy()
    y_flipped[confident] = 15 - y[confident]
    classes = fitted_cnn.classes_
    losses = np.array(
        [
            log_loss([t], [p], labels=classes)
            for t, p in zip(y_flipped, proba, strict=True)
        ]
    )
    expected = np.argsort(-losses, kind="stable")[:9]

    display = TopLossesDisplay.from_estimator(fitted_cnn, X, y_flipped)
    np.testing.assert_array_equal(display.indices, expected)
    assert set(confident) <= set(display.indices[:3])
    np.testing.assert_allclose(display.losses, losses[expected], rtol=1e-6)
    assert np.all(np.diff(display.losses) <= 0)
    np.testing.assert_array_equal(display.images, X[expected])
    np.testing.assert_array_equal(display.y_true, y_flipped[expected])
    predicted = fitted_cnn.predict(X[expected])
    np.testing.assert_array_equal(display.y_pred, predicted)
    np.testing.assert_allclose(display.probabilities, proba[expected].max(axis=1))
    for i, title in enumerate(_titles(display, 9)):
        assert title == (
            f"pred {predicted[i]} / true {y_flipped[expected[i]]}\n"
            f"loss {losses[expected[i]]:.2f} / prob {proba[expected[i]].max():.2f}"
        )
    marked = [_is_marked(ax) for ax in display.axes_.ravel()]
    np.testing.assert_array_equal(marked, predicted != y_flipped[expected])
    assert display.overlays_ is None and display.heatmaps is None


def test_top_losses_from_predictions():
    images = np.zeros((4, 6, 6), dtype=np.uint8)
    y_true = np.array(["cat", "dog", "dog", "cat"])
    positive = np.array([0.3, 0.05, 0.99, 0.6])  # probability of "dog"
    display = TopLossesDisplay.from_predictions(
        images, y_true, positive, ["cat", "dog"], n_images=3
    )
    p_true = np.where(y_true == "dog", positive, 1 - positive)
    np.testing.assert_array_equal(display.indices, [1, 3, 0])
    np.testing.assert_allclose(display.losses, -np.log(p_true[[1, 3, 0]]))
    assert display.y_pred.tolist() == ["cat", "dog", "cat"]
    two_columns = np.column_stack([1 - positive, positive])
    same = TopLossesDisplay.from_predictions(
        images, y_true, two_columns, ["cat", "dog"], n_images=3
    )
    np.testing.assert_array_equal(same.indices, display.indices)
    np.testing.assert_allclose(same.losses, display.losses)


def test_top_losses_errors():
    images = np.zeros((2, 6, 6), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"`y_proba` must .* shape \(2, 2\)"):
        TopLossesDisplay.from_predictions(images, [0, 1], [[0.5, 0.5]], [0, 1])
    with pytest.raises(ValueError, match=r"`y_true` holds labels that are not in"):
        TopLossesDisplay.from_predictions(images, [0, 2], [0.5, 0.5], [0, 1])
    with pytest.raises(ValueError, match=r"`y_true` must have one value per image"):
        TopLossesDisplay.from_predictions(images, [0], [0.5], [0, 1])
    with pytest.raises(ValueError, match=r"`n_images` must be an int >= 1"):
        TopLossesDisplay.from_predictions(
            images, [0, 1], [0.5, 0.5], [0, 1], n_images=0
        )


# -------------------------------------------------------- ClassBalanceDisplay
def test_class_balance_of_an_image_folder(digits, tmp_path):
    X, y = digits
    root = write_image_folder(tmp_path, {"eight": X[y == 8][:5], "seven": X[:3]})
    fig, ax = plt.subplots()
    display = ClassBalanceDisplay.from_dataset(load_image_folder(root), ax=ax)
    assert display.labels.tolist() == ["eight", "seven"]
    assert display.counts.tolist() == [5, 3]
    assert display.ax_ is ax and display.figure_ is fig
    assert [bar.get_height() for bar in display.bars_] == [5, 3]
    assert [text.get_text() for text in ax.get_xticklabels()] == ["eight", "seven"]
    assert [text.get_text() for text in ax.texts] == ["5", "3"]  # on the bars


def test_class_balance_from_labels_and_sklearn_style_bunches():
    y = np.array([8, 7, 8, 8, 7, 8])
    display = ClassBalanceDisplay.from_labels(y)
    assert display.labels.tolist() == [7, 8] and display.counts.tolist() == [2, 4]
    assert [bar.get_height() for bar in display.bars_] == [2, 4]
    digits = load_digits_pair()  # target digits, target_names [7, 8]
    display = ClassBalanceDisplay.from_dataset(digits)
    assert display.counts.tolist() == [np.sum(digits.target == d) for d in (7, 8)]
    from sklearn.utils import Bunch

    indexed = Bunch(
        target=np.array([0, 1, 1, 2]), target_names=np.array(["a", "b", "c"])
    )
    display = ClassBalanceDisplay.from_dataset(indexed)
    assert display.labels.tolist() == ["a", "b", "c"]
    assert display.counts.tolist() == [1, 2, 1]


def test_class_balance_errors(tmp_path):
    from sklearn.utils import Bunch

    with pytest.raises(ValueError, match="has no labels"):
        ClassBalanceDisplay.from_dataset(Bunch(target=None, target_names=[]))
    with pytest.raises(TypeError, match="must have `target` and `target_names`"):
        ClassBalanceDisplay.from_dataset([0, 1])
    with pytest.raises(ValueError, match=r"not in `dataset.target_names`.*'c'"):
        ClassBalanceDisplay.from_dataset(
            Bunch(target=np.array(["a", "c"]), target_names=np.array(["a", "b"]))
        )
    with pytest.raises(ValueError, match="`y` must be a non-empty 1-D array"):
        ClassBalanceDisplay.from_labels([])


# ------------------------------------------------------------ GradCAMDisplay
def test_grad_cam_display_overlays_the_heatmaps():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 8, 8, 1), dtype=np.uint8)
    heatmaps = rng.random((5, 4, 4)).astype(np.float32)  # smaller: stretched
    display = GradCAMDisplay.from_heatmaps(
        images, heatmaps, titles=list("abcde"), alpha=0.5
    )
    assert len(display.overlays_) == 5 and display.axes_.shape == (2, 3)
    for i, ax in enumerate(display.axes_.ravel()[:5]):
        image, overlay = ax.images
        assert overlay is display.overlays_[i]
        np.testing.assert_array_equal(image.get_array(), images[i, ..., 0])
        np.testing.assert_array_equal(overlay.get_array(), heatmaps[i])
        assert overlay.get_cmap().name == "jet" and overlay.get_alpha() == 0.5
        assert overlay.get_clim() == (0, 1)
        assert overlay.get_extent() == image.get_extent()  # covers the image
        assert ax.get_title() == "abcde"[i]


def test_grad_cam_display_errors():
    images = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"`heatmaps` must hold one heatmap per image"):
        GradCAMDisplay.from_heatmaps(images, np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match=r"`heatmaps` must be an array of shape"):
        GradCAMDisplay.from_heatmaps(images, np.zeros((2, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"`titles` must hold one title per image"):
        GradCAMDisplay.from_heatmaps(images, np.zeros((2, 8, 8)), titles=["a"])


@needs_explain
def test_grad_cam_display_from_estimator(fitted_cnn, digits, on_paths):
    from skcnn.explain import grad_cam

    X, _ = digits
    display = GradCAMDisplay.from_estimator(fitted_cnn, X, n_images=4)
    expected = grad_cam(fitted_cnn, X[:4])  # evidence for classes_[1], 8
    assert expected.max() > 0  # not all zeros: the comparison means something
    np.testing.assert_allclose(display.heatmaps, expected)
    for overlay, heatmap in zip(display.overlays_, expected, strict=True):
        np.testing.assert_allclose(overlay.get_array(), heatmap)
    np.testing.assert_array_equal(display.images, X[:4])
    proba = fitted_cnn.predict_proba(X[:4]).max(axis=1)
    predicted = fitted_cnn.predict(X[:4])
    assert _titles(display, 4) == [
        f"pred: {p} ({c:.2f})\nevidence for: 8"
        for p, c in zip(predicted, proba, strict=True)
    ]
    sevens = GradCAMDisplay.from_estimator(fitted_cnn, X, target_class=7, n_images=4)
    seven_maps = grad_cam(fitted_cnn, X[:4], target_class=7)
    assert not np.allclose(seven_maps, expected)
    np.testing.assert_allclose(sevens.heatmaps, seven_maps)
    assert sevens.ax_.get_title().endswith("evidence for: 7")

    model, paths, _ = on_paths
    display = GradCAMDisplay.from_estimator(model, paths, n_images=2, random_state=0)
    np.testing.assert_array_equal(display.images, X[display.indices])
    np.testing.assert_allclose(
        display.heatmaps, grad_cam(model, paths[display.indices])
    )


@needs_explain
def test_top_losses_with_grad_cam(fitted_cnn, digits):
    from skcnn.explain import grad_cam

    X, y = digits
    display = TopLossesDisplay.from_estimator(
        fitted_cnn, X, y, n_images=4, grad_cam=True
    )
    for i, index in enumerate(display.indices):
        one = grad_cam(fitted_cnn, X[[index]], target_class=display.y_pred[i])
        np.testing.assert_allclose(display.heatmaps[i], one[0], atol=1e-6)
        np.testing.assert_allclose(display.overlays_[i].get_array(), one[0], atol=1e-6)


def test_flattened_pixels_are_drawn_as_the_network_images(digits):
    X, y = digits
    flat = X[:40].reshape(40, -1)
    cnn = CNNBinaryClassifier(**TINY, random_state=0).fit(flat, y[:40])
    display = ImageGridDisplay.from_estimator(cnn, flat, n_images=3)
    np.testing.assert_array_equal(display.images, X[:3])
