"""The evaluation report of `skcnn evaluate --report`: one self-contained HTML
file (figures embedded as PNG data URIs, no external request) and, with
``--plots``, the same figures as PNG files."""

import base64
import datetime
import html
import io
import os
import platform

import numpy as np

from ._base import check_matplotlib_support

# Thresholds of the operating-points table, besides the model's own.
_THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
_LIBRARIES = (
    "skcnn",
    "numpy",
    "scikit-learn",
    "tensorflow",
    "keras",
    "matplotlib",
    "pillow",
)
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px;
       color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.name, th.name { text-align: left; }
tr.model-threshold { background: #fff3c4; font-weight: bold; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; }
figure img { max-width: 100%; } .note { color: #555; font-size: 0.9em; }
"""
_TITLES = {
    "roc_curve": "ROC curve",
    "precision_recall": "Precision-recall curve",
    "calibration": "Calibration curve",
}
_NAMES = {
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "roc_auc": "ROC AUC",
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
}


def _figure(size):
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _curves(y_true, score, positive, names):
    """The confusion matrix (drawn elsewhere), ROC, precision-recall and
    calibration figures, by file name."""
    from sklearn.calibration import CalibrationDisplay
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    figures = {}
    for name, display in [
        ("roc_curve", RocCurveDisplay),
        ("precision_recall", PrecisionRecallDisplay),
        ("calibration", CalibrationDisplay),
    ]:
        figure, ax = _figure((4.6, 4.2))
        kwargs = {"n_bins": 10} if display is CalibrationDisplay else {}
        display.from_predictions(
            y_true, score, pos_label=positive, ax=ax, name="model", **kwargs
        )
        ax.set_title(f"{_TITLES[name]} ({positive!s} positive)")
        figures[name] = figure
    return figures


def _confusion(y_true, y_pred, classes):
    from sklearn.metrics import ConfusionMatrixDisplay

    figure, ax = _figure((4.6, 4.2))
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=classes, ax=ax, colorbar=False
    )
    return figure


def _top_losses(inner, files, y_true, proba, y_pred, classes, n_top):
    """The TopLossesDisplay of the ``n_top`` images of largest log loss, with
    their Grad-CAM for the predicted class when the model is a CNN."""
    from sklearn.pipeline import Pipeline

    from .._classifier import CNNBinaryClassifier
    from .._image import ImageLoader
    from ._base import estimator_images, final_estimator, take
    from ._grad_cam import grad_cam_of_predicted_class
    from ._top_losses import TopLossesDisplay
    from ._top_losses import _top_losses as largest_losses

    steps = getattr(inner, "steps", None)
    if steps and isinstance(steps[0][1], ImageLoader):
        # A few images: read them in this process (no worker pool to start).
        name, loader = steps[0]
        loader = ImageLoader(**{**loader.get_params(), "n_jobs": 1})
        inner = Pipeline([(name, loader), *steps[1:]])
    classes = np.asarray(classes)
    # The images of largest log loss; their labels as the model predicts them
    # (with its threshold, which the display's argmax would not apply).
    order, losses, _, _ = largest_losses(y_true, proba, classes, n_top)
    predicted = np.asarray(y_pred)[order]
    predicted_index = np.array([list(classes).index(label) for label in predicted])
    top = take(files, order)
    heatmaps, why = None, ""
    if isinstance(final_estimator(inner), CNNBinaryClassifier):
        heatmaps = grad_cam_of_predicted_class(inner, top, predicted, None)
    else:
        why = "Grad-CAM needs a CNN: this model has no convolutional layer."
    if steps and isinstance(steps[0][1], ImageLoader):
        images = inner[0].transform(top)  # as the model read them
    else:
        images = estimator_images(inner, top)
    display = TopLossesDisplay(
        images,
        np.asarray(y_true)[order],
        predicted,
        losses,
        proba[order, predicted_index],
        indices=order,
        heatmaps=heatmaps,
    )
    # Panels wide enough for titles such as "pred PNEUMONIA / true NORMAL".
    n_cols = min(len(order), 4)
    n_rows = -(-len(order) // n_cols)
    figure, ax = _figure((3.1 * n_cols, 3.0 * n_rows))
    figure.set_layout_engine("none")
    display.plot(n_cols=n_cols, ax=ax)
    return figure, display, why


def _table(header, rows, *, classes=None):
    head = "".join(
        f"<th{' class=name' if i == 0 else ''}>{html.escape(h)}</th>"
        for i, h in enumerate(header)
    )
    body = []
    for row_class, row in rows if classes else ((None, row) for row in rows):
        cells = "".join(
            f"<td{' class=name' if i == 0 else ''}>{html.escape(str(c))}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr{f' class={row_class}' if row_class else ''}>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    rows = [("python", platform.python_version())]
    for name in _LIBRARIES:
        try:
            rows.append((name, version(name)))
        except PackageNotFoundError:
            rows.append((name, "not installed"))
    return rows


def _parameters(inner):
    """(step, parameter, value) of every step of the model, as get_params gives."""
    steps = getattr(inner, "steps", None) or [(type(inner).__name__.lower(), inner)]
    return [
        (step, name, repr(value))
        for step, estimator in steps
        for name, value in sorted(estimator.get_params(deep=False).items())
    ]


def write_report(
    path,
    *,
    model,
    files,
    y_true,
    proba,
    y_pred,
    model_path,
    data_path,
    plots_dir=None,
    n_top=10,
    n_resamples=1000,
    random_state=0,
):
    """Write the HTML report of a model's predictions on labelled images; with
    ``plots_dir``, also its figures as PNG files there. Returns the PNG file
    names, by section."""
    check_matplotlib_support("skcnn evaluate --report")
    from .._bootstrap import bootstrap_metrics
    from .._threshold import operating_points, split_threshold

    inner, decision = split_threshold(model)
    classes = list(model.classes_)
    positive = classes[1] if decision is None else decision[1]
    score = proba[:, classes.index(positive)]
    metrics = bootstrap_metrics(
        y_true,
        y_pred,
        score,
        pos_label=positive,
        n_resamples=n_resamples,
        random_state=random_state,
    )
    figures = {"confusion_matrix": _confusion(y_true, y_pred, classes)}
    figures.update(_curves(y_true, score, positive, classes))
    top_figure, top, why = _top_losses(
        inner, files, y_true, proba, y_pred, classes, n_top
    )
    figures["top_losses"] = top_figure
    pngs = {name: _png(figure) for name, figure in figures.items()}
    if plots_dir is not None:
        os.makedirs(plots_dir, exist_ok=True)
        for name, data in pngs.items():
            with open(os.path.join(plots_dir, f"{name}.png"), "wb") as stream:
                stream.write(data)

    def img(name, alt):
        data = base64.b64encode(pngs[name]).decode("ascii")
        return (
            f'<figure><img alt="{html.escape(alt)}" '
            f'src="data:image/png;base64,{data}"></figure>'
        )

    threshold = 0.5 if decision is None else decision[0]
    thresholds = sorted({*_THRESHOLDS, threshold})
    points = operating_points(y_true, score, thresholds, pos_label=positive)
    rows = [
        (
            "model-threshold" if p["threshold"] == threshold else None,
            (
                f"{p['threshold']:.4g}",
                f"{p['sensitivity']:.3f}",
                f"{p['specificity']:.3f}",
                f"{p['ppv']:.3f}",
                f"{p['npv']:.3f}",
                p["n_positive_predictions"],
            ),
        )
        for p in points
    ]
    n_positive = int(np.sum(np.asarray(y_true) == positive))
    rule = (
        f"the class of highest probability (threshold 0.5 on {positive!s})"
        if decision is None
        else f"{positive!s} when its probability is at least {threshold:.4g} (saved "
        "with the model)"
    )
    metric_rows = [
        (
            _NAMES[name],
            f"{m['value']:.3f}",
            f"{m['low']:.3f} to {m['high']:.3f}",
        )
        for name, m in metrics.items()
    ]
    top_rows = [
        (
            int(i),
            os.path.basename(str(files[i])),
            str(t),
            str(p),
            f"{loss:.3f}",
        )
        for i, t, p, loss in zip(
            top.indices, top.y_true, top.y_pred, top.losses, strict=True
        )
    ]
    title = f"Evaluation of {os.path.basename(str(model_path))}"
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Model <code>{html.escape(str(model_path))}</code> on "
        f"<code>{html.escape(str(data_path))}</code>: {len(y_true)} images "
        f"({n_positive} {html.escape(str(positive))}, positive class; "
        f"{len(y_true) - n_positive} other). Predicted: {html.escape(rule)}. "
        f"Written {datetime.datetime.now().isoformat(timespec='seconds')}.</p>",
        '<h2 id="metrics">Metrics</h2>',
        f"<p class=note>95% confidence intervals: percentile bootstrap, "
        f"{n_resamples} stratified resamples of these images (seed "
        f"{random_state}).</p>",
        _table(["metric", "value", "95% CI"], metric_rows),
        '<h2 id="confusion-matrix">Confusion matrix</h2>',
        img("confusion_matrix", "confusion matrix"),
        '<h2 id="curves">ROC, precision-recall and calibration curves</h2>',
        img("roc_curve", "ROC curve"),
        img("precision_recall", "precision-recall curve"),
        img("calibration", "calibration curve"),
        '<h2 id="operating-points">Operating points</h2>',
        f"<p class=note>Predicting {html.escape(str(positive))} when its "
        "probability is at least the threshold. The highlighted row is the "
        "model's rule.</p>",
        _table(
            ["threshold", "sensitivity", "specificity", "PPV", "NPV", "positives"],
            rows,
            classes=True,
        ),
        '<h2 id="top-losses">Top losses</h2>',
        f"<p class=note>The {len(top_rows)} images of largest log loss (the "
        "model's confidence in the wrong class), red if misclassified"
        + (
            ", with the Grad-CAM heatmap of the predicted class over each."
            if not why
            else f". {why}"
        )
        + "</p>",
        img("top_losses", "top losses"),
        _table(["index", "file", "true", "predicted", "log loss"], top_rows),
        '<h2 id="model">Model and versions</h2>',
        _table(["step", "parameter", "value"], _parameters(inner)),
        _table(["library", "version"], _versions()),
    ]
    page = (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(sections)}</body></html>\n"
    )
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(page)
    return sorted(pngs)
