"""Operating points: skcnn.decision_threshold, skcnn.operating_points, and
`skcnn train --target-sensitivity/--target-specificity`, whose threshold is saved
with the model and used by `skcnn predict`, `evaluate` and `export`."""

import json
import zipfile

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import FixedThresholdClassifier, StratifiedShuffleSplit

import skcnn
from skcnn import decision_threshold, load_image_folder, operating_points
from skcnn.cli import main

from .test_cli_folders import TINY, _write_digits


def _rates(y, score, threshold, positive):
    predicted = score >= threshold
    is_positive = y == positive
    return (
        (predicted & is_positive).sum() / is_positive.sum(),
        (~predicted & ~is_positive).sum() / (~is_positive).sum(),
    )


@pytest.mark.parametrize("positive", ["a", "b"])
@pytest.mark.parametrize("target", [0.5, 0.8, 0.95, 1.0])
def test_threshold_is_the_best_that_meets_the_target(positive, target):
    rng = np.random.default_rng(0)
    y = rng.choice(np.array(["a", "b"]), size=200)
    # Overlapping, tied scores (rounded) of the positive class.
    score = np.round(rng.normal(size=200) + (y == positive), 1)
    candidates = np.unique(score)

    t = decision_threshold(y, score, target_sensitivity=target, pos_label=positive)
    sensitivity, _ = _rates(y, score, t, positive)
    assert t in candidates and sensitivity >= target
    # No larger threshold meets it: t gives the highest specificity that does.
    larger = candidates[candidates > t]
    assert all(_rates(y, score, c, positive)[0] < target for c in larger)

    t = decision_threshold(y, score, target_specificity=target, pos_label=positive)
    _, specificity = _rates(y, score, t, positive)
    assert specificity >= target
    smaller = candidates[candidates < t]
    assert all(_rates(y, score, c, positive)[1] < target for c in smaller)


def test_threshold_edge_cases_and_errors():
    y, score = [0, 0, 1, 1], [0.2, 0.9, 0.1, 0.8]
    # Only predicting nothing positive keeps every negative right.
    assert decision_threshold(y, score, target_specificity=1.0) == np.inf
    assert decision_threshold(y, score, target_sensitivity=1.0) == 0.1
    assert decision_threshold(y, score, target_sensitivity=0.5) == 0.8
    with pytest.raises(ValueError, match="exactly one of target_sensitivity"):
        decision_threshold(y, score)
    with pytest.raises(ValueError, match="exactly one of target_sensitivity"):
        decision_threshold(y, score, target_sensitivity=0.9, target_specificity=0.9)
    with pytest.raises(ValueError, match=r"target_sensitivity must be in \(0, 1\]"):
        decision_threshold(y, score, target_sensitivity=1.5)
    with pytest.raises(ValueError, match="pos_label=2 is not a label"):
        decision_threshold(y, score, target_sensitivity=0.9, pos_label=2)
    with pytest.raises(ValueError, match="must hold both classes"):
        decision_threshold([1, 1], [0.2, 0.3], target_sensitivity=0.9)
    with pytest.raises(ValueError, match="same length"):
        decision_threshold([0, 1], [0.2], target_sensitivity=0.9)


def test_operating_points_match_the_confusion_matrix():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=100)
    score = rng.random(100)
    for point in operating_points(y, score, [0.0, 0.3, 0.5, 0.9, 2.0]):
        t = point["threshold"]
        tn, fp, fn, tp = confusion_matrix(y, score >= t, labels=[0, 1]).ravel()
        assert point["sensitivity"] == tp / (tp + fn)
        assert point["specificity"] == tn / (tn + fp)
        assert point["n_positive_predictions"] == tp + fp
        if tp + fp:
            assert point["ppv"] == tp / (tp + fp)
        else:
            assert np.isnan(point["ppv"])
        if tn + fn:
            assert point["npv"] == tn / (tn + fn)
        else:
            assert np.isnan(point["npv"])
    # pos_label 0: the rates of the other class swap.
    flipped = operating_points(y, 1 - score, [0.5], pos_label=0)[0]
    direct = operating_points(y, score, [0.5])[0]
    assert flipped["sensitivity"] == pytest.approx(direct["specificity"], abs=0.02)


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    """`skcnn train --target-sensitivity 0.9` on digits folders (40 per class)
    for "eight", the first class in sorted order (so the network's output is
    the probability of the other), saved in skcnn's format; with the folder."""
    root = tmp_path_factory.mktemp("threshold")
    folder = _write_digits(root / "digits", n=40)
    out = root / "tuned.skcnn"
    argv = ["train", str(folder), "--out", str(out), *TINY, "--quiet"]
    argv += ["--target-sensitivity", "0.9", "--positive-class", "eight"]
    argv += ["--threshold-holdout", "0.25"]
    assert main(argv) == 0
    return out, folder


