"""
=========================================================
GridSearchCV over CNNBinaryClassifier on a Dask cluster
=========================================================

Runs the same ``GridSearchCV`` (8 candidates: ``filters`` in ``(8,)``, ``(16,)``
x ``dropout`` in 0.25, 0.5 x ``learning_rate`` in 0.001, 0.01; ``cv=3``;
``refit=False``, so 24 fits and 24 scorings; one convolutional block, no
augmentation, a ``Flatten`` head: a network that learns in 3 epochs) three ways:

* ``n_jobs=1``: every fit in this process;
* ``n_jobs=2``: joblib's loky backend, two worker processes;
* ``dask``: ``joblib.parallel_config(backend="dask", scatter=[X, y])`` on a
  ``dask.distributed.LocalCluster(n_workers=2, threads_per_worker=1)`` (worker
  processes, loopback only), the arrays sent to the workers once.

The three run interleaved, ``--repeats`` times, after one untimed warm-up run of
each (the warm-up starts loky's workers and imports TensorFlow in the workers of
both backends; later runs reuse them). The cluster's start-up (``LocalCluster``
and ``Client`` until both workers are connected) and shutdown are timed apart,
as is each warm-up run. The printed ratios are median(setting) /
median(``n_jobs=1``) of the wall-clock time: below 1 when faster. With 2 cores,
the ideal is 0.5. The searches' mean test scores are compared too (the fits are
seeded: the same up to TensorFlow's float32 sums on fewer threads).

After the timed runs, each worker of both backends reports its TensorFlow pools
(skcnn sizes them to the worker's threads) and ``OMP_NUM_THREADS``.

The data needs no download: sklearn's bundled 8x8 digits 7 and 8 upsampled to
28x28 with Pillow and tiled (with random shifts of up to 2 pixels) to
``--n-samples`` uint8 images.

Example::

    python benchmarks/bench_distributed.py --repeats 3 --json distributed.json
"""

import argparse
import os
import time
from importlib import metadata

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

GRID = {
    "filters": [(8,), (16,)],
    "dropout": [0.25, 0.5],
    "learning_rate": [0.001, 0.01],
}
SETTINGS = ("n_jobs=1", "n_jobs=2", "dask")


