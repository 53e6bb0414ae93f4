"""
=========================================================
Peak memory of CNNBinaryClassifier fitted on image files
=========================================================

Writes ``--n-samples`` (10,000 by default) synthetic RGB JPEG files of
``--image-size`` (224x224) into a temporary folder (smooth random images with
mild noise, quality 85), draws random binary labels, then fits
``CNNBinaryClassifier(filters=(4,), batch_norm=False, epochs=1, batch_size=64,
image_shape=(224, 224, 3), verbose=1, random_state=0)`` on the 1-D array of
paths, which streams the files from disk batch by batch.

Each measurement runs in a fresh subprocess, which reports its own peak
resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``):

* baseline: imports TensorFlow, Keras and skcnn, then builds and compiles the
  same network (as ``fit`` does, optimizer variables included), without data;
* one batch in memory: the same classifier fitted on one batch (``batch_size``
  images) held as a uint8 array: the cost of training itself (activations,
  gradients, the traced step) without streaming;
* in memory: the same classifier fitted on the first ``--in-memory-samples``
  (1,000) of the same files, decoded beforehand (untimed) by
  :class:`skcnn.ImageLoader` into a uint8 array: training at the speed of
  arrays in memory, on the same network and images;
* streaming: the fit on the ``--n-samples`` paths.

The figures are printed beside the size the same images would take in memory
as uint8 and as float32, and the target: a streaming fit of 10,000 images of
224x224 RGB keeps peak RSS under 2 GB (as float32 they would take 6 GB).

The training speed of the streaming fit is printed next to the in-memory fit's,
measured in the same run: images/s over the whole fit (``n_images * epochs /
fit s``: building, tracing and the first step included) and in the steady state
(the images after the first training step over the time after it, a Keras
callback's timestamps), so that the cost of decoding the files while training
shows apart from the fixed costs. The files are removed at the end unless
``--keep``.

Example::

    python benchmarks/bench_out_of_core.py --json out_of_core.json
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

TARGET_BYTES = 2 * 1024**3
TARGET_TEXT = "peak RSS < 2 GB for a streaming fit of 10,000 224x224 RGB images"
GB = 1024**3


def _peak_rss_bytes():
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _current_rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def write_images(folder, n_samples, size, quality, random_state):
    """n_samples smooth random RGB JPEGs of size (height, width); their paths."""
    from PIL import Image

    rng = np.random.RandomState(random_state)
    height, width = size
    paths = []
    for i in range(n_samples):
        small = rng.randint(0, 256, size=(8, 8, 3), dtype=np.uint8)
        smooth = np.asarray(
            Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC),
            dtype=np.int16,
        )
        noise = rng.randint(-12, 13, size=smooth.shape, dtype=np.int16)
        pixels = np.clip(smooth + noise, 0, 255).astype(np.uint8)
        path = os.path.join(folder, f"img_{i:06d}.jpg")
        Image.fromarray(pixels).save(path, quality=quality)
        paths.append(path)
    return paths


def _classifier(args):
    from skcnn import CNNBinaryClassifier

    return CNNBinaryClassifier(
        filters=tuple(args.filters),
        batch_norm=False,
        epochs=args.epochs,
        batch_size=args.batch_size,
        image_shape=(*args.image_size, 3),
        verbose=1,
        random_state=args.random_state,
    )


def child(args):
    """Run one measurement in this (fresh) process; write a JSON result."""
    t0 = time.perf_counter()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras  # noqa: F401
    import tensorflow  # noqa: F401

    from skcnn import build_cnn
    from skcnn._classifier import _ARCHITECTURE_PARAMS
    from skcnn._training import make_optimizer

    result = {"import_s": time.perf_counter() - t0}
    rss_after_import = _current_rss_bytes()
    clf = _classifier(args)
    with open(args.paths_file) as f:
        paths = np.array(f.read().splitlines(), dtype=object)
    y = np.random.RandomState(args.random_state).randint(0, 2, size=len(paths))
    t0 = time.perf_counter()
    if args.child == "baseline":
        # What fit does before training: build, compile, create optimizer variables.
        model = build_cnn(
            (*args.image_size, 3),
            **{name: clf.get_params()[name] for name in _ARCHITECTURE_PARAMS},
            rescale=1 / 255,
            seed=0,
        )
        optimizer = make_optimizer(clf.optimizer, clf.learning_rate)
        model.compile(optimizer=optimizer, loss="binary_crossentropy")
        model.optimizer.build(model.trainable_variables)
        result["n_params"] = int(model.count_params())
    elif args.child == "one_batch":
        from skcnn import ImageLoader

        n = min(args.batch_size, len(paths))
        X = ImageLoader(image_size=tuple(args.image_size)).transform(paths[:n])
        clf.fit(X, y[:n])
    elif args.child == "in_memory":
        from skcnn import ImageLoader

        n = min(args.in_memory_samples, len(paths))
        X = ImageLoader(image_size=tuple(args.image_size)).transform(paths[:n])
        result["decode_s"] = time.perf_counter() - t0
        result["array_bytes"] = int(X.nbytes)
        t0 = time.perf_counter()
        _timed_fit(clf, X, y[:n], t0, result)
    else:
        _timed_fit(clf, paths, y, t0, result)
    result["run_s"] = time.perf_counter() - t0
    result["rss_after_import"] = rss_after_import
    result["rss_end"] = _current_rss_bytes()
    result["peak_rss"] = _peak_rss_bytes()
    with open(args.result_file, "w") as f:
        json.dump(result, f)


def _timed_fit(clf, X, y, t0, result):
    """Fit ``clf`` on X with a callback stamping the start of training, the end
    of the first step and of the last epoch; add to ``result`` where the time
    went (since ``t0``) and the images per second."""
    import keras

    stamps = {}

    class Stamps(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            stamps.setdefault("train_begin", time.perf_counter())

        def on_train_batch_end(self, batch, logs=None):
            stamps.setdefault("first_batch_end", time.perf_counter())

        def on_epoch_end(self, epoch, logs=None):
            stamps["last_epoch_end"] = time.perf_counter()

    clf.set_params(callbacks=[Stamps()])
    clf.fit(X, y)
    t1 = time.perf_counter()
    # Where the fit time goes: before model.fit's training loop starts, the
    # first step (tracing), the other steps, and after the last epoch.
    result["phases_s"] = {
        "before_training": stamps["train_begin"] - t0,
        "first_step": stamps["first_batch_end"] - stamps["train_begin"],
        "other_steps": stamps["last_epoch_end"] - stamps["first_batch_end"],
        "after_training": t1 - stamps["last_epoch_end"],
    }
    n_iter = int(clf.n_iter_)
    trained = len(X) * n_iter
    first = min(clf.batch_size, len(X))
    result["n_images"] = len(X)
    result["n_iter"] = n_iter
    result["loss"] = clf.history_["loss"][-1]
    result["images_per_s"] = trained / (t1 - t0)
    result["steady_images_per_s"] = (trained - first) / result["phases_s"][
        "other_steps"
    ]


def run_child(mode, args, paths_file):
    """Run ``mode`` in a fresh Python process; return its JSON result."""
    fd, result_file = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        mode,
        "--paths-file",
        paths_file,
        "--result-file",
        result_file,
        "--image-size",
        *map(str, args.image_size),
        "--filters",
        *map(str, args.filters),
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--random-state",
        str(args.random_state),
        "--in-memory-samples",
        str(args.in_memory_samples),
    ]
    print(f"\n--- {mode}: fresh subprocess", flush=True)
    t0 = time.perf_counter()
    try:
        subprocess.run(cmd, check=True)
        with open(result_file) as f:
            result = json.load(f)
    finally:
        os.remove(result_file)
    result["process_s"] = time.perf_counter() - t0
    return result


def _gb(n_bytes):
    return f"{n_bytes / GB:6.2f} GB"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument(
        "--image-size",
        type=int,
        nargs=2,
        default=(224, 224),
        metavar=("HEIGHT", "WIDTH"),
    )
    parser.add_argument("--filters", type=int, nargs="+", default=[4])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--quality", type=int, default=85, help="JPEG quality")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--dir",
        help="folder for the images (default: a new "
        "temporary folder); existing img_*.jpg files are reused",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the image files at the end"
    )
    parser.add_argument(
        "--in-memory-samples",
        type=int,
        default=1000,
        help="images of the in-memory fit (the first files, decoded to a uint8 "
        "array); 0: no in-memory fit",
    )
    parser.add_argument(
        "--skip-baselines",
        action="store_true",
        help="only run the streaming fit (and the in-memory one)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    # Internal: one measurement in a fresh process.
    parser.add_argument(
        "--child",
        choices=["baseline", "one_batch", "in_memory", "stream"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--paths-file", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    from _bench_common import dump_json, environment, print_environment

    info = environment()
    print_environment(info)
    height, width = args.image_size
    n = args.n_samples
    uint8_bytes = n * height * width * 3
    float32_bytes = 4 * uint8_bytes

    created = args.dir is None
    folder = tempfile.mkdtemp(prefix="skcnn_out_of_core_") if created else args.dir
    os.makedirs(folder, exist_ok=True)
    results = {}
    try:
        expected = [os.path.join(folder, f"img_{i:06d}.jpg") for i in range(n)]
        t0 = time.perf_counter()
        if all(os.path.exists(p) for p in expected):
            paths = expected
            print(f"\nReusing {n} JPEG files in {folder}")
        else:
            paths = write_images(
                folder, n, (height, width), args.quality, args.random_state
            )
            print(
                f"\nWrote {n} {height}x{width} RGB JPEG files (quality "
                f"{args.quality}) to {folder} in {time.perf_counter() - t0:.1f} s"
            )
        disk = sum(os.path.getsize(p) for p in paths)
        print(f"{disk / 1e6:.0f} MB on disk, {disk / n / 1e3:.1f} kB per file")
        paths_file = os.path.join(folder, "paths.txt")
        with open(paths_file, "w") as f:
            f.write("\n".join(paths))

        modes = [] if args.skip_baselines else ["baseline", "one_batch"]
        if args.in_memory_samples:
            modes.append("in_memory")
        modes.append("stream")
        for mode in modes:
            results[mode] = run_child(mode, args, paths_file)
    finally:
        if created and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"\nImages kept in {folder}")

    print(
        f"\nCNNBinaryClassifier(filters={tuple(args.filters)}, "
        f"epochs={args.epochs}, batch_size={args.batch_size}, "
        f"image_shape=({height}, {width}, 3)) on {n} image paths\n"
    )
    n_memory = results.get("in_memory", {}).get("n_images", args.in_memory_samples)
    labels = {
        "baseline": "baseline: import + build + compile, no data",
        "one_batch": f"fit on one batch of {args.batch_size} in-memory images",
        "in_memory": f"fit on {n_memory} images in memory (uint8)",
        "stream": f"fit streaming {n} image files",
    }
    print(f"{'process':<48} {'peak RSS':>9} {'fit s':>8} {'images/s':>9} {'steady':>8}")
    print("-" * 86)
    for mode, r in results.items():
        speed = (
            f" {r['images_per_s']:>9.1f} {r['steady_images_per_s']:>8.1f}"
            if "images_per_s" in r
            else ""
        )
        print(f"{labels[mode]:<48} {_gb(r['peak_rss'])} {r['run_s']:>8.1f}{speed}")
    print(
        "images/s: images x epochs / fit s; steady: the images after the first "
        "training step\nper second after it (the same network, epochs and batch "
        "size in both fits)"
    )
    print(f"\n{'same images in memory as uint8':<48} {_gb(uint8_bytes)}")
    print(f"{'same images in memory as float32':<48} {_gb(float32_bytes)}")
    stream = results["stream"]
    for mode in ("in_memory", "stream"):
        if mode not in results:
            continue
        r = results[mode]
        phases = ", ".join(
            f"{k.replace('_', ' ')} {v:.1f} s" for k, v in r["phases_s"].items()
        )
        print(f"\n{labels[mode]}: {r['run_s']:.1f} s, of which: {phases}")
        if mode == "in_memory":
            print(
                f"  (decoding the {r['n_images']} files beforehand took "
                f"{r['decode_s']:.1f} s, not counted)"
            )
    if "in_memory" in results:
        memory = results["in_memory"]
        print(
            "\nstreaming / in memory, images/s: "
            f"{stream['images_per_s'] / memory['images_per_s']:.2f} over the fit, "
            f"{stream['steady_images_per_s'] / memory['steady_images_per_s']:.2f} "
            "in the steady state"
        )
    if "baseline" in results:
        extra = stream["peak_rss"] - results["baseline"]["peak_rss"]
        print(f"streaming fit peak RSS - baseline peak RSS: {_gb(extra)}")
    if "one_batch" in results:
        extra = stream["peak_rss"] - results["one_batch"]["peak_rss"]
        print(f"streaming fit peak RSS - one-batch fit peak RSS: {_gb(extra)}")
    met = stream["peak_rss"] < TARGET_BYTES
    scale = (
        ""
        if (n, height, width) == (10_000, 224, 224)
        else (" (target stated for 10,000 images of 224x224)")
    )
    print(
        f"\ntarget: {TARGET_TEXT}{scale}: peak RSS {_gb(stream['peak_rss'])} "
        f"-> {'met' if met else 'NOT met'}"
    )
    results["memory_as_uint8"] = uint8_bytes
    results["memory_as_float32"] = float32_bytes
    results["disk_bytes"] = disk
    results["target"] = {"peak_rss_below": TARGET_BYTES, "met": met}
    dump_json(args.json, info, args, results)


if __name__ == "__main__":
    main()
