"""
=========================================================
Memory over many fits of CNNBinaryClassifier
=========================================================

Fits ``--n-fits`` (default 30) models one after the other in one process, as
GridSearchCV does in each of its workers, and prints the resident set size (RSS)
of the process after fits 1, 5, 10, 20 and 30 (after ``gc.collect()``), from
psutil if it is installed, else from ``/proc/self/status`` (VmRSS), else from
``resource.getrusage`` (peak RSS). The network is the MNIST 7-vs-8 tutorial CNN
(``filters=(32, 64)``, ``padding="valid"``, ``dropout=0.5``, 20,417 parameters)
on 28x28 images, trained for a few epochs. The target: RSS after the last fit
within 150 MB of RSS after fit 5 (the first fits load TensorFlow's kernels and
trace the training and prediction functions, so they are excluded).

``--path`` says what each iteration does:

* ``skcnn``: clone a template CNNBinaryClassifier, fit it, ``predict_proba`` on
  the training images, drop it;
* ``skcnn-unreleased``: the same, with the main thing skcnn does against the
  growth switched off (``fit`` removing the gradient functions TensorFlow's
  global registry keeps of its traced training step; see
  ``skcnn._training._release_gradient_registrations``, explained in
  ``skcnn.utils._tf_compat.release_gradient_registrations``);
* ``keras``: what a Keras user writes: build the same network (``build_cnn``),
  ``compile`` with Adam, ``fit`` on the arrays (``shuffle=True``), ``predict``,
  drop the model;
* ``keras-fixed``: the same with skcnn's two measures: the optimizer named the
  same at every fit (``Adam(0.001, name="adam")``; Keras names each new one
  anew, "adam_1", "adam_2", ..., and TensorFlow's eager kernel cache keeps
  kernels per variable name) and, after ``fit``, the release of the model's
  gradient registrations;
* ``skcnn-backbone``: as ``skcnn``, with a pretrained-backbone classifier:
  MobileNetV3-Small (random weights: nothing to download), frozen, then its
  top 10 layers fine-tuned for one epoch, on the images upsampled to 32x32.

The default, ``--path all``, runs the five, each in a fresh Python process
started by this script, one after the other, and prints them side by side.

``--clear-session`` calls ``keras.backend.clear_session()`` between fits, to see
what it changes (skcnn does not need it).

The data needs no download: sklearn's bundled 8x8 digits 7 and 8 upsampled to
28x28 with Pillow and tiled (with random shifts of up to 2 pixels) to
``--n-samples`` uint8 images.

Example::

    python benchmarks/bench_memory.py --n-fits 30 --json memory.json
    python benchmarks/bench_memory.py --path keras --n-fits 10
"""

import argparse
import contextlib
import gc
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _bench_common import (  # noqa: E402
    digits_pair_images,
    dump_json,
    environment,
    print_environment,
    tile_images,
)
from sklearn.base import clone  # noqa: E402

import skcnn._training  # noqa: E402
from skcnn import CNNBinaryClassifier, build_cnn  # noqa: E402

TARGET_MB = 150.0
ARCH = dict(filters=(32, 64), padding="valid", dropout=0.5)
PATHS = ["skcnn", "skcnn-unreleased", "keras", "keras-fixed", "skcnn-backbone"]
# skcnn-backbone: CNNBinaryClassifier on MobileNetV3-Small (random weights, no
# download), frozen then its top 10 layers fine-tuned for an epoch, on the
# images upsampled to 32x32 (the backbone's minimum).
BACKBONE = dict(
    backbone="mobilenet_v3_small", weights=None, fine_tune_layers=10, fine_tune_epochs=1
)