def worker_threads():
    """What a worker process reports about its thread pools."""
    import tensorflow as tf

    pools = tf.config.threading
    return {
        "pid": os.getpid(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "tf_intra_op": pools.get_intra_op_parallelism_threads(),
        "tf_inter_op": pools.get_inter_op_parallelism_threads(),
    }


def run_search(X, y, setting, args):
    # A new search each time: scikit-learn 1.9 sends the search object with
    # every task (_fit_and_score's ``caller``).
    estimator = CNNBinaryClassifier(
        padding="valid",
        augment=None,
        global_pooling=None,
        learning_rate_schedule=None,
        epochs=args.epochs,
        batch_size=args.batch_size,
        random_state=args.random_state,
        verbose=0,
    )
    cv = StratifiedKFold(n_splits=args.cv, shuffle=True, random_state=args.random_state)
    n_jobs = 2 if setting == "n_jobs=2" else None
    search = GridSearchCV(estimator, GRID, cv=cv, n_jobs=n_jobs, refit=False)
    t0 = time.perf_counter()
    if setting == "dask":
        with joblib.parallel_config(backend="dask", scatter=[X, y]):
            search.fit(X, y)
    else:
        search.fit(X, y)
    return time.perf_counter() - t0, search.cv_results_["mean_test_score"]


def run_all(X, y, args):
    """The untimed warm-up run of each setting, then the interleaved repeats."""
    print(f"1 untimed warm-up run per setting, then {args.repeats} interleaved repeats")
    times = {s: [] for s in SETTINGS}
    warm_up, scores = {}, {}
    for rep in range(-1, args.repeats):
        for setting in SETTINGS:
            wall, score = run_search(X, y, setting, args)
            scores[setting] = score
            tag = "warm-up" if rep < 0 else f"repeat {rep + 1}"
            print(
                f"  {tag:<9} {setting:<9} wall {wall:6.2f}s  mean scores "
                f"{np.round(score, 3).tolist()}"
            )
            if rep < 0:
                warm_up[setting] = wall
            else:
                times[setting].append(wall)
    return times, warm_up, scores


def main():
    parser = argparse.ArgumentParser(
        description="GridSearchCV over CNNBinaryClassifier: n_jobs=1, loky and Dask."
    )
    parser.add_argument("--n-samples", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs each")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    X, y = digits_pair_images((7, 8), size=28)
    X, y = tile_images(X, y, args.n_samples, args.random_state)
    info = environment()
    for dist in ("joblib", "dask", "distributed"):
        info["versions"][dist] = metadata.version(dist)
    print_environment(info)
    versions = ", ".join(
        f"{d} {info['versions'][d]}" for d in ("joblib", "distributed")
    )
    n_fits = args.cv * int(np.prod([len(v) for v in GRID.values()]))
    print(
        f"Data: {X.shape[0]} images {X.shape[1:]} {X.dtype}; grid {GRID}, "
        f"cv={args.cv} ({n_fits} fits per search), epochs={args.epochs}, "
        f"batch_size={args.batch_size}; {versions}"
    )

    load_before = os.getloadavg()
    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    try:
        client = Client(cluster)
        client.wait_for_workers(2)
        startup = time.perf_counter() - t0
        print(f"Cluster start-up (LocalCluster + Client, 2 workers): {startup:.2f}s")
        times, warm_up, scores = run_all(X, y, args)
        load_after = os.getloadavg()
        loky_workers = joblib.Parallel(n_jobs=2)(
            joblib.delayed(worker_threads)() for _ in range(4)
        )
        loky_workers = list({w["pid"]: w for w in loky_workers}.values())
        dask_workers = list(client.run(worker_threads).values())
        t0 = time.perf_counter()
        client.close()
    finally:
        cluster.close()
    shutdown = time.perf_counter() - t0

    med = {s: float(np.median(t)) for s, t in times.items()}
    ratio = {s: med[s] / med["n_jobs=1"] for s in SETTINGS}
    pairs = {
        s: (np.array(times[s]) / np.array(times["n_jobs=1"])).tolist() for s in SETTINGS
    }
    diff = {s: float(np.max(np.abs(scores[s] - scores["n_jobs=1"]))) for s in SETTINGS}

    print()
    header = f"{'setting':<10}{'warm-up (s)':>12}{'wall (s)':>10}{'ratio':>8}"
    print(header + f"{'pairs':>14}{'max |score diff|':>18}")
    print("-" * 72)
    for s in SETTINGS:
        span = f"{min(pairs[s]):.2f}-{max(pairs[s]):.2f}"
        print(
            f"{s:<10}{warm_up[s]:>12.2f}{med[s]:>10.2f}{ratio[s]:>8.3f}"
            f"{span:>14}{diff[s]:>18.1e}"
        )
    print(
        f"(medians of {args.repeats}; ratio = median / median of n_jobs=1, ideal 0.5 "
        "on 2 free cores)"
    )
    print(
        f"Cluster start-up {startup:.2f}s, shutdown {shutdown:.2f}s (not in the "
        "times above); the dask warm-up includes importing TensorFlow in the workers"
    )
    for name, workers in (("loky", loky_workers), ("dask", dask_workers)):
        for w in workers:
            print(
                f"  {name} worker pid {w['pid']}: OMP_NUM_THREADS="
                f"{w['OMP_NUM_THREADS']}, TensorFlow intra-op {w['tf_intra_op']}, "
                f"inter-op {w['tf_inter_op']} (0 = all cores)"
            )
    print(
        f"Load average (1 min) before / after: {load_before[0]:.2f} / "
        f"{load_after[0]:.2f} on {os.cpu_count()} CPUs"
    )

    results = {
        "times": times,
        "warm_up": warm_up,
        "median": med,
        "wall_ratio": ratio,
        "wall_ratio_pairwise": pairs,
        "cluster_startup": startup,
        "cluster_shutdown": shutdown,
        "mean_test_scores": scores,
        "max_score_difference": diff,
        "workers": {"loky": loky_workers, "dask": dask_workers},
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
