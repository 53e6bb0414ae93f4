"""
=========================================================
Why make_baseline runs its LogisticRegression on one BLAS thread
=========================================================

``skcnn.make_baseline()`` is flatten -> StandardScaler -> LogisticRegression
(lbfgs), whose ``fit`` runs under ``threadpool_limits(1, "blas")``. This script
measures, on two pixel datasets:

1. BLAS threads: fit time of the same pipeline with the BLAS library's default
   number of threads (a plain ``LogisticRegression`` as last step) versus
   ``make_baseline()`` (one BLAS thread). Runs are interleaved (default, one
   thread, default, ...) and repeated; the ratio is median(default) /
   median(one thread), so above 1 means one thread is faster. This is measured
   on the machine as it is ("busy 0"), then while 1, 2, ... busy-looping Python
   processes started by this script occupy cores ("busy 1", "busy 2"), as when
   the baseline runs beside other work (a cross-validation worker, a CNN
   training, a test suite). ``--busy-cores`` lists the scenarios.
2. Scaling: lbfgs iterations and fit time of the pipeline with and without the
   StandardScaler step (both on one BLAS thread), also interleaved.

Datasets (no download):

* digits: sklearn's bundled 8x8 digits 7 and 8 (353 images), upsampled to
  28x28 uint8 with Pillow (784 features);
* synthetic: ``--n-synthetic`` (600) uint8 RGB images of 64x64 (12,288
  features): smooth random backgrounds plus pixel noise, where the positive
  class also has a bright disc of random colour, position and size.

Example::

    python benchmarks/bench_baseline.py --repeats 5 --json baseline.json
"""

import argparse
import multiprocessing
import os
import time
import warnings

import numpy as np
from _bench_common import (
    digits_pair_images,
    dump_json,
    environment,
    print_environment,
)
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from skcnn import make_baseline


