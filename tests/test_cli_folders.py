"""The `skcnn` subcommands that work on folders of images: train, predict,
evaluate and compare DIR."""

import csv
import io
import json

import joblib
import numpy as np
import pytest
from PIL import Image

from skcnn.cli import main
from skcnn.datasets import load_digits_pair

TINY = [
    "--epochs",
    "2",
    "--filters",
    "4",
    "--image-size",
    "16",
    "16",
    "--color-mode",
    "grayscale",
]


def _write_digits(root, n=20):
    """root/seven and root/eight holding n real digits each, as 16x16 PNGs."""
    X, y = load_digits_pair(return_X_y=True)
    for name, digit in [("seven", 7), ("eight", 8)]:
        (root / name).mkdir(parents=True)
        for i, image in enumerate(X[y == digit][:n, ..., 0]):
            Image.fromarray(image).resize((16, 16)).save(root / name / f"{i:02d}.png")
    return root


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    return _write_digits(tmp_path_factory.mktemp("folders") / "digits")


@pytest.fixture(scope="module")
def model_path(digits_dir):
    """A tiny model trained by `skcnn train` once for the module."""
    path = digits_dir.parent / "model.joblib"
    assert main(["train", str(digits_dir), "--out", str(path), *TINY, "--quiet"]) == 0
    return path


def _error(capsys, argv, command):
    """Run a failing command; return its one-line error message."""
    assert main(argv) != 0
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"skcnn {command}: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def _read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


# -------------------------------------------------------------------- train


def test_train_saves_a_model_joblib_loads(model_path, digits_dir):
    model = joblib.load(model_path)
    np.testing.assert_array_equal(model.classes_, ["eight", "seven"])
    assert model[0].image_size == (16, 16) and model[0].color_mode == "grayscale"
    assert model[-1].n_iter_ == 2 and model[-1].filters == (4,)
    assert not model[-1].early_stopping
    files = [str(digits_dir / "seven" / "00.png")]
    assert model.predict_proba(files).shape == (1, 2)
    # Written atomically: no temporary file is left beside the model.
    assert sorted(p.name for p in model_path.parent.iterdir()) == [
        "digits",
        "model.joblib",
    ]


