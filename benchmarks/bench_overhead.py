"""
=========================================================
Overhead of CNNBinaryClassifier over plain Keras
=========================================================

Fits the same network (the MNIST 7-vs-8 tutorial CNN, ``build_cnn((28, 28, 1),
filters=(32, 64), padding="valid", dropout=0.5)``) two ways, interleaved in the
same process:

* direct: what a Keras user writes - build_cnn, compile with Adam(0.001),
  binary cross-entropy and ``metrics=["accuracy"]`` (as the Keras tutorials do,
  and as CNNBinaryClassifier records by default), ``model.fit(X, y_float,
  epochs, batch_size, shuffle=True)``, then ``model.predict(X, batch_size)``;
* wrapper: ``CNNBinaryClassifier(...).fit(X, y)``, then ``predict_proba(X)``.

Fit times include everything from label encoding and building the model to the
end of training; predict times are the prediction of the training images by the
model just fitted. The first run of each path is a warm-up and is not timed;
``keras.backend.clear_session()`` and ``gc.collect()`` run (untimed) before every
run of every path. Wall-clock and process CPU time (all threads) are both
recorded. The overhead is median(wrapper) / median(direct); the target is at most
1.05 for fit.

``--with-prebuilt`` adds a third path: the direct one plus
``model.optimizer.build(model.trainable_variables)`` before ``model.fit``, which
is what the wrapper does to spare TensorFlow a second trace of the training
step. Comparing the wrapper with it isolates the cost of the wrapper's own work
(input validation, label encoding, sample weights, tf.data pipeline).

The default data needs no download: sklearn's bundled 8x8 digits 7 and 8,
upsampled to 28x28 with Pillow and tiled (with random shifts of up to 2 pixels)
to ``--n-samples`` uint8 images. ``--data`` takes an .npz file with arrays
``X`` (uint8, shape (n, 28, 28, 1)) and ``y`` (two classes) instead.

Example::

    python benchmarks/bench_overhead.py --repeats 5 --json overhead.json
"""

import argparse
import gc
import os
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

from skcnn import CNNBinaryClassifier, build_cnn  # noqa: E402

FIT_TARGET = 1.05
STARVED = 0.75  # a fit below this fraction of the best CPU/wall ratio was starved
ARCH = dict(filters=(32, 64), padding="valid", dropout=0.5)
DIRECT = "direct (keras)"
PREBUILT = "direct + optimizer.build"
WRAPPER = "CNNBinaryClassifier"
KEYS = ("fit", "predict", "fit_cpu", "predict_cpu")
LABELS = {
    "fit": "fit, wall",
    "predict": "predict, wall",
    "fit_cpu": "fit, CPU",
    "predict_cpu": "predict, CPU",
}


def load_data(args):
    if args.data:
        with np.load(args.data) as f:
            X, y = f["X"], f["y"]
        if X.ndim == 3:
            X = X[..., None]
        return X[: args.n_samples], y[: args.n_samples]
    X, y = digits_pair_images((7, 8), size=28)
    return tile_images(X, y, args.n_samples, args.random_state)


