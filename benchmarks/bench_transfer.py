"""
=========================================================
Transfer learning: features computed once vs every epoch
=========================================================

``CNNBinaryClassifier(backbone=...)`` without augmentation runs the frozen
backbone once over the training images and trains the head on their pooled
features ("cached"). This script times that fit against the same fit forced
through the frozen backbone at every epoch ("uncached": the class attribute
``_features_once = False``), interleaved in the same process, and reports
median wall-clock fit times and their ratio. Both give the same network (equal
predictions up to float rounding; tests/test_transfer.py checks it); the
maximum difference of their predicted probabilities is printed too.

The data is random uint8 RGB images (class 1 brighter); the weights are
random (``--weights`` None: the speed does not depend on their values, and
nothing is downloaded). The first run of each path is a warm-up, not timed.

Example::

    python benchmarks/bench_transfer.py --repeats 3 --json transfer.json
"""

import argparse
import gc
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _bench_common import dump_json, environment, print_environment  # noqa: E402

from skcnn import CNNBinaryClassifier  # noqa: E402


def make_data(n_samples, size, seed):
    rng = np.random.RandomState(seed)
    y = np.arange(n_samples) % 2
    X = rng.randint(0, 200, (n_samples, size, size, 3)) + 55 * y[:, None, None, None]
    return X.astype(np.uint8), y


def fit_once(params, X, y, cached):
    keras.backend.clear_session()
    gc.collect()
    CNNBinaryClassifier._features_once = cached
    try:
        start = time.perf_counter()
        clf = CNNBinaryClassifier(**params).fit(X, y)
        elapsed = time.perf_counter() - start
    finally:
        CNNBinaryClassifier._features_once = True  # the class default
    return elapsed, clf.predict_proba(X)[:, 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbones", nargs="+", default=["mobilenet_v3_small"])
    parser.add_argument("--n-samples", type=int, default=300)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()

    info = environment()
    print_environment(info)
    X, y = make_data(args.n_samples, args.image_size, args.random_state)
    results = {}
    print(
        f"\n{args.n_samples} images {args.image_size}x{args.image_size} RGB, "
        f"{args.epochs} epochs, batch {args.batch_size}, weights=None, "
        f"{args.repeats} timed repeats (interleaved), after one warm-up each\n"
    )
    header = (
        f"{'backbone':<22}{'cached s':>10}{'uncached s':>12}"
        f"{'speed-up':>10}{'max |dp|':>11}"
    )
    print(header)
    print("-" * len(header))
    for name in args.backbones:
        params = {
            "backbone": name,
            "weights": None,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "random_state": args.random_state,
        }
        times = {True: [], False: []}
        probas = {}
        for repeat in range(args.repeats + 1):
            for cached in (True, False) if repeat % 2 else (False, True):
                elapsed, probas[cached] = fit_once(params, X, y, cached)
                if repeat:  # the first round is a warm-up
                    times[cached].append(elapsed)
        cached, uncached = np.median(times[True]), np.median(times[False])
        diff = float(np.max(np.abs(probas[True] - probas[False])))
        results[name] = {
            "cached_s": times[True],
            "uncached_s": times[False],
            "median_cached_s": float(cached),
            "median_uncached_s": float(uncached),
            "speed_up": float(uncached / cached),
            "max_abs_proba_difference": diff,
        }
        print(
            f"{name:<22}{cached:>10.2f}{uncached:>12.2f}"
            f"{uncached / cached:>9.2f}x{diff:>11.2g}"
        )
    if args.json:
        dump_json(args.json, info, args, results)


if __name__ == "__main__":
    main()
