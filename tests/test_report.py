"""`skcnn evaluate --report/--plots`: the self-contained HTML evaluation report
and its figures; the bootstrap confidence intervals it prints."""

import html
import re
import sys

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

import skcnn
from skcnn import load_image_folder
from skcnn._bootstrap import bootstrap_metrics
from skcnn.cli import main

from .test_cli_folders import TINY, _write_digits

pytest.importorskip("matplotlib")

SECTIONS = ["metrics", "confusion-matrix", "curves", "operating-points", "top-losses"]
SECTIONS += ["model"]
FIGURES = ["calibration", "confusion_matrix", "precision_recall", "roc_curve"]
FIGURES += ["top_losses"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _write_digits(tmp_path_factory.mktemp("report") / "digits", n=30)


def _train(folder, out, *extra):
    argv = ["train", str(folder), "--out", str(out), *TINY, "--quiet", *extra]
    assert main(argv) == 0
    return out


def _report(model, folder, tmp_path, *extra):
    report, plots = tmp_path / "report.html", tmp_path / "plots"
    argv = ["evaluate", str(model), str(folder), "--report", str(report)]
    assert main([*argv, "--plots", str(plots), "--quiet", *extra]) == 0
    return report.read_text(encoding="utf-8"), plots


def _cells(page, section):
    """The text of the table cells of ``section``, row by row."""
    part = page.split(f'id="{section}"')[1].split("<h2")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", part)
    return [
        [html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r)]
        for r in rows
    ]


def test_report_is_self_contained_and_holds_every_section(folder, tmp_path, capsys):
    model = _train(folder, tmp_path / "cnn.skcnn", "--epochs", "4")
    page, plots = _report(model, folder, tmp_path)
    for section in SECTIONS:
        assert f'<h2 id="{section}">' in page
    # Self-contained: every image embedded, nothing fetched, no script.
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert len(sources) == len(FIGURES)
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"https?://|<script|<link|@import|url\(", page)
    # --plots wrote the same figures, as PNG files.
    assert sorted(p.name for p in plots.iterdir()) == [f"{f}.png" for f in FIGURES]
    for name in FIGURES:
        with Image.open(plots / f"{name}.png") as image:
            assert image.format == "PNG" and min(image.size) > 200
    # The figures' bytes are the embedded ones.
    embedded = re.findall(r'data:image/png;base64,([^"]*)"', page)
    import base64

    on_disk = {(plots / f"{f}.png").read_bytes() for f in FIGURES}
    assert {base64.b64decode(e) for e in embedded} == on_disk

    # The metrics are those of the model's predictions on the folder.
    data = load_image_folder(folder)
    loaded = skcnn.load(model)
    proba = loaded.predict_proba(data.filenames)[:, 1]
    predicted = loaded.predict(data.filenames)
    metrics = {row[0]: row[1:] for row in _cells(page, "metrics")[1:]}
    assert metrics["Accuracy"][0] == f"{accuracy_score(data.target, predicted):.3f}"
    balanced = balanced_accuracy_score(data.target, predicted)
    assert metrics["Balanced accuracy"][0] == f"{balanced:.3f}"
    assert (
        metrics["ROC AUC"][0] == f"{roc_auc_score(data.target == 'seven', proba):.3f}"
    )
    for value, interval in metrics.values():
        low, high = (float(x) for x in interval.split(" to "))
        assert low <= float(value) <= high
    # Top losses: the largest log losses, in order, named by file.
    true_proba = np.where(data.target == "seven", proba, 1 - proba)
    order = np.argsort(np.log(true_proba), kind="stable")[:10]
    rows = _cells(page, "top-losses")[1:]
    assert [int(row[0]) for row in rows] == order.tolist()
    assert [row[1] for row in rows] == [
        data.filenames[i].rsplit("/", 1)[1] for i in order
    ]
    assert "with the Grad-CAM heatmap" in page
    # Parameters and versions.
    assert (
        "<td class=name>cnnbinaryclassifier</td><td>filters</td><td>(4,)</td>" in page
    )
    assert "<td class=name>tensorflow</td>" in page


def test_report_of_a_thresholded_model_and_of_the_baseline(folder, tmp_path):
    import joblib

    model = _train(folder, tmp_path / "tuned.joblib", "--target-sensitivity", "0.9")
    page, _ = _report(model, folder, tmp_path)
    threshold = joblib.load(model).threshold
    # The model's own threshold is a row of the table, the highlighted one.
    assert f"{threshold:.4g}" in [row[0] for row in _cells(page, "operating-points")]
    highlighted = re.findall(r"<tr class=model-threshold><td[^>]*>([^<]*)<", page)
    assert highlighted == [f"{threshold:.4g}"]
    assert f"when its probability is at least {threshold:.4g} (saved" in page

    baseline = tmp_path / "baseline.joblib"
    argv = ["train", str(folder), "--out", str(baseline), "--model", "baseline"]
    assert main([*argv, "--quiet"]) == 0
    page, _ = _report(baseline, folder, tmp_path)
    assert "Grad-CAM needs a CNN" in page
    assert len(_cells(page, "top-losses")) == 11  # header and the 10 images


def test_report_without_matplotlib_is_a_clear_error(
    folder, tmp_path, monkeypatch, capsys
):
    model = _train(folder, tmp_path / "cnn.joblib")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    argv = ["evaluate", str(model), str(folder), "--report", str(tmp_path / "r.html")]
    assert main([*argv, "--quiet"]) == 1
    assert "requires matplotlib. You can install it with `pip install skcnn[plot]`" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "r.html").exists()


def test_bootstrap_metrics_values_and_intervals():
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b"], [60, 140])
    score = np.clip(rng.normal(0.35 + 0.3 * (y == "b"), 0.2), 0, 1)
    predicted = np.where(score >= 0.5, "b", "a")
    result = bootstrap_metrics(y, predicted, score, pos_label="b", random_state=1)
    sensitivity = np.mean(predicted[y == "b"] == "b")
    specificity = np.mean(predicted[y == "a"] == "a")
    assert result["sensitivity"]["value"] == sensitivity
    assert result["specificity"]["value"] == specificity
    assert result["accuracy"]["value"] == accuracy_score(y, predicted)
    assert result["balanced_accuracy"]["value"] == pytest.approx(
        balanced_accuracy_score(y, predicted)
    )
    assert result["roc_auc"]["value"] == pytest.approx(roc_auc_score(y == "b", score))
    for m in result.values():
        assert m["low"] < m["value"] < m["high"]
    # The interval of a proportion: about +-1.96 standard errors (140 positives).
    half = 1.96 * np.sqrt(sensitivity * (1 - sensitivity) / 140)
    width = result["sensitivity"]["high"] - result["sensitivity"]["low"]
    assert width == pytest.approx(2 * half, rel=0.2)
    # Seeded; and stratified: a perfect classifier's resamples are all perfect.
    assert bootstrap_metrics(y, predicted, score, pos_label="b", random_state=1) == (
        result
    )
    perfect = bootstrap_metrics(y, y, (y == "b") * 1.0, pos_label="b")
    assert all(m["low"] == m["high"] == 1 for m in perfect.values())
    with pytest.raises(ValueError, match="both classes"):
        bootstrap_metrics(y[:60], y[:60], score[:60], pos_label="b")