def run_direct(X, y, args, build_optimizer=False):
    """What a Keras user writes.

    Returns (fit wall s, predict wall s, fit CPU s, predict CPU s), final loss.
    """
    c0, t0 = time.process_time(), time.perf_counter()
    y_float = (y == np.unique(y)[1]).astype("float32")
    model = build_cnn(X.shape[1:], **ARCH, rescale=1 / 255, seed=args.random_state)
    model.compile(
        optimizer=keras.optimizers.Adam(0.001),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    if build_optimizer:
        model.optimizer.build(model.trainable_variables)
    history = model.fit(
        X,
        y_float,
        epochs=args.epochs,
        batch_size=args.batch_size,
        shuffle=True,
        verbose=0,
    )
    c1, t1 = time.process_time(), time.perf_counter()
    proba = model.predict(X, batch_size=args.batch_size, verbose=0)
    c2, t2 = time.process_time(), time.perf_counter()
    assert proba.shape == (len(X), 1)
    return (t1 - t0, t2 - t1, c1 - c0, c2 - c1), history.history["loss"][-1]


def run_direct_prebuilt(X, y, args):
    return run_direct(X, y, args, build_optimizer=True)


def run_wrapper(X, y, args):
    """The same through CNNBinaryClassifier; returns as ``run_direct``."""
    c0, t0 = time.process_time(), time.perf_counter()
    clf = CNNBinaryClassifier(
        **ARCH,
        epochs=args.epochs,
        batch_size=args.batch_size,
        random_state=args.random_state,
        verbose=0,
    ).fit(X, y)
    c1, t1 = time.process_time(), time.perf_counter()
    proba = clf.predict_proba(X)
    c2, t2 = time.process_time(), time.perf_counter()
    assert proba.shape == (len(X), 2)
    return (t1 - t0, t2 - t1, c1 - c0, c2 - c1), clf.history_["loss"][-1]


def main():
    parser = argparse.ArgumentParser(
        description="Overhead of CNNBinaryClassifier over plain Keras."
    )
    parser.add_argument("--n-samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per path")
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed runs per path before timing"
    )
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--data", default=None, help="optional .npz with X (uint8 images) and y"
    )
    parser.add_argument(
        "--with-prebuilt",
        action="store_true",
        help="also time the direct path plus model.optimizer.build(...) before fit",
    )
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args()

    paths = {DIRECT: run_direct}
    if args.with_prebuilt:
        paths[PREBUILT] = run_direct_prebuilt
    paths[WRAPPER] = run_wrapper

    keras.utils.set_random_seed(args.random_state)
    X, y = load_data(args)
    info = environment()
    print_environment(info)
    n_params = build_cnn(X.shape[1:], **ARCH, rescale=1 / 255).count_params()
    print(
        f"Data: {X.shape[0]} images {X.shape[1:]} {X.dtype}, classes "
        f"{np.unique(y).tolist()}; epochs={args.epochs}, "
        f"batch_size={args.batch_size}, {n_params} parameters"
    )
    print(
        f"{args.warmup} untimed warm-up run(s) per path, then {args.repeats} "
        "interleaved repeats"
    )

    times = {name: {k: [] for k in (*KEYS, "loss")} for name in paths}
    load_before = os.getloadavg()
    for rep in range(-args.warmup, args.repeats):
        for name, run in paths.items():
            keras.backend.clear_session()
            gc.collect()
            measured, loss = run(X, y, args)
            tag = "warm-up" if rep < 0 else f"repeat {rep + 1}"
            print(
                f"  {tag:<9} {name:<25} fit {measured[0]:6.2f}s "
                f"(CPU {measured[2]:6.2f}s)  predict {measured[1]:5.3f}s "
                f"(CPU {measured[3]:5.3f}s)  loss {loss:.4f}"
            )
            if rep >= 0:
                for k, v in zip(KEYS, measured, strict=True):
                    times[name][k].append(v)
                times[name]["loss"].append(loss)
    load_after = os.getloadavg()

    med = {
        name: {k: float(np.median(v)) for k, v in t.items()}
        for name, t in times.items()
    }
    refs = [name for name in paths if name != WRAPPER]
    ratios = {ref: {k: med[WRAPPER][k] / med[ref][k] for k in KEYS} for ref in refs}
    # The ratio within each interleaved pair, to show the spread of the ratio.
    pairwise = {
        ref: {
            k: (np.array(times[WRAPPER][k]) / np.array(times[ref][k])).tolist()
            for k in KEYS
        }
        for ref in refs
    }

    print()
    print(
        f"{'Path':<26}{'fit (s)':>10}{'predict (s)':>13}{'fit CPU (s)':>13}"
        f"{'predict CPU (s)':>17}{'final loss':>12}"
    )
    print("-" * 91)
    for name in paths:
        m = med[name]
        print(
            f"{name:<26}{m['fit']:>10.3f}{m['predict']:>13.3f}{m['fit_cpu']:>13.3f}"
            f"{m['predict_cpu']:>17.3f}{m['loss']:>12.4f}"
        )
    print("(medians of the timed repeats; CPU = process CPU time, all threads)")

    for ref in refs:
        title = "Ratio wrapper / " + ("direct" if ref == DIRECT else ref)
        print()
        print(
            f"{title:<38}{'median':>8}{'pair median':>13}{'pair min-max':>15}"
            f"{'target':>10}"
        )
        print("-" * 84)
        for k in KEYS:
            pairs = pairwise[ref][k]
            r = ratios[ref][k]
            target, verdict = "-", ""
            if k.startswith("fit") and ref == DIRECT:
                target = f"<= {FIT_TARGET}"
                verdict = "  OK" if r <= FIT_TARGET else "  ABOVE TARGET"
            print(
                f"{LABELS[k]:<38}{r:>8.3f}{np.median(pairs):>13.3f}"
                f"{f'{min(pairs):.3f}-{max(pairs):.3f}':>15}{target:>10}{verdict}"
            )
    print(
        "median = median(wrapper) / median(reference); pair median, min-max: of "
        "the ratios\nwithin each interleaved pair (runs next to each other in time)"
    )
    print(
        f"\nLoad average (1 min) before / after: {load_before[0]:.2f} / "
        f"{load_after[0]:.2f} on {os.cpu_count()} CPUs"
    )
    # A fit that got much less CPU per wall-clock second than the best one spent
    # its time waiting for a core: other processes competed for the CPUs.
    usage = {
        name: np.array(times[name]["fit_cpu"]) / np.array(times[name]["fit"])
        for name in paths
    }
    best = float(np.max(np.concatenate(list(usage.values()))))
    starved = sum(int(np.sum(u < STARVED * best)) for u in usage.values())
    if starved:
        print(
            f"WARNING: {starved} of {len(paths) * args.repeats} timed fits got less "
            f"than {STARVED:.0%} of the best CPU time per wall-clock second "
            f"({best:.2f}): other processes competed for the CPUs, so the "
            "wall-clock ratios are unreliable. The CPU-time ratios are less "
            "affected; rerun on an idle machine for wall-clock figures."
        )

    results = {
        "times": times,
        "median": med,
        "ratios": ratios,
        "ratios_pairwise": pairwise,
        "fit_target": FIT_TARGET,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "starved_fits": starved,
        "data": {
            "n_samples": int(X.shape[0]),
            "image_shape": list(X.shape[1:]),
            "dtype": str(X.dtype),
            "source": args.data or "sklearn digits 7 vs 8, upsampled to 28x28, tiled",
        },
    }
    dump_json(args.json, info, args, results)


if __name__ == "__main__":
    main()
