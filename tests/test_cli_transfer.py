"""`skcnn train` and `skcnn compare` with --backbone (skcnn/cli): tiny folders of
synthetic PNGs, MobileNetV3-Small with a weights file written by the test (never
"imagenet", which downloads)."""

import json
import pathlib

import joblib
import numpy as np
import pytest

import skcnn
from skcnn.cli import main

from .conftest import write_image_folder
from .test_transfer import BACKBONE, write_backbone_weights


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two class folders of 12 RGB 40x40 PNGs each; "light" is brighter."""
    rng = np.random.RandomState(0)
    dark = rng.randint(0, 150, (12, 40, 40, 3)).astype(np.uint8)
    light = rng.randint(100, 256, (12, 40, 40, 3)).astype(np.uint8)
    root = tmp_path_factory.mktemp("images")
    return str(write_image_folder(root, {"dark": dark, "light": light}))


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    return write_backbone_weights(folder / f"{BACKBONE}.weights.h5")


def test_train_help_lists_the_backbone_options(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in [
        "--backbone",
        "--weights",
        "--fine-tune-layers",
        "--fine-tune-epochs",
        "efficientnet_lite0",
    ]:
        assert option in out


def test_train_with_a_backbone_reads_images_at_its_native_size(
    folder, weights, tmp_path, capsys
):
    out = str(tmp_path / "model.skcnn")
    argv = ["train", folder, "--out", out, "--backbone", BACKBONE]
    argv += ["--weights", weights, "--epochs", "1", "--batch-size", "8"]
    assert main(argv) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "224x224 rgb (size and colour mode of backbone" in err
    model = skcnn.load(out)
    loader, cnn = model[0], model[-1]
    assert tuple(loader.image_size) == (224, 224)
    assert loader.color_mode == "rgb"
    assert cnn.backbone == BACKBONE and cnn.weights == weights
    assert cnn.image_shape_ == (224, 224, 3)
    files = sorted(str(p) for p in pathlib.Path(folder).rglob("*.png"))
    assert model.predict_proba(np.array(files, dtype=object)).shape == (24, 2)


def test_train_fine_tuning_options(folder, weights, tmp_path, capsys):
    out = str(tmp_path / "model.pkl")
    argv = ["train", folder, "--out", out, "--backbone", BACKBONE]
    argv += ["--weights", weights, "--image-size", "32", "32", "--epochs", "1"]
    argv += ["--fine-tune-layers", "3", "--fine-tune-epochs", "2", "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    cnn = joblib.load(out)[-1]
    assert (cnn.fine_tune_layers, cnn.fine_tune_epochs) == (3, 2)
    assert cnn.n_iter_ == 3
    assert cnn.image_shape_ == (32, 32, 3)


def test_compare_adds_the_features_contender(folder, weights, capsys):
    argv = ["compare", folder, "--backbone", BACKBONE, "--weights", weights]
    argv += ["--image-size", "32", "32", "--folds", "2", "--epochs", "1"]
    assert main([*argv, "--json", "--quiet"]) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert list(summary["models"]) == ["cnn", "baseline", "features"]
    features = summary["models"]["features"]
    assert len(features["roc_auc"]) == 2
    assert features["trainable_params"] == 576 + 1  # the logistic regression
    # the table `compare` prints without --json
    table = skcnn.format_comparison(summary["models"])
    assert "\nfeatures " in table


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--fine-tune-layers", "2"], "--fine-tune-layers apply with --backbone"),
        (["--weights", "w.h5"], "--weights apply with --backbone"),
        (["--backbone", BACKBONE, "--filters", "8"], "--filters configure"),
    ],
)
def test_backbone_options_errors(folder, tmp_path, capsys, argv, message):
    out = str(tmp_path / "m.skcnn")
    assert main(["train", folder, "--out", out, *argv]) == 1
    assert message in capsys.readouterr().err


def test_compare_backbone_needs_a_folder(capsys):
    assert main(["compare", "--backbone", BACKBONE, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "at least 32x32 pixels; the bundled digits are 8x8 or 16x16" in err


def test_unknown_backbone_is_a_usage_error(folder, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["train", folder, "--out", str(tmp_path / "m.skcnn"), "--backbone", "x"])
    assert exc.value.code == 2