def test_train_progress_summary_and_early_stopping(tmp_path, digits_dir, capsys):
    out = tmp_path / "m.joblib"
    argv = ["train", str(digits_dir), "--out", str(out), *TINY]
    argv += ["--validation-fraction", "0.25", "--class-weight", "balanced"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # Keras' per-epoch lines go to stderr too
    assert "Epoch 1/2" in captured.err
    summary = captured.err.strip().splitlines()[-1]
    assert "40 images" in summary and "20 'eight', 20 'seven'" in summary
    assert "2 epochs" in summary and str(out) in summary
    clf = joblib.load(out)[-1]
    assert clf.early_stopping and clf.validation_fraction == 0.25
    assert clf.class_weight == "balanced" and "val_loss" in clf.history_


def test_train_augment(tmp_path, digits_dir, capsys):
    from skcnn import CNNBinaryClassifier

    if "augment" not in CNNBinaryClassifier().get_params():
        pytest.skip("CNNBinaryClassifier has no `augment` parameter yet")
    out = tmp_path / "m.joblib"
    argv = ["train", str(digits_dir), "--out", str(out), *TINY, "--augment"]
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert joblib.load(out)[-1].augment == {
        "shear": 0.2,
        "zoom": 0.2,
        "flip": "horizontal",
    }


# ------------------------------------------------------------------ predict


def test_predict_folder_and_files_csv(model_path, digits_dir, capsys):
    files = [digits_dir / "seven" / "03.png", digits_dir / "eight" / "01.png"]
    argv = ["predict", str(model_path), str(files[0]), str(digits_dir), str(files[1])]
    assert main([*argv, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.splitlines()[0] == "path,label,proba_eight,proba_seven"
    rows = _read_csv(captured.out)
    folder = [
        str(digits_dir / c / f"{i:02d}.png")
        for c in ("eight", "seven")
        for i in range(20)
    ]
    assert [row["path"] for row in rows] == [str(files[0]), *folder, str(files[1])]
    proba = np.array([[float(r["proba_eight"]), float(r["proba_seven"])] for r in rows])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    labels = np.where(proba[:, 1] > 0.5, "seven", "eight")
    assert [row["label"] for row in rows] == labels.tolist()
    # The same probabilities as the model gives in Python.
    model = joblib.load(model_path)
    np.testing.assert_allclose(proba[1:-1], model.predict_proba(folder), rtol=1e-6)


def test_predict_to_file(model_path, digits_dir, tmp_path, capsys):
    out = tmp_path / "predictions.csv"
    argv = ["predict", str(model_path), str(digits_dir / "seven"), "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "20 images" in captured.err and str(out) in captured.err
    rows = _read_csv(out.read_text(encoding="utf-8"))
    assert len(rows) == 20 and list(rows[0]) == [
        "path",
        "label",
        "proba_eight",
        "proba_seven",
    ]


def test_predict_in_chunks(model_path, digits_dir, capsys, monkeypatch):
    argv = ["predict", str(model_path), str(digits_dir)]
    assert main(argv) == 0
    whole = capsys.readouterr().out
    monkeypatch.setattr("skcnn.cli._CHUNK", 16)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == whole
    assert "predicted 16/40 images" in captured.err
    assert "predicted 40/40 images" in captured.err


# ----------------------------------------------------------------- evaluate


def test_evaluate_text_and_json(model_path, digits_dir, capsys):
    assert main(["evaluate", str(model_path), str(digits_dir), "--quiet"]) == 0
    text = capsys.readouterr().out
    for word in ("accuracy", "balanced accuracy", "ROC AUC", "confusion matrix"):
        assert word in text
    assert "precision" in text and "recall" in text  # the classification report

    assert main(["evaluate", str(model_path), str(digits_dir), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert "40 images" in captured.err
    assert result["n_samples"] == 40 and result["classes"] == ["eight", "seven"]
    assert 0 <= result["accuracy"] <= 1 and 0 <= result["roc_auc"] <= 1
    matrix = np.array(result["confusion_matrix"])
    assert matrix.shape == (2, 2) and matrix.sum(axis=1).tolist() == [20, 20]
    assert set(result["classification_report"]) >= {"eight", "seven", "macro avg"}


# ------------------------------------------------------------------ compare


def test_compare_folder_json(digits_dir, capsys):
    argv = ["compare", str(digits_dir), "--folds", "2", "--epochs", "1", "--json"]
    assert main([*argv, "--image-size", "16", "16", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    result = json.loads(captured.out)
    assert result["n_samples"] == 40 and result["image_shape"] == [16, 16, 1]
    assert set(result["models"]) == {"cnn", "baseline"}
    for row in result["models"].values():
        assert len(row["accuracy"]) == len(row["roc_auc"]) == 2
    # 16 * 16 pixels + bias.
    assert result["models"]["baseline"]["trainable_params"] == 257


def test_compare_image_options_need_a_folder(capsys):
    message = _error(capsys, ["compare", "--image-size", "16", "16"], "compare")
    assert "DIR" in message


# ------------------------------------------------------------------- errors


def test_missing_folder(tmp_path, model_path, capsys):
    missing = str(tmp_path / "nowhere")
    for argv in (
        ["train", missing, "--out", str(tmp_path / "m.joblib")],
        ["compare", missing],
        ["predict", str(model_path), missing],
        ["evaluate", str(model_path), missing],
    ):
        assert "nowhere" in _error(capsys, [*argv, "--quiet"], argv[0])


def test_three_class_folders(tmp_path, capsys):
    root = _write_digits(tmp_path / "three", n=2)
    (root / "nine").mkdir()
    Image.new("L", (16, 16)).save(root / "nine" / "0.png")
    argv = ["train", str(root), "--out", str(tmp_path / "m.joblib"), "--quiet"]
    message = _error(capsys, argv, "train")
    assert "two class folders" in message and "'nine'" in message
    assert not (tmp_path / "m.joblib").exists()


def test_corrupt_image(tmp_path, model_path, capsys):
    root = _write_digits(tmp_path / "corrupt", n=3)
    bad = root / "seven" / "bad.png"
    bad.write_text("not an image")
    out = tmp_path / "m.joblib"
    argv = ["train", str(root), "--out", str(out), *TINY, "--quiet"]
    assert "bad.png" in _error(capsys, argv, "train")
    assert not out.exists()
    argv = ["predict", str(model_path), str(bad), "--quiet"]
    assert "bad.png" in _error(capsys, argv, "predict")
    assert capsys.readouterr().out == ""


def test_model_file_missing_or_not_a_model(tmp_path, digits_dir, capsys):
    missing = str(tmp_path / "missing.joblib")
    message = _error(capsys, ["predict", missing, str(digits_dir)], "predict")
    assert "missing.joblib" in message
    message = _error(capsys, ["evaluate", missing, str(digits_dir)], "evaluate")
    assert "missing.joblib" in message
    not_a_model = tmp_path / "text.joblib"
    not_a_model.write_text("hello")
    message = _error(capsys, ["predict", str(not_a_model), str(digits_dir)], "predict")
    assert "text.joblib" in message


def test_evaluate_class_folders_must_match_the_model(tmp_path, model_path, capsys):
    root = tmp_path / "other"
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        Image.new("L", (16, 16)).save(root / name / "0.png")
    message = _error(capsys, ["evaluate", str(model_path), str(root)], "evaluate")
    assert "['cat', 'dog']" in message and "['eight', 'seven']" in message


def test_output_folder_missing(tmp_path, digits_dir, model_path, capsys):
    out = str(tmp_path / "no" / "m.joblib")
    message = _error(capsys, ["train", str(digits_dir), "--out", out], "train")
    assert "--out" in message
    argv = ["predict", str(model_path), str(digits_dir), "--out", out]
    assert "--out" in _error(capsys, argv, "predict")


@pytest.mark.parametrize(
    "command", ["train", "predict", "evaluate", "compare", "export"]
)
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "--quiet" in capsys.readouterr().out


def test_safe_format_train_predict_export(tmp_path, digits_dir, model_path, capsys):
    import keras
    import numpy as np

    import skcnn

    safe = tmp_path / "model.skcnn"
    argv = ["train", str(digits_dir), "--out", str(safe), *TINY, "--quiet"]
    assert main(argv) == 0
    model = skcnn.load(safe)
    files = skcnn.load_image_folder(digits_dir).filenames
    capsys.readouterr()
    assert main(["predict", str(safe), str(digits_dir)]) == 0
    rows = _read_csv(capsys.readouterr().out)
    expected = model.predict_proba(files)[:, 1]
    proba = np.array([float(row[f"proba_{model.classes_[1]}"]) for row in rows])
    np.testing.assert_allclose(proba, expected, rtol=1e-6)
    # export: from the safe file and from the joblib one
    for source in [safe, model_path]:
        out = tmp_path / f"{source.stem}.keras"
        assert main(["export", str(source), "--out", str(out), "--quiet"]) == 0
        network = keras.saving.load_model(out, safe_mode=True)
        assert network.input_shape[1:] == model[-1].image_shape_
    assert "must end with .keras" in _error(
        capsys, ["export", str(safe), "--out", str(tmp_path / "x.h5")], "export"
    )
    image = str(digits_dir / "seven" / "00.png")
    argv = ["export", image, "--out", str(tmp_path / "y.keras")]
    assert "Cannot load the model file" in _error(capsys, argv, "export")
    truncated = tmp_path / "truncated.skcnn"
    truncated.write_bytes(safe.read_bytes()[:1000])
    argv = ["predict", str(truncated), str(digits_dir)]
    assert "truncated or corrupted" in _error(capsys, argv, "predict")
