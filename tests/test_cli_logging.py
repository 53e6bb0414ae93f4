"""The command line shows skcnn's output only: no TensorFlow logging, and
`skcnn --version` without TensorFlow."""

import os
import subprocess
import sys

import pytest

import skcnn
from skcnn.cli import main


def _run(code_or_args, env_changes=None):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(env_changes or {})
    argv = [sys.executable, *code_or_args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)


def test_command_prints_no_tensorflow_lines():
    # A CNN fitted and scored: TensorFlow is imported, finds no GPU, trains.
    argv = ["-m", "skcnn", "compare", "--quiet", "--json", "--folds", "2"]
    result = _run([*argv, "--epochs", "1", "--filters", "4"])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert '"cnn"' in result.stdout


def test_library_import_leaves_tensorflow_logging_alone():
    code = (
        "import logging, os\n"
        "import skcnn, skcnn.cli\n"
        "skcnn.CNNBinaryClassifier\n"
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'),"
        " logging.getLogger('tensorflow').level)\n"
    )
    result = _run(["-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["None", "0"]


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"skcnn {skcnn.__version__}\n"
    code = (
        "import sys\n"
        "from skcnn.cli import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('tensorflow' in sys.modules)\n"
    )
    result = _run(["-c", code])
    assert result.stdout.splitlines() == [f"skcnn {skcnn.__version__}", "False"]
