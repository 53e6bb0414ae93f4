import json
import subprocess
import sys

import numpy as np
import pytest

from skcnn.cli import main


def test_compare_json(capsys):
    assert main(["compare", "--folds", "2", "--epochs", "2", "--json", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    result = json.loads(captured.out)
    assert result["n_samples"] == 353 and result["folds"] == 2
    assert set(result["models"]) == {"cnn", "baseline"}
    for row in result["models"].values():
        for key in ("accuracy", "roc_auc", "fit_time", "predict_time"):
            assert len(row[key]) == 2
        assert all(0.5 < a <= 1.0 for a in row["roc_auc"])
    # The default task: digits at random places on 16x16: 256 pixels + bias.
    assert result["models"]["baseline"]["trainable_params"] == 257
    assert result["image_shape"] == [16, 16, 1]
    assert "random positions" in result["dataset"]
    # The bundled task's small CNN: conv 3x3x1x16 + 16, conv 3x3x16x32 + 32, global
    # max pooling, dense 32 + 1.
    assert result["models"]["cnn"]["trainable_params"] == 4833
    assert "filters=(16, 32), global_pooling='max'" in result["dataset"]
    # the paired comparison of the two on the same folds
    models = result["models"]
    for metric in ("accuracy", "roc_auc"):
        d = result["differences"]["cnn - baseline"][metric]
        per_fold = np.subtract(models["cnn"][metric], models["baseline"][metric])
        assert d["mean"] == pytest.approx(per_fold.mean())
        assert d["folds"] == 2 and d["ci_low"] <= d["mean"] <= d["ci_high"]


def test_compare_bundled_settings_yield_to_given_options(capsys):
    argv = ["compare", "--filters", "8", "--folds", "2", "--epochs", "1"]
    assert main([*argv, "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    # conv 3x3x1x8 + 8, global max pooling, dense 8 + 1
    assert result["models"]["cnn"]["trainable_params"] == 89
    assert result["epochs"] == 1
    assert "filters=" not in result["dataset"]


def test_compare_plain_digits(capsys):
    argv = ["compare", "--dataset", "digits", "--folds", "2", "--epochs", "1"]
    assert main([*argv, "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_samples"] == 353 and result["image_shape"] == [8, 8, 1]
    assert result["models"]["baseline"]["trainable_params"] == 65  # 64 pixels + bias


def test_compare_dataset_excludes_a_folder(tmp_path, capsys):
    assert main(["compare", str(tmp_path), "--dataset", "digits", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("skcnn compare: error: --dataset names a bundled task")


def test_compare_table_and_progress(capsys):
    assert main(["compare", "--folds", "2", "--epochs", "1"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split()[:3] == ["model", "accuracy", "ROC"]
    assert [line.split()[0] for line in lines[2:4]] == ["cnn", "baseline"]
    assert "±" in lines[2]
    assert lines[4].startswith("cnn - baseline: accuracy ")
    assert "95% CI" in lines[4] and "Nadeau and Bengio" in lines[5]
    assert len(lines) == 6
    # One progress line per fold and model, on stderr.
    assert sum(line.startswith("fold ") for line in captured.err.splitlines()) == 4


def test_compare_same_random_state_same_scores(capsys):
    outs = []
    for _ in range(2):
        main(["compare", "--folds", "2", "--epochs", "1", "--json", "--quiet"])
        outs.append(json.loads(capsys.readouterr().out)["models"])
    for name in ("cnn", "baseline"):
        np.testing.assert_array_equal(
            outs[0][name]["roc_auc"], outs[1][name]["roc_auc"]
        )


def test_bad_option_is_a_one_line_error(capsys):
    assert main(["compare", "--folds", "1", "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "skcnn compare: error: --folds must be at least 2, got 1"
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--epochs", "0"])
    assert exc.value.code == 2


def test_console_script_help():
    result = subprocess.run(
        [sys.executable, "-m", "skcnn", "compare", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "--folds" in result.stdout and "--json" in result.stdout


def test_colour_modes_are_the_decoders():
    """The CLI writes the colour modes out (no NumPy at `--help`): the same names."""
    from skcnn._decode import _COLOR_MODES
    from skcnn.cli._options import _COLOR_MODES as cli_color_modes

    assert cli_color_modes == tuple(_COLOR_MODES)


def test_default_epochs_are_the_classifiers():
    """The CLI writes the default epochs out (no Keras at `--help`): the same."""
    from skcnn import CNNBinaryClassifier
    from skcnn._training import _AUTO_EPOCHS, _SMALL_SET, _SMALL_SET_EPOCHS
    from skcnn.cli._options import _DEFAULT_EPOCHS

    assert CNNBinaryClassifier().epochs == "auto"
    assert _DEFAULT_EPOCHS == (
        f"{_AUTO_EPOCHS}, or {_SMALL_SET_EPOCHS} for fewer than {_SMALL_SET:,} images "
        "and no --backbone"
    )
