"""
=========================================================
GridSearchCV over CNNBinaryClassifier: n_jobs=1 against n_jobs=2
=========================================================

Runs the same ``GridSearchCV`` (4 candidates: ``filters`` in ``(16,)``,
``(32, 64)`` x ``dropout`` in 0.25, 0.5; ``cv=3``; ``refit=False``, so 12 fits
and 12 scorings) with ``n_jobs=1`` and with ``n_jobs=2`` (joblib's loky
backend), interleaved, ``--repeats`` times after one untimed warm-up run of each
(the warm-up starts the loky workers and TensorFlow in them; later runs reuse
them).

In a loky worker, skcnn sizes TensorFlow's intra-op and inter-op thread pools
to the worker's share of the cores (``OMP_NUM_THREADS``, which joblib sets to
``cpu_count() // n_jobs``), so that the two workers do not run twice as many
busy threads as there are cores. After the timed runs, each worker reports its
pools and its number of threads.

Wall-clock time and CPU time are recorded; the CPU time is that of the whole
process tree (this process and its loky workers, from ``/proc/<pid>/stat``; on
systems without ``/proc``, this process only). The printed ratio is
median(n_jobs=2) / median(n_jobs=1) of the wall-clock time: below 1 when two
workers are faster. With 2 cores, the ideal is 0.5.

The data needs no download: sklearn's bundled 8x8 digits 7 and 8 upsampled to
28x28 with Pillow and tiled (with random shifts of up to 2 pixels) to
``--n-samples`` uint8 images.

Example::

    python benchmarks/bench_grid_search.py --repeats 3 --json grid_search.json
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from _bench_common import (  # noqa: E402
    digits_pair_images,
    dump_json,
    environment,
    print_environment,
    tile_images,
)
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402

from skcnn import CNNBinaryClassifier  # noqa: E402

GRID = {"filters": [(16,), (32, 64)], "dropout": [0.25, 0.5]}
TARGET = 1.0  # n_jobs=2 must at least not be slower than n_jobs=1


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def _proc_cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields 14 and 15 of /proc/<pid>/stat (utime, stime), in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds():
    """CPU time (user + system) of this process and all its descendants."""
    if not os.path.exists("/proc/self/stat"):
        return time.process_time()
    total, todo = 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += _proc_cpu_seconds(pid)
        todo.extend(_children(pid))
    return total


def worker_threads():
    """What a worker process reports about its thread pools."""
    import tensorflow as tf

    threading = tf.config.threading
    try:
        n_threads = len(os.listdir("/proc/self/task"))
    except OSError:
        n_threads = None
    return {
        "pid": os.getpid(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "tf_intra_op": threading.get_intra_op_parallelism_threads(),
        "tf_inter_op": threading.get_inter_op_parallelism_threads(),
        "threads": n_threads,
    }


def run_search(X, y, n_jobs, args):
    estimator = CNNBinaryClassifier(
        padding="valid",
        epochs=args.epochs,
        batch_size=args.batch_size,
        random_state=args.random_state,
        verbose=0,
    )
    cv = StratifiedKFold(n_splits=args.cv, shuffle=True, random_state=args.random_state)
    search = GridSearchCV(estimator, GRID, cv=cv, n_jobs=n_jobs, refit=False)
    c0, t0 = tree_cpu_seconds(), time.perf_counter()
    search.fit(X, y)
    wall, cpu = time.perf_counter() - t0, tree_cpu_seconds() - c0
    return wall, cpu, search.cv_results_["mean_test_score"]


def main():
    parser = argparse.ArgumentParser(
        description="GridSearchCV over CNNBinaryClassifier, n_jobs=1 against 2."
    )
    parser.add_argument("--n-samples", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs each")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args()

    X, y = digits_pair_images((7, 8), size=28)
    X, y = tile_images(X, y, args.n_samples, args.random_state)
    info = environment()
    print_environment(info)
    n_fits = args.cv * int(np.prod([len(v) for v in GRID.values()]))
    print(
        f"Data: {X.shape[0]} images {X.shape[1:]} {X.dtype}; grid {GRID}, "
        f"cv={args.cv} ({n_fits} fits per search), epochs={args.epochs}, "
        f"batch_size={args.batch_size}; joblib {joblib.__version__}, "
        f"joblib.cpu_count() = {joblib.cpu_count()}"
    )
    print(f"1 untimed warm-up run per setting, then {args.repeats} interleaved repeats")

    settings = (1, 2)
    times = {n: {"wall": [], "cpu": []} for n in settings}
    scores = {}
    load_before = os.getloadavg()
    for rep in range(-1, args.repeats):
        for n_jobs in settings:
            wall, cpu, score = run_search(X, y, n_jobs, args)
            scores[n_jobs] = score
            tag = "warm-up" if rep < 0 else f"repeat {rep + 1}"
            print(
                f"  {tag:<9} n_jobs={n_jobs}  wall {wall:6.2f}s  CPU {cpu:6.2f}s  "
                f"(CPU/wall {cpu / wall:4.2f})  mean scores "
                f"{np.round(score, 3).tolist()}"
            )
            if rep >= 0:
                times[n_jobs]["wall"].append(wall)
                times[n_jobs]["cpu"].append(cpu)
    load_after = os.getloadavg()

    # The workers GridSearchCV(n_jobs=2) ran in (joblib reuses its loky workers).
    workers = joblib.Parallel(n_jobs=2)(
        joblib.delayed(worker_threads)() for _ in range(4)
    )
    workers = list({w["pid"]: w for w in workers}.values())

    med = {n: {k: float(np.median(v)) for k, v in t.items()} for n, t in times.items()}
    ratio = med[2]["wall"] / med[1]["wall"]
    pairs = (np.array(times[2]["wall"]) / np.array(times[1]["wall"])).tolist()
    cpu_ratio = med[2]["cpu"] / med[1]["cpu"]

    print()
    print(f"{'n_jobs':<8}{'wall (s)':>10}{'CPU (s)':>10}{'CPU/wall':>10}")
    print("-" * 38)
    for n in settings:
        m = med[n]
        print(f"{n:<8}{m['wall']:>10.2f}{m['cpu']:>10.2f}{m['cpu'] / m['wall']:>10.2f}")
    print("(medians; CPU = this process and its loky workers, all threads)")
    print()
    verdict = "OK" if ratio <= TARGET else "ABOVE TARGET"
    print(
        f"Wall-clock ratio n_jobs=2 / n_jobs=1: {ratio:.3f} (pairs "
        f"{min(pairs):.3f}-{max(pairs):.3f}; ideal 0.5 on 2 free cores, "
        f"target <= {TARGET}): {verdict}"
    )
    print(f"CPU-time ratio n_jobs=2 / n_jobs=1: {cpu_ratio:.3f}")
    print("\nWorkers of n_jobs=2:")
    for w in workers:
        print(
            f"  pid {w['pid']}: OMP_NUM_THREADS={w['OMP_NUM_THREADS']}, TensorFlow "
            f"intra-op {w['tf_intra_op']}, inter-op {w['tf_inter_op']} "
            f"(0 = all cores), {w['threads']} threads"
        )
    print(
        f"\nLoad average (1 min) before / after: {load_before[0]:.2f} / "
        f"{load_after[0]:.2f} on {os.cpu_count()} CPUs"
    )

    results = {
        "times": times,
        "median": med,
        "wall_ratio": ratio,
        "wall_ratio_pairwise": pairs,
        "cpu_ratio": cpu_ratio,
        "target": TARGET,
        "mean_test_scores": scores,
        "workers": workers,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
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
