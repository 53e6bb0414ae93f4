"""The ``skcnn`` command: the top-level parser and ``main``.

Each command is a module beside this one, with ``add_parser(subparsers)``, its
parser, and ``run(args)``, the command: ``_train``, ``_predict``, ``_evaluate``,
``_export`` and ``_compare``. The options several commands share are in
``_options``, what they share at run time in ``_common``. Nothing here imports
TensorFlow until a command runs, so that ``skcnn --help`` and ``skcnn --version``
are quick.
"""

import argparse
import contextlib
import logging
import os
import sys
import tempfile

from .. import __version__
from . import _compare, _evaluate, _export, _predict, _train

# The commands, in the order `skcnn --help` lists them.
_COMMANDS = (_train, _predict, _evaluate, _export, _compare)


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skcnn",
        description="Convolutional neural networks as scikit-learn estimators.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(sub)
    return parser


@contextlib.contextmanager
def _stderr_fd_held():
    """Hold what is written to file descriptor 2 (where C++ libraries log) in a
    temporary file; write it out only if the block raises."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield  # no usable stderr descriptor: nothing to hold
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            held.seek(0)
            os.write(2, held.read())
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _quiet_tensorflow():
    """Keep TensorFlow's own logging off the command line, which shows skcnn's
    output only.

    Unless the user set TF_CPP_MIN_LOG_LEVEL (then TensorFlow logs as they
    asked), it is set to 3, which silences TensorFlow's C++ errors and warnings
    at run time (such as "failed call to cuInit ... UNKNOWN ERROR (303)" on a
    machine without GPU), and TensorFlow is imported with file descriptor 2
    held: its start-up block ("All log messages before absl::InitializeLog()",
    the oneDNN and CUDA-driver notices) is logged by static initializers, before
    any level is read, so no setting silences it. It came twice because two
    copies of that code are loaded: TensorFlow's shared libraries
    (libtensorflow_framework, libtensorflow_cc), then
    profiler/internal/_pywrap_profiler_plugin.so, which links them statically
    (TensorFlow 2.21). What was held is written out if the import fails. The
    library itself (``import skcnn``) leaves TensorFlow's logging alone.
    """
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if "tensorflow" not in sys.modules:
        with _stderr_fd_held():
            import tensorflow  # noqa: F401


def _one_line(exc):
    """The message of an exception on one line."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        message = f"{exc.strerror}: {exc.filename!r}"
    else:
        message = str(exc) or type(exc).__name__
    return " ".join(message.split())


def main(argv=None):
    """Run the ``skcnn`` command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)  # --help and --version exit here, without TF
    _quiet_tensorflow()
    try:
        return args.handler(args)
    except BrokenPipeError:
        # The reader of stdout went away (`skcnn predict ... | head`): stop quietly,
        # and keep Python from reporting the flush of stdout at exit.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (ValueError, TypeError, OSError, ImportError) as exc:
        print(f"skcnn {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
