"""
=========================================================
Memory over many fits of CNNBinaryClassifier
=========================================================

Fits ``--n-fits`` (default 30) CNNBinaryClassifier models one after the other in
one process, as GridSearchCV does in each of its workers: every iteration clones
a template estimator, fits it, calls ``predict_proba`` on the training images and
drops it. The network is the MNIST 7-vs-8 tutorial CNN (``filters=(32, 64)``,
``padding="valid"``, ``dropout=0.5``, 20,417 parameters) on 28x28 images, trained
for a few epochs.

The resident set size (RSS) of the process is printed after fits 1, 5, 10, 20 and
30 (after ``gc.collect()``), from psutil if it is installed, else from
``/proc/self/status`` (VmRSS), else from ``resource.getrusage`` (peak RSS). The
target: RSS after the last fit within 150 MB of RSS after fit 5 (the first fits
load TensorFlow's kernels and trace the training and prediction functions, so
they are excluded from the comparison).

``--clear-session`` calls ``keras.backend.clear_session()`` between fits, to see
what it changes (skcnn does not need it).

The data needs no download: sklearn's bundled 8x8 digits 7 and 8 upsampled to
28x28 with Pillow and tiled (with random shifts of up to 2 pixels) to
``--n-samples`` uint8 images.

Example::

    python benchmarks/bench_memory.py --n-fits 30 --json memory.json
"""

import argparse
import gc
import os
import resource
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

from skcnn import CNNBinaryClassifier  # noqa: E402

TARGET_MB = 150.0
ARCH = dict(filters=(32, 64), padding="valid", dropout=0.5)


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


def main():
    parser = argparse.ArgumentParser(
        description="RSS of the process over many CNNBinaryClassifier fits."
    )
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
    args = parser.parse_args()

    X, y = digits_pair_images((7, 8), size=28)
    X, y = tile_images(X, y, args.n_samples, args.random_state)
    info = environment()
    print_environment(info)
    print(
        f"Data: {X.shape[0]} images {X.shape[1:]} {X.dtype}; network {ARCH}; "
        f"epochs={args.epochs}, batch_size={args.batch_size}; "
        f"{args.n_fits} fits" + (", clear_session between fits" * args.clear_session)
    )
    template = CNNBinaryClassifier(
        **ARCH,
        epochs=args.epochs,
        batch_size=args.batch_size,
        random_state=args.random_state,
        verbose=0,
    )

    start, source = rss_mb()
    print(f"RSS before the first fit: {start:.1f} MB ({source})")
    checkpoints = sorted(set(args.checkpoints) | {5, args.n_fits})
    rss = {}
    series = []
    t0 = time.perf_counter()
    for i in range(1, args.n_fits + 1):
        if args.clear_session:
            keras.backend.clear_session()
        clf = clone(template).set_params(random_state=args.random_state + i)
        proba = clf.fit(X, y).predict_proba(X)
        assert proba.shape == (len(X), 2)
        del clf, proba
        gc.collect()
        mb, _ = rss_mb()
        series.append(mb)
        if i in checkpoints:
            rss[i] = mb
            print(
                f"  after fit {i:3d}: RSS {mb:8.1f} MB  "
                f"({time.perf_counter() - t0:6.1f} s elapsed)"
            )

    ref = 5 if args.n_fits >= 5 else 1
    growth = rss[args.n_fits] - rss[ref]
    per_fit = (
        np.polyfit(np.arange(ref, args.n_fits + 1), series[ref - 1 :], 1)[0]
        if args.n_fits > ref
        else float("nan")
    )
    verdict = "OK" if growth <= TARGET_MB else "ABOVE TARGET"
    print()
    print(f"RSS after fit {ref}: {rss[ref]:.1f} MB")
    print(f"RSS after fit {args.n_fits}: {rss[args.n_fits]:.1f} MB")
    print(
        f"Growth fit {ref} -> {args.n_fits}: {growth:+.1f} MB "
        f"(target <= {TARGET_MB:.0f} MB): {verdict}"
    )
    print(f"Slope (least squares, fits {ref}-{args.n_fits}): {per_fit:+.2f} MB/fit")

    results = {
        "rss_source": source,
        "rss_before_mb": start,
        "rss_mb_at": rss,
        "rss_mb_series": series,
        "growth_mb": growth,
        "growth_from_fit": ref,
        "slope_mb_per_fit": per_fit,
        "target_mb": TARGET_MB,
        "data": {
            "n_samples": int(X.shape[0]),
            "image_shape": list(X.shape[1:]),
            "dtype": str(X.dtype),
            "source": "sklearn digits 7 vs 8, upsampled to 28x28, tiled",
        },
    }
    dump_json(args.json, info, args, results)


if __name__ == "__main__":
    main()