def test_train_saves_the_threshold_chosen_on_held_out_images(tuned, capsys):
    out, folder = tuned
    model = skcnn.load(out)
    assert isinstance(model, FixedThresholdClassifier)
    assert model.pos_label == "eight"  # classes_[0]: "eight" < "seven"
    # The same stratified split, the same network: the same threshold.
    data = load_image_folder(folder)
    split = StratifiedShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
    fit_on, held_out = next(split.split(data.target, data.target))
    inner = model.estimator_.estimator
    positive = list(inner.classes_).index("eight")
    proba = inner.predict_proba(data.filenames[held_out])[:, positive]
    expected = decision_threshold(
        data.target[held_out], proba, target_sensitivity=0.9, pos_label="eight"
    )
    assert model.threshold == expected
    sensitivity, _ = _rates(data.target[held_out], proba, expected, "eight")
    assert sensitivity >= 0.9
    # predict applies it, not the class of highest probability.
    all_proba = inner.predict_proba(data.filenames)[:, positive]
    expected_labels = np.where(all_proba >= expected, "eight", "seven")
    np.testing.assert_array_equal(model.predict(data.filenames), expected_labels)


def test_predict_evaluate_and_export_use_the_saved_threshold(tuned, tmp_path, capsys):
    out, folder = tuned
    model = skcnn.load(out)
    data = load_image_folder(folder)
    expected = model.predict(data.filenames)

    assert main(["predict", str(out), str(folder), "--quiet"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    labels = dict(row.split(",")[:2] for row in rows)
    assert [labels[path] for path in data.filenames] == expected.tolist()

    assert main(["evaluate", str(out), str(folder), "--json", "--quiet"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["threshold"] == {"value": model.threshold, "class": "eight"}
    assert results["accuracy"] == np.mean(expected == data.target)

    assert main(["evaluate", str(out), str(folder), "--quiet"]) == 0
    assert f"threshold          {model.threshold:.4g}" in capsys.readouterr().out

    keras_file = tmp_path / "net.keras"
    assert main(["export", str(out), "--out", str(keras_file)]) == 0
    message = capsys.readouterr().err
    assert (
        "predicts 'eight' when the probability of 'eight' (1 - the output)" in message
    )
    with zipfile.ZipFile(keras_file) as archive:
        metadata = json.loads(archive.read("skcnn.json"))
    assert metadata["decision_threshold"] == model.threshold
    assert metadata["decision_class"] == "eight"
    # 'eight' is classes_[0]: the network outputs the probability of 'seven'.
    assert metadata["positive_class"] == "seven"
    assert "(1 - the output)" in metadata["description"]


def test_threshold_options_errors(tmp_path, capsys):
    folder = _write_digits(tmp_path / "digits", n=5)
    out = str(tmp_path / "m.joblib")
    base = ["train", str(folder), "--out", out, *TINY, "--quiet"]
    assert main([*base, "--positive-class", "seven"]) != 0
    assert "--positive-class names the class of" in capsys.readouterr().err
    argv = [*base, "--target-sensitivity", "0.9", "--positive-class", "nine"]
    assert main(argv) != 0
    assert "--positive-class 'nine' is not a class of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--target-sensitivity", "0.9", "--target-specificity", "0.9"])
    with pytest.raises(SystemExit):
        main([*base, "--target-sensitivity", "1.5"])
    assert "invalid fraction in (0, 1] value: '1.5'" in capsys.readouterr().err