def rss_mb():
    """Current resident set size of this process in MB, and how it was read."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20, "psutil"
    except ImportError:
        pass
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024, "/proc/self/status VmRSS"
    except OSError:
        pass
    # Peak, not current, RSS: an upper bound of the growth. kB on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024, "getrusage ru_maxrss (peak)"


def make_fit(path, args):
    """The body of one iteration of ``path``: fit(i) fits, predicts, drops."""
    if path == "skcnn-unreleased":
        skcnn._training._release_gradient_registrations = lambda model: None
    if path.startswith("skcnn"):
        arch = BACKBONE if path == "skcnn-backbone" else ARCH
        template = CNNBinaryClassifier(
            **arch, epochs=args.epochs, batch_size=args.batch_size, verbose=0
        )

        def fit(X, y, i):
            clf = clone(template).set_params(random_state=args.random_state + i)
            proba = clf.fit(X, y).predict_proba(X)
            assert proba.shape == (len(X), 2)

        return fit

    def fit(X, y, i):
        model = build_cnn(
            X.shape[1:], **ARCH, rescale=1 / 255, seed=args.random_state + i
        )
        name = {"name": "adam"} if path == "keras-fixed" else {}
        model.compile(
            optimizer=keras.optimizers.Adam(0.001, **name), loss="binary_crossentropy"
        )
        model.fit(
            X,
            (y == y.max()).astype("float32"),
            epochs=args.epochs,
            batch_size=args.batch_size,
            shuffle=True,
            verbose=0,
        )
        if path == "keras-fixed":
            skcnn._training._release_gradient_registrations(model)
        proba = model.predict(X, batch_size=args.batch_size, verbose=0)
        assert proba.shape == (len(X), 1)

    return fit


def run(args, X, y):
    """Fit ``args.n_fits`` models of ``args.path``; the RSS figures."""
    fit = make_fit(args.path, args)
    start, source = rss_mb()
    print(f"[{args.path}] RSS before the first fit: {start:.1f} MB ({source})")
    checkpoints = sorted(set(args.checkpoints) | {5, args.n_fits})
    rss = {}
    series = []
    t0 = time.perf_counter()
    for i in range(1, args.n_fits + 1):
        if args.clear_session:
            keras.backend.clear_session()
        fit(X, y, i)
        gc.collect()
        mb, _ = rss_mb()
        series.append(mb)
        if i in checkpoints:
            rss[i] = mb
            print(
                f"[{args.path}]   after fit {i:3d}: RSS {mb:8.1f} MB  "
                f"({time.perf_counter() - t0:6.1f} s elapsed)",
                flush=True,
            )
    ref = 5 if args.n_fits >= 5 else 1
    per_fit = (
        np.polyfit(np.arange(ref, args.n_fits + 1), series[ref - 1 :], 1)[0]
        if args.n_fits > ref
        else float("nan")
    )
    return {
        "path": args.path,
        "rss_source": source,
        "rss_before_mb": start,
        "rss_mb_at": rss,
        "rss_mb_series": series,
        "growth_from_fit": ref,
        "growth_mb": rss[args.n_fits] - rss[ref],
        "slope_mb_per_fit": per_fit,
    }


def run_all(args):
    """Each path in a fresh process, one after the other; their results."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in PATHS:
            out = os.path.join(tmp, f"{path}.json")
            command = [sys.executable, os.path.abspath(__file__), "--path", path]
            command += ["--json", out, "--quiet-environment"]
            command += _forwarded(args)
            subprocess.run(command, check=True)
            with open(out) as f:
                results.append(json.load(f)["results"])
    return results


def _forwarded(args):
    forwarded = []
    for name in ["n_fits", "n_samples", "epochs", "batch_size", "random_state"]:
        forwarded += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    forwarded += ["--checkpoints", *map(str, args.checkpoints)]
    return forwarded + ["--clear-session"] * args.clear_session


def main():
    parser = argparse.ArgumentParser(
        description="RSS of the process over many fits, skcnn and plain Keras."
    )
    parser.add_argument("--path", choices=["all", *PATHS], default="all")
    parser.add_argument("--n-fits", type=int, default=30)
    parser.add_argument("--n-samples", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--checkpoints",
        type=int,
        nargs="+",
        default=[1, 5, 10, 20, 30],
        help="fits after which RSS is printed",
    )
    parser.add_argument(
        "--clear-session",
        action="store_true",
        help="call keras.backend.clear_session() before every fit",
    )
    parser.add_argument("--json", default=None, metavar="PATH")
    parser.add_argument(
        "--quiet-environment", action="store_true", help=argparse.SUPPRESS
    )
    args = parser.parse_args()

    size = 32 if args.path == "skcnn-backbone" else 28
    X, y = digits_pair_images((7, 8), size=size)
    X, y = tile_images(X, y, args.n_samples, args.random_state)
    info = environment()
    if not args.quiet_environment:
        print_environment(info)
        print(
            f"Data: {X.shape[0]} images {X.shape[1:]} {X.dtype}; network {ARCH}; "
            f"epochs={args.epochs}, batch_size={args.batch_size}; "
            f"{args.n_fits} fits per path"
            + (", clear_session between fits" * args.clear_session)
        )
    if args.path != "all":
        results = run(args, X, y)
        rows = [results]
    else:
        rows = run_all(args)
        results = {"paths": rows}
    results["target_mb"] = TARGET_MB
    results["data"] = {
        "n_samples": int(X.shape[0]),
        "image_shape": list(X.shape[1:]),
        "dtype": str(X.dtype),
        "source": f"sklearn digits 7 vs 8, upsampled to {size}x{size}, tiled",
    }

    if not args.quiet_environment:
        ref = rows[0]["growth_from_fit"]
        print()
        print(
            f"{'path':<18}{f'RSS fit {ref}':>12}{f'RSS fit {args.n_fits}':>13}"
            f"{'growth':>10}{'per fit':>10}   target: growth <= {TARGET_MB:.0f} MB"
        )
        for row in rows:
            at = {int(k): v for k, v in row["rss_mb_at"].items()}
            verdict = "OK" if row["growth_mb"] <= TARGET_MB else "ABOVE TARGET"
            print(
                f"{row['path']:<18}{at[ref]:>9.1f} MB{at[args.n_fits]:>10.1f} MB"
                f"{row['growth_mb']:>+7.1f} MB{row['slope_mb_per_fit']:>+7.2f} MB"
                f"   {verdict}"
            )
        print(
            "(growth: RSS after the last fit minus RSS after fit "
            f"{ref}; per fit: least-squares slope over fits {ref}-{args.n_fits})"
        )
    if args.quiet_environment:  # a child of --path all: its parent reports
        with contextlib.redirect_stdout(io.StringIO()):
            dump_json(args.json, info, args, results)
    else:
        dump_json(args.json, info, args, results)


if __name__ == "__main__":
    main()