def synthetic_images(n_samples, size, random_state):
    """Binary uint8 RGB images: positive ones hold a bright disc."""
    rng = np.random.RandomState(random_state)
    y = np.arange(n_samples) % 2
    rng.shuffle(y)
    coarse = rng.uniform(40, 160, size=(n_samples, size // 8, size // 8, 3))
    background = np.kron(coarse, np.ones((1, 8, 8, 1)))
    X = background + rng.normal(0, 25, size=(n_samples, size, size, 3))
    yy, xx = np.mgrid[:size, :size]
    for i in np.flatnonzero(y):
        cy, cx = rng.uniform(size * 0.2, size * 0.8, size=2)
        radius = rng.uniform(size * 0.08, size * 0.2)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        X[i][disc] += rng.uniform(40, 90, size=3)
    return np.clip(np.rint(X), 0, 255).astype(np.uint8), y


def _burn():
    """Busy loop, the body of the process that keeps one core busy."""
    while True:
        pass


class BusyCores:
    """Context manager keeping ``n`` cores busy with ``_burn`` child processes."""

    def __init__(self, n):
        self.n = n
        self.processes = []

    def __enter__(self):
        ctx = multiprocessing.get_context("spawn")
        self.processes = [ctx.Process(target=_burn, daemon=True) for _ in range(self.n)]
        for process in self.processes:
            process.start()
        if self.n:
            time.sleep(1.5)  # let them start (spawn imports this module)
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join()


def default_threads_pipeline(max_iter, random_state):
    """make_baseline()'s pipeline with a plain LogisticRegression: default threads."""
    pipe = make_baseline(max_iter=max_iter, random_state=random_state)
    lr = pipe.named_steps["logisticregression"]
    return pipe.set_params(logisticregression=LogisticRegression(**lr.get_params()))


def time_fit(pipe, X, y):
    pipe = clone(pipe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        pipe.fit(X, y)
        elapsed = time.perf_counter() - t0
    lr = pipe.named_steps["logisticregression"]
    return elapsed, int(lr.n_iter_[0]), float(pipe.score(X, y))


def interleaved(variants, X, y, repeats):
    """Fit each variant in turn, ``repeats`` times; one untimed warm-up first."""
    for pipe in variants.values():
        time_fit(pipe, X, y)
    out = {name: {"time": [], "n_iter": [], "train_accuracy": []} for name in variants}
    for _ in range(repeats):
        for name, pipe in variants.items():
            t, n_iter, acc = time_fit(pipe, X, y)
            out[name]["time"].append(t)
            out[name]["n_iter"].append(n_iter)
            out[name]["train_accuracy"].append(acc)
    return out


def main():
    parser = argparse.ArgumentParser(
        description="Why make_baseline runs its LogisticRegression on one BLAS thread."
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-synthetic", type=int, default=600)
    parser.add_argument("--synthetic-size", type=int, default=64)
    parser.add_argument("--max-iter", type=int, default=1000)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--data",
        default=None,
        help="optional .npz with X (images) and y, benchmarked as a third dataset",
    )
    parser.add_argument(
        "--import-keras",
        action="store_true",
        help="import keras (and TensorFlow) first, as when the baseline and the CNN "
        "share a process",
    )
    parser.add_argument(
        "--busy-cores",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        metavar="N",
        help="BLAS-thread scenarios: numbers of busy-looping processes run beside",
    )
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args()
    if args.import_keras:
        import keras  # noqa: F401

    info = environment()
    print_environment(info)
    blas = [d for d in threadpool_info() if d["user_api"] == "blas"]
    default_threads = blas[0]["num_threads"] if blas else None
    print(
        "BLAS: "
        + ", ".join(
            f"{d['internal_api']} {d['version']} ({d['num_threads']} threads)"
            for d in blas
        )
    )

    datasets = {
        "digits 7v8 28x28x1": digits_pair_images((7, 8), size=28),
        f"synthetic {args.synthetic_size}x{args.synthetic_size}x3": synthetic_images(
            args.n_synthetic, args.synthetic_size, args.random_state
        ),
    }
    if args.data:
        with np.load(args.data) as f:
            datasets[args.data] = (f["X"], f["y"])

    one_thread = make_baseline(max_iter=args.max_iter, random_state=args.random_state)
    default = default_threads_pipeline(args.max_iter, args.random_state)
    unscaled = clone(one_thread).set_params(scale="passthrough")
    results = {}

    print(f"\n1. BLAS threads ({args.repeats} interleaved repeats, median)")
    header = (
        f"{'Dataset':<22}{'cores busy':>11}{'default (s)':>13}{'1 thread (s)':>14}"
        f"{'ratio':>8}{'n_iter':>8}{'load':>7}"
    )
    print(header)
    print("-" * len(header))
    for n_busy in args.busy_cores:
        scenario = f"busy {n_busy}"
        with BusyCores(n_busy):
            for name, (X, y) in datasets.items():
                load = os.getloadavg()[0]
                r = interleaved(
                    {
                        f"default ({default_threads} threads)": default,
                        "1 thread": one_thread,
                    },
                    X,
                    y,
                    args.repeats,
                )
                (_, d), (_, o) = r.items()
                ratio = np.median(d["time"]) / np.median(o["time"])
                print(
                    f"{name:<22}{n_busy:>11}{np.median(d['time']):>13.3f}"
                    f"{np.median(o['time']):>14.3f}{ratio:>8.2f}"
                    f"{o['n_iter'][0]:>8}{load:>7.2f}"
                )
                results.setdefault(name, {"shape": list(X.shape)})
                results[name].setdefault("threads", {})[scenario] = {
                    "runs": r,
                    "ratio_default_over_one_thread": float(ratio),
                    "pairwise_ratios": (
                        np.array(d["time"]) / np.array(o["time"])
                    ).tolist(),
                    "loadavg_1min_before": load,
                }
    print(
        "ratio = median(default threads) / median(1 thread), > 1: one thread faster;"
        "\ncores busy = busy-looping processes run beside; "
        "load = 1-min load average before the runs"
    )

    print(
        f"\n2. StandardScaler and lbfgs (1 BLAS thread, max_iter={args.max_iter}, "
        f"no busy process, {args.repeats} interleaved repeats, median)"
    )
    header = (
        f"{'Dataset':<24}{'step':>12}{'n_iter':>8}{'converged':>11}"
        f"{'fit (s)':>10}{'train acc':>11}"
    )
    print(header)
    print("-" * len(header))
    for name, (X, y) in datasets.items():
        r = interleaved(
            {"scaled": one_thread, "unscaled": unscaled}, X, y, args.repeats
        )
        for step, v in r.items():
            n_iter = v["n_iter"][0]
            print(
                f"{name:<24}{step:>12}{n_iter:>8}"
                f"{'yes' if n_iter < args.max_iter else 'no':>11}"
                f"{np.median(v['time']):>10.3f}{np.median(v['train_accuracy']):>11.3f}"
            )
        results.setdefault(name, {"shape": list(X.shape)})["scaling"] = {
            "runs": r,
            "time_ratio_unscaled_over_scaled": float(
                np.median(r["unscaled"]["time"]) / np.median(r["scaled"]["time"])
            ),
        }

    dump_json(args.json, info, args, results)


if __name__ == "__main__":
    main()
