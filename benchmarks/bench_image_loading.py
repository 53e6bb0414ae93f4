"""
=========================================================
Image decoding speed: ImageLoader against Keras
=========================================================

Reads every image of a class-per-subfolder folder into ``(n, height, width, 3)``
uint8 arrays, resized to ``--image-size`` (224x224 by default), two ways,
interleaved in the same process:

* keras: ``keras.utils.image_dataset_from_directory(DIR, image_size=...,
  batch_size=32, shuffle=False)`` iterated to the end, each batch converted to
  uint8 numpy and dropped (TensorFlow decodes and resizes, tf.data map with
  AUTOTUNE);
* keras to array: the same, with the batches concatenated into one
  ``(n, height, width, 3)`` uint8 array, which is what ImageLoader returns and
  what a scikit-learn estimator takes. Filling a fresh array of all the images
  costs page faults that iterating batch by batch does not;
* ImageLoader: ``ImageLoader(image_size=..., n_jobs=n).transform(
  load_image_folder(DIR).filenames)`` for each ``--n-jobs`` value (TensorFlow
  decodes and resizes in a tf.data map, ``n`` in parallel; -1, the default, is
  tf.data's AUTOTUNE as in Keras).

Both timings include listing the folder. Every file is read once before the
first run so that the page cache is warm, and each path runs once, untimed, as a
warm-up. The figures are images per second of wall time and CPU milliseconds per
image (the process's user + system time, which the other tenants of a shared
machine do not inflate), the median of ``--repeats`` runs; the ratios are
ImageLoader / keras images per second (target at least 1.0) and keras /
ImageLoader CPU time per image (above 1.0: ImageLoader spends less).

The folder is an argument: no data is bundled. For instance the cats-vs-dogs
photos (JPEGs of odd sizes) of the shared data folder::

    python benchmarks/bench_image_loading.py ../shared/data/cats_vs_dogs/train \\
        --repeats 5 --json image_loading.json
"""

import argparse
import contextlib
import io
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _bench_common import dump_json, environment, print_environment  # noqa: E402

from skcnn import ImageLoader, load_image_folder  # noqa: E402

TARGET = 1.0
KERAS = "keras image_dataset_from_directory"
KERAS_ARRAY = "keras, collected into one array"


def warm_page_cache(filenames):
    """Read every file once; return the total number of bytes."""
    total = 0
    for name in filenames:
        with open(name, "rb") as f:
            total += len(f.read())
    return total


def run_keras(folder, image_size):
    with contextlib.redirect_stdout(io.StringIO()):  # "Found n files ..."
        ds = keras.utils.image_dataset_from_directory(
            folder, image_size=image_size, batch_size=32, shuffle=False
        )
    n = 0
    for images, _ in ds:
        # Keras returns float32 0-255 images; cast to uint8 as ImageLoader returns.
        n += len(np.asarray(images).astype(np.uint8))
    return n


def run_keras_array(folder, image_size):
    with contextlib.redirect_stdout(io.StringIO()):
        ds = keras.utils.image_dataset_from_directory(
            folder, image_size=image_size, batch_size=32, shuffle=False
        )
    X = np.concatenate([np.asarray(images).astype(np.uint8) for images, _ in ds])
    return len(X)


def run_loader(folder, image_size, n_jobs):
    filenames = load_image_folder(folder).filenames
    X = ImageLoader(image_size=image_size, n_jobs=n_jobs).transform(filenames)
    return len(X)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "folder",
        nargs="?",
        help="class-per-subfolder image folder (for instance "
        "../shared/data/cats_vs_dogs/train)",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        nargs=2,
        default=(224, 224),
        metavar=("HEIGHT", "WIDTH"),
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--n-jobs",
        type=int,
        nargs="+",
        default=[-1],
        help="ImageLoader n_jobs values to time (default: -1)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    args = parser.parse_args(argv)
    if args.folder is None:
        parser.error(
            "the image folder is required (a folder holding one subfolder per "
            "class), e.g. ../shared/data/cats_vs_dogs/train"
        )
    if not os.path.isdir(args.folder):
        parser.error(f"not a folder: {args.folder!r}")
    image_size = tuple(args.image_size)

    info = environment()
    print_environment(info)
    filenames = load_image_folder(args.folder).filenames
    n_bytes = warm_page_cache(filenames)
    print(
        f"\n{len(filenames)} files, {n_bytes / 1e6:.1f} MB in {args.folder!r}, "
        f"resized to {image_size[0]}x{image_size[1]}; {args.repeats} repeats, "
        "interleaved\n"
    )

    paths = {
        KERAS: lambda: run_keras(args.folder, image_size),
        KERAS_ARRAY: lambda: run_keras_array(args.folder, image_size),
    }
    for n_jobs in args.n_jobs:
        paths[f"ImageLoader n_jobs={n_jobs}"] = lambda n_jobs=n_jobs: run_loader(
            args.folder, image_size, n_jobs
        )
    for run in paths.values():  # warm-up, untimed
        run()
    times = {name: [] for name in paths}
    cpu_times = {name: [] for name in paths}
    counts = {}
    for _ in range(args.repeats):
        for name, run in paths.items():
            t0, c0 = time.perf_counter(), time.process_time()
            counts[name] = run()
            times[name].append(time.perf_counter() - t0)
            cpu_times[name].append(time.process_time() - c0)

    results = {}
    print(
        f"{'path':<34} {'images/s':>9} {'median s':>9} {'min s':>7} {'max s':>7} "
        f"{'CPU ms/image':>12}"
    )
    print("-" * 84)
    for name, ts in times.items():
        median = statistics.median(ts)
        rate = counts[name] / median
        cpu_ms = statistics.median(cpu_times[name]) / counts[name] * 1e3
        results[name] = {
            "n_images": counts[name],
            "times": ts,
            "cpu_times": cpu_times[name],
            "images_per_s": rate,
            "cpu_ms_per_image": cpu_ms,
        }
        print(
            f"{name:<34} {rate:>9.0f} {median:>9.3f} {min(ts):>7.3f} "
            f"{max(ts):>7.3f} {cpu_ms:>12.2f}"
        )
    print()
    loaders = [name for name in paths if name not in (KERAS, KERAS_ARRAY)]
    for reference in (KERAS, KERAS_ARRAY):
        for name in loaders:
            ratio = results[name]["images_per_s"] / results[reference]["images_per_s"]
            cpu_ratio = (
                results[reference]["cpu_ms_per_image"]
                / results[name]["cpu_ms_per_image"]
            )
            results[name][f"ratio_vs {reference}"] = ratio
            results[name][f"cpu_ratio_vs {reference}"] = cpu_ratio
            verdict = "met" if ratio >= TARGET else "NOT met"
            print(
                f"{name} / {reference}: {ratio:.2f} images/s (target >= "
                f"{TARGET:.1f}: {verdict}); CPU time per image, {reference} / "
                f"{name}: {cpu_ratio:.2f}"
            )
    results["folder"] = {
        "path": os.path.abspath(args.folder),
        "n_files": len(filenames),
        "bytes": n_bytes,
    }
    dump_json(args.json, info, args, results)


if __name__ == "__main__":
    main()
