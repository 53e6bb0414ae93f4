"""The `skcnn` subcommands that work on folders of images: train, predict,
evaluate and compare DIR."""

import csv
import io
import json

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone

from skcnn import CNNBinaryClassifier
from skcnn._architecture import AUTO_AUGMENT
from skcnn.cli import main
from skcnn.datasets import load_digits_pair

from . import conftest
from .conftest import write_image_folder

# Cheap and small; without augmentation (0.6 s more per fit), which
# test_options_turn_defaults_off and the fits of test_cli_transfer.py cover.
TINY = [
    "--no-augment",
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
    classes = {"seven": X[y == 7][:n], "eight": X[y == 8][:n]}
    return write_image_folder(root, classes, size=(16, 16), name="{:02d}.png")


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    return _write_digits(tmp_path_factory.mktemp("folders") / "digits")


@pytest.fixture(scope="module")
def model_path(digits_dir):
    """A tiny model trained by `skcnn train` once for the module."""
    path = digits_dir.parent / "model.joblib"
    assert main(["train", str(digits_dir), "--out", str(path), *TINY, "--quiet"]) == 0
    return path


@pytest.fixture(scope="module")
def baseline_path(digits_dir):
    """The baseline trained by `skcnn train --model baseline`, at the folder's own
    size and colour mode (16x16 grayscale, inferred)."""
    path = digits_dir.parent / "baseline.joblib"
    argv = ["train", str(digits_dir), "--out", str(path), "--model", "baseline"]
    assert main([*argv, "--quiet"]) == 0
    return path


def _error(capsys, argv, command):
    """Run a failing command; return its one-line error message."""
    assert main(argv) == 1
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
    out = tmp_path / "m.joblib"
    argv = ["train", str(digits_dir), "--out", str(out), *TINY, "--no-augment"]
    assert main([*argv, "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert joblib.load(out)[-1].augment is None


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
    monkeypatch.setattr("skcnn.cli._common._CHUNK", 16)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == whole
    assert "predicted 16/40 images" in captured.err
    assert "predicted 40/40 images" in captured.err


# ----------------------------------------------------------------- evaluate


def _expected_scores(model, files, y_true):
    """Accuracy, ROC AUC, ... computed here from the model's own predict_proba."""
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        confusion_matrix,
        roc_auc_score,
    )

    proba = model.predict_proba(files)
    y_pred = model.classes_[np.argmax(proba, axis=1)]
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "roc_auc": roc_auc_score(y_true == model.classes_[1], proba[:, 1]),
        "confusion_matrix": confusion_matrix(
            y_true, y_pred, labels=model.classes_
        ).tolist(),
    }


@pytest.mark.parametrize("which", ["cnn", "baseline"])
def test_evaluate_text_and_json(which, model_path, baseline_path, digits_dir, capsys):
    import skcnn

    path = model_path if which == "cnn" else baseline_path
    model = joblib.load(path)
    data = skcnn.load_image_folder(digits_dir)
    expected = _expected_scores(model, data.filenames, data.target)
    if which == "baseline":
        # Predictions that are not all one class: inverting them would show.
        assert expected["accuracy"] > 0.9

    assert main(["evaluate", str(path), str(digits_dir), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert f"accuracy           {expected['accuracy']:.3f}" in text
    assert f"balanced accuracy  {expected['balanced_accuracy']:.3f}" in text
    assert f"ROC AUC            {expected['roc_auc']:.3f}" in text
    (true_eight, true_seven) = expected["confusion_matrix"]
    lines = text.splitlines()
    matrix = lines[lines.index("confusion matrix") + 2 :][:2]
    assert [row.split()[1:] for row in matrix] == [
        [str(n) for n in true_eight],
        [str(n) for n in true_seven],
    ]
    assert "precision" in text and "recall" in text  # the classification report

    assert main(["evaluate", str(path), str(digits_dir), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert "40 images" in captured.err
    assert result["n_samples"] == 40 and result["classes"] == ["eight", "seven"]
    for key in ("accuracy", "balanced_accuracy", "roc_auc"):
        np.testing.assert_allclose(result[key], expected[key], rtol=1e-12)
    assert result["confusion_matrix"] == expected["confusion_matrix"]
    assert set(result["classification_report"]) >= {"eight", "seven", "macro avg"}
    report = result["classification_report"]
    np.testing.assert_allclose(report["accuracy"], expected["accuracy"])


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
    assert "--class-names" in message and "class_names=" not in message
    assert not (tmp_path / "m.joblib").exists()
    # --class-names picks two of them.
    argv += ["--model", "baseline", "--class-names", "seven", "nine"]
    assert main(argv) == 0
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "m.joblib").classes_, ["nine", "seven"]
    )
    argv[-1] = "ten"
    assert "['ten'] not found" in _error(capsys, argv, "train")


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


# ------------------------------------------------------------ unreadable files


@pytest.fixture
def bad_dir(tmp_path):
    """4 digits per class, plus an empty file and a text file named as images."""
    root = _write_digits(tmp_path / "bad", n=4)
    (root / "eight" / "empty.png").write_bytes(b"")
    (root / "seven" / "text.png").write_text("not an image")
    return root


def test_unreadable_files_are_all_named(bad_dir, tmp_path, model_path, capsys):
    out = tmp_path / "m.joblib"
    names = ["empty.png", "text.png"]
    for argv in (
        ["train", str(bad_dir), "--out", str(out), *TINY],
        ["predict", str(model_path), str(bad_dir)],
        ["evaluate", str(model_path), str(bad_dir)],
        ["compare", str(bad_dir), "--folds", "2", "--epochs", "1"],
    ):
        message = _error(capsys, [*argv, "--quiet"], argv[0])
        assert "2 image files cannot be read" in message, message
        assert all(name in message for name in names), message
        assert "0 bytes" in message and "--skip-bad" in message
        assert capsys.readouterr().out == ""
    assert not out.exists()


def _skipped_report(err, command):
    """The (path, reason) lines --skip-bad writes on stderr."""
    lines = err.splitlines()
    start = lines.index(f"skcnn {command}: skipping 2 unreadable files:")
    return [line.strip() for line in lines[start + 1 : start + 3]]


def test_skip_bad_train_evaluate(bad_dir, tmp_path, capsys):
    out = tmp_path / "m.joblib"
    argv = ["train", str(bad_dir), "--out", str(out), "--model", "baseline"]
    assert main([*argv, "--skip-bad", "--quiet"]) == 0
    report = _skipped_report(capsys.readouterr().err, "train")  # even with --quiet
    assert report[0].startswith(f"{bad_dir / 'eight' / 'empty.png'}: ")
    assert "0 bytes" in report[0]
    assert report[1].startswith(f"{bad_dir / 'seven' / 'text.png'}: ")

    model = joblib.load(out)
    good = [
        str(bad_dir / c / f"{i:02d}.png") for c in ("eight", "seven") for i in range(4)
    ]
    y = np.repeat(["eight", "seven"], 4)
    # Fitted on the 8 good images only: the same model as fitted here on them.
    refit = clone(model).fit(good, y)
    np.testing.assert_allclose(model[-1].coef_, refit[-1].coef_, rtol=1e-12, atol=1e-12)

    argv = ["evaluate", str(out), str(bad_dir), "--skip-bad", "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert len(_skipped_report(captured.err, "evaluate")) == 2
    assert "2 unreadable files skipped" in captured.err
    result = json.loads(captured.out)
    assert result["n_samples"] == 8
    assert [s["path"] for s in result["skipped"]] == [
        str(bad_dir / "eight" / "empty.png"),
        str(bad_dir / "seven" / "text.png"),
    ]
    expected = _expected_scores(model, good, y)
    np.testing.assert_allclose(result["accuracy"], expected["accuracy"])
    assert result["confusion_matrix"] == expected["confusion_matrix"]


def test_skip_bad_predict_keeps_a_row_per_file(bad_dir, model_path, capsys):
    argv = ["predict", str(model_path), str(bad_dir), "--skip-bad", "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert len(_skipped_report(captured.err, "predict")) == 2
    rows = _read_csv(captured.out)
    assert list(rows[0]) == ["path", "label", "proba_eight", "proba_seven", "error"]
    files = [str(p) for p in sorted((bad_dir / "eight").iterdir())]
    files += [str(p) for p in sorted((bad_dir / "seven").iterdir())]
    assert [row["path"] for row in rows] == files  # every file, in order
    bad = {str(bad_dir / "eight" / "empty.png"), str(bad_dir / "seven" / "text.png")}
    for row in rows:
        if row["path"] in bad:
            assert row["label"] == row["proba_eight"] == row["proba_seven"] == ""
            assert row["error"]
        else:
            assert row["error"] == "" and row["label"] in ("eight", "seven")
    good = [f for f in files if f not in bad]
    proba = [
        [float(r["proba_eight"]), float(r["proba_seven"])]
        for r in rows
        if r["path"] in good
    ]
    expected = joblib.load(model_path).predict_proba(good)
    np.testing.assert_allclose(proba, expected, rtol=1e-6)
    empty = next(r for r in rows if r["path"].endswith("empty.png"))
    assert "0 bytes" in empty["error"]


# -------------------------------------------------------- network options


def test_cnn_options_are_shared_by_train_and_compare():
    from skcnn.cli import _build_parser
    from skcnn.cli._options import _CNN_OPTIONS

    parser = _build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for command in ("train", "compare"):
        options = {o for a in commands[command]._actions for o in a.option_strings}
        assert set(_CNN_OPTIONS.values()) <= options, command
        folder = {"--class-names", "--skip-bad", "--image-size", "--color-mode"}
        assert folder <= options


@pytest.mark.parametrize(
    "values, filters",
    [
        (["32", "64"], (32, 64)),
        (["32,32", "64"], ((32, 32), 64)),
        (["(32,32)", "(64,)"], ((32, 32), (64,))),
        (["(32, 64)"], ((32, 64),)),
    ],
)
def test_filters_syntax(values, filters):
    from skcnn.cli import _build_parser
    from skcnn.cli._options import _cnn_params

    argv = ["train", "d", "--out", "m", "--filters", *values]
    args = _build_parser().parse_args(argv)
    assert _cnn_params(args)["filters"] == filters


@pytest.mark.parametrize(
    "argv, params",
    [
        ([], {}),  # all left to CNNBinaryClassifier
        (["--augment"], {"augment": AUTO_AUGMENT}),
        (["--no-augment", "--epochs", "5"], {"augment": None, "epochs": 5}),
        (["--batch-norm"], {"batch_norm": True}),
        (["--no-batch-norm"], {"batch_norm": False}),
        (["--test-time-flip"], {"test_time_augmentation": "flip"}),
        (["--no-test-time-flip"], {"test_time_augmentation": None}),
        (["--global-pooling", "none"], {"global_pooling": None}),
        (["--global-pooling", "max"], {"global_pooling": "max"}),
        (["--learning-rate-schedule", "none"], {"learning_rate_schedule": None}),
    ],
)
def test_options_turn_defaults_off(argv, params):
    from skcnn.cli import _build_parser
    from skcnn.cli._options import _cnn_params

    args = _build_parser().parse_args(["train", "d", "--out", "m", *argv])
    got = _cnn_params(args)
    assert got.pop("class_weight") is None and got.pop("random_state") == 0
    assert got == params


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "argument --epochs: invalid positive integer value: '0'"),
        (["--filters", "32,x"], "argument --filters: invalid filters block value"),
        (["--learning-rate", "-1"], "invalid positive number value: '-1'"),
        (["--dropout", "1"], "argument --dropout: invalid rate in [0, 1) value: '1'"),
    ],
)
def test_option_type_errors_read_well(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "d", "--out", "m", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "_positive" not in err


def test_train_architecture_options(tmp_path, digits_dir, capsys):
    out = tmp_path / "m.joblib"
    argv = ["train", str(digits_dir), "--out", str(out), "--epochs", "1"]
    argv += ["--filters", "4,4", "(6,)", "--kernel-size", "2", "--padding", "valid"]
    argv += ["--block-dropout", "0.1", "--dense-units", "8", "3", "--dropout", "0.2"]
    argv += ["--learning-rate", "0.01", "--batch-size", "8", "--quiet"]
    assert main(argv) == 0
    clf = joblib.load(out)[-1]
    params = clf.get_params()
    assert params["filters"] == ((4, 4), (6,)) and params["kernel_size"] == 2
    assert params["padding"] == "valid" and params["block_dropout"] == 0.1
    assert params["dense_units"] == (8, 3) and params["dropout"] == 0.2
    assert params["learning_rate"] == 0.01 and params["batch_size"] == 8
    assert clf.n_iter_ == 1
    # The network built from them: 16 -> conv 15 -> conv 14 -> pool 7 -> conv 6 -> 3.
    conv_shapes = [
        layer.output.shape[1:]
        for layer in clf.model_.layers
        if type(layer).__name__ == "Conv2D"
    ]
    assert conv_shapes == [(15, 15, 4), (14, 14, 4), (6, 6, 6)]


def test_train_modern_network_options(tmp_path, digits_dir, capsys):
    out = tmp_path / "m.joblib"
    argv = ["train", str(digits_dir), "--out", str(out), *TINY, "--quiet"]
    argv += ["--batch-norm", "--global-pooling", "average", "--weight-decay", "0.01"]
    argv += ["--learning-rate-schedule", "plateau"]
    assert main(argv) == 0
    clf = joblib.load(out)[-1]
    params = clf.get_params()
    assert params["batch_norm"] is True and params["global_pooling"] == "average"
    assert params["weight_decay"] == 0.01
    assert params["learning_rate_schedule"] == "plateau"
    layers = [type(layer).__name__ for layer in clf.model_.layers]
    assert "BatchNormalization" in layers and "GlobalAveragePooling2D" in layers
    assert clf.model_.optimizer.weight_decay == 0.01
    assert len(clf.history_["learning_rate"]) == clf.n_iter_


def test_train_without_options_keeps_the_classifiers_defaults(tmp_path, digits_dir):
    from skcnn import CNNBinaryClassifier

    out = tmp_path / "m.joblib"
    argv = ["train", str(digits_dir), "--out", str(out), "--epochs", "1", "--quiet"]
    assert main(argv) == 0
    params = joblib.load(out)[-1].get_params()
    defaults = CNNBinaryClassifier().get_params()
    assert {k: v for k, v in params.items() if params[k] != defaults[k]} == {
        "epochs": 1,
        "random_state": 0,
    }


@pytest.mark.parametrize(
    "option, value",
    [
        ("--global-pooling", "mean"),
        ("--weight-decay", "-1"),
        ("--learning-rate-schedule", "step"),
    ],
)
def test_bad_modern_network_options(tmp_path, digits_dir, capsys, option, value):
    argv = ["train", str(digits_dir), "--out", str(tmp_path / "m.joblib")]
    with pytest.raises(SystemExit) as exc:
        main([*argv, option, value])
    assert exc.value.code == 2
    assert option in capsys.readouterr().err


def test_train_baseline(baseline_path, digits_dir, tmp_path, capsys):
    from sklearn.linear_model import LogisticRegression

    model = joblib.load(baseline_path)
    assert [name for name, _ in model.steps] == [
        "imageloader",
        "flatten",
        "scale",
        "logisticregression",
    ]
    assert isinstance(model[-1], LogisticRegression)
    assert model[0].image_size == (16, 16) and model[0].color_mode == "grayscale"
    assert model[-1].coef_.shape == (1, 256)
    argv = ["predict", str(baseline_path), str(digits_dir / "seven"), "--quiet"]
    assert main(argv) == 0
    rows = _read_csv(capsys.readouterr().out)
    files = [str(digits_dir / "seven" / f"{i:02d}.png") for i in range(20)]
    np.testing.assert_allclose(
        [float(r["proba_seven"]) for r in rows], model.predict_proba(files)[:, 1]
    )
    # The CNN options do not apply to it.
    argv = ["train", str(digits_dir), "--out", str(tmp_path / "b.joblib")]
    argv += ["--model", "baseline", "--filters", "4", "--epochs", "2"]
    message = _error(capsys, argv, "train")
    assert "--filters, --epochs" in message and "baseline" in message


# ---------------------------------------------------- image size and colour


def test_infer_image_format(tmp_path):
    from skcnn.cli._common import _infer_image_format

    def write(name, mode, size):
        path = tmp_path / name
        Image.new(mode, size).save(path)
        return str(path)

    gray = [write(f"g{i}.png", "L", (24, 20 + i)) for i in range(3)]  # (w, h)
    assert _infer_image_format(gray) == ((21, 24), "grayscale")
    sixteen = write("i16.png", "I;16", (24, 21))
    assert _infer_image_format([*gray, sixteen])[1] == "grayscale"
    rgb = write("c.png", "RGB", (24, 21))
    assert _infer_image_format([*gray, rgb]) == ((21, 24), "rgb")
    big = [write(f"b{i}.jpg", "RGB", (300, 200)) for i in range(2)]
    assert _infer_image_format(big) == ((128, 128), "rgb")
    wide = write("w.png", "L", (300, 40))
    assert _infer_image_format([wide]) == ((40, 128), "grayscale")
    broken = tmp_path / "broken.png"
    broken.write_text("no")
    assert _infer_image_format([str(broken), *gray]) == ((21, 24), "grayscale")


def test_train_infers_size_and_colour_mode(tmp_path, capsys):
    root = tmp_path / "shapes"
    for name, value in [("dark", 30), ("light", 220)]:
        (root / name).mkdir(parents=True)
        for i in range(4):
            Image.new("L", (12, 10), value + i).save(root / name / f"{i}.png")
    out = tmp_path / "m.joblib"
    argv = ["train", str(root), "--out", str(out), "--model", "baseline"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "at 10x12 grayscale (size and colour mode inferred from the images)" in err
    loader = joblib.load(out)[0]
    assert loader.image_size == (10, 12) and loader.color_mode == "grayscale"
    assert main([*argv, "--color-mode", "rgb"]) == 0
    assert "at 10x12 rgb (size inferred from the images)" in capsys.readouterr().err
    assert joblib.load(out)[0].color_mode == "rgb"


def test_train_says_it_predicts_with_test_time_flips(tmp_path, patches, capsys):
    X, y = patches
    root = write_image_folder(tmp_path / "rgb", {"a": X[y == 0], "b": X[y == 1]})
    out = tmp_path / "m.joblib"
    argv = ["train", str(root), "--out", str(out), "--filters", "2", "--epochs", "1"]
    words = "mean of the probabilities of each image and of its mirror image"
    assert main(argv) == 0  # colour images, from scratch, flipped in training
    assert words in capsys.readouterr().err.splitlines()[-1]
    cnn = joblib.load(out)[-1]
    assert cnn.test_time_augmentation == "auto" and cnn.image_shape_[-1] == 3
    assert main([*argv, "--no-test-time-flip"]) == 0
    assert words not in capsys.readouterr().err
    assert joblib.load(out)[-1].test_time_augmentation is None


# ------------------------------------------------------ path-fitted CNN


def test_predict_evaluate_a_cnn_fitted_on_paths(tmp_path, digits_dir, capsys):
    import skcnn

    data = skcnn.load_image_folder(digits_dir)
    clf = skcnn.CNNBinaryClassifier(
        augment=None,
        filters=(4,),
        epochs=2,
        image_shape=(16, 16, 1),
        random_state=0,
        verbose=0,
    ).fit(data.filenames, data.target)
    path = tmp_path / "cnn.joblib"
    joblib.dump(clf, path)
    assert main(["predict", str(path), str(digits_dir), "--quiet"]) == 0
    rows = _read_csv(capsys.readouterr().out)
    proba = np.array([[float(r["proba_eight"]), float(r["proba_seven"])] for r in rows])
    np.testing.assert_allclose(proba, clf.predict_proba(data.filenames), rtol=1e-6)
    assert main(["evaluate", str(path), str(digits_dir), "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    expected = _expected_scores(clf, data.filenames, data.target)
    np.testing.assert_allclose(result["roc_auc"], expected["roc_auc"])
    assert result["confusion_matrix"] == expected["confusion_matrix"]
    # An unfitted one is refused.
    joblib.dump(skcnn.CNNBinaryClassifier(), path)
    message = _error(capsys, ["predict", str(path), str(digits_dir)], "predict")
    assert "fitted CNNBinaryClassifier" in message


# ---------------------------------------------------------------- messages


def test_train_summary_early_stopping_and_plurals(tmp_path, digits_dir, capsys):
    out = tmp_path / "m.joblib"
    argv = ["train", str(digits_dir), "--out", str(out), *TINY, "--epochs", "1"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert ", up to 1 epoch\n" in err and "1 epochs" not in err
    assert ": 1 epoch run. Saved" in err
    # Without --epochs: "auto", 100 epochs for this small folder.
    i = TINY.index("--epochs")
    argv = ["train", str(digits_dir), "--out", str(out), *TINY[:i], *TINY[i + 2 :]]
    argv += ["--validation-fraction", "0.5", "--n-iter-no-change", "2"]
    argv += ["--learning-rate", "0.3"]
    assert main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].endswith(", up to 100 epochs")
    summary = err[-1]
    clf = joblib.load(out)[-1]
    assert clf.n_iter_no_change == 2 and clf.epochs == "auto"
    losses = clf.history_["val_loss"]
    best = int(np.argmin(losses)) + 1
    assert best < clf.n_iter_ < 100  # stopped early, after its best epoch
    assert getattr(clf, "best_epoch_", best) == best
    assert f"{clf.n_iter_} epochs run of up to 100, stopped early" in summary
    assert f"the model keeps epoch {best}, of lowest validation loss" in summary
    assert f"validation loss {losses[best - 1]:.3f}" in summary


def test_export_says_what_the_network_takes_and_gives(model_path, tmp_path, capsys):
    out = tmp_path / "net.keras"
    assert main(["export", str(model_path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "16x16 grayscale images, shape (n, 16, 16, 1)" in err
    assert "pixel values 0-255, rescaled inside" in err
    assert "the probability of class 'seven' (the other class is 'eight')" in err


def test_export_says_the_network_averages_mirror_images(mirror_cnn, digits):
    from skcnn.cli._export import _network_contract

    contract = _network_contract(mirror_cnn)
    assert "16x16 rgb images, shape (n, 16, 16, 3)" in contract
    assert (
        "(the other class is '0'), averaged over the image and its mirror" in contract
    )
    cnn = CNNBinaryClassifier(**conftest.TINY, random_state=0).fit(*digits)
    assert "mirror" not in _network_contract(cnn)


# ----------------------------------------------------------- compare --test


def test_compare_test_folder(digits_dir, tmp_path, capsys):
    from skcnn import ImageLoader, load_image_folder, make_baseline

    test_dir = tmp_path / "test"
    X, y = load_digits_pair(return_X_y=True)
    classes = {"seven": X[y == 7][20:30], "eight": X[y == 8][20:30]}
    write_image_folder(test_dir, classes, size=(16, 16), name="{}.png")
    (test_dir / "seven" / "bad.png").write_text("no")
    argv = ["compare", str(digits_dir), "--test", str(test_dir), "--json", "--quiet"]
    argv += ["--epochs", "1", "--filters", "4", "--padding", "valid", "--skip-bad"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "skipping 1 unreadable file:" in captured.err
    result = json.loads(captured.out)
    assert result["folds"] is None and result["n_samples"] == 40
    assert result["test"] == {"data": str(test_dir), "n_samples": 20}
    skipped = [s["path"] for s in result["skipped"]]
    assert skipped == [str(test_dir / "seven" / "bad.png")]
    assert result["image_shape"] == [16, 16, 1]
    # The baseline, fitted on DIR and scored on TESTDIR here.
    loader = ImageLoader(image_size=(16, 16), color_mode="grayscale")
    train, test = load_image_folder(digits_dir), load_image_folder(test_dir)
    keep = [not f.endswith("bad.png") for f in test.filenames]
    baseline = make_baseline(random_state=0).fit(
        loader.transform(train.filenames), train.target
    )
    expected = baseline.score(loader.transform(test.filenames[keep]), test.target[keep])
    row = result["models"]["baseline"]
    np.testing.assert_allclose(row["accuracy"], [expected])
    assert len(result["models"]["cnn"]["roc_auc"]) == 1
    # --folds and --test exclude each other.
    message = _error(capsys, [*argv, "--folds", "3"], "compare")
    assert "--folds" in message and "--test" in message


def test_format_comparison_of_a_single_split():
    from skcnn import format_comparison

    row = {
        "accuracy": [0.75],
        "roc_auc": [0.8],
        "fit_time": [1.0],
        "predict_time": [0.1],
        "trainable_params": 10,
    }
    line = format_comparison({"cnn": row}).splitlines()[2]
    assert "±" not in line and line.split()[:3] == ["cnn", "0.750", "0.800"]


@pytest.mark.parametrize("splits", [("test", "train"), ("test", "train", "val")])
def test_train_on_a_dataset_root_is_an_error(tmp_path, capsys, splits):
    """`skcnn train data/mnist_7v8` (holding train/ and test/) trained "test vs
    train" and exited 0."""
    for split in splits:
        _write_digits(tmp_path / "data" / split, n=2)
    root = str(tmp_path / "data")
    out = str(tmp_path / "model.joblib")
    message = _error(capsys, ["train", root, "--out", out, *TINY], "train")
    assert f"holds split folders {list(splits)}, not class folders" in message
    assert "train" in message and "['eight', 'seven']" in message
    message = _error(capsys, ["compare", root, "--folds", "2", *TINY], "compare")
    assert "holds split folders" in message
