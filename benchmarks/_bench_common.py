"""Helpers shared by the benchmark scripts: data, machine info, JSON dump.

Not a benchmark itself. The scripts import it as a sibling module, so run them as
``python benchmarks/bench_*.py`` (the script's folder is then on ``sys.path``).
"""

import datetime
import json
import os
import platform
import subprocess
import sys
from importlib import metadata

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def digits_pair_images(pair=(7, 8), size=28):
    """sklearn's bundled 8x8 digits of two classes, upsampled to size x size uint8.

    The 17 grey levels (0-16) are spread over 0-255, as in
    ``skcnn.datasets.load_digits_pair``, then each image is resized with Pillow's
    bilinear filter. Returns images of shape (n, size, size, 1) and the digit labels.
    """
    digits = load_digits()
    keep = np.isin(digits.target, pair)
    small = np.rint(digits.images[keep] * (255 / 16)).astype(np.uint8)
    big = np.stack(
        [
            np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR))
            for img in small
        ]
    )
    return big[..., None], digits.target[keep]


def tile_images(X, y, n_samples, random_state, max_shift=2):
    """Draw n_samples rows of (X, y) with replacement, each shifted by a few pixels.

    The shifts (up to ``max_shift`` pixels each way, zero-filled) keep the
    repeated images from being byte-for-byte copies of each other.
    """
    rng = np.random.RandomState(random_state)
    idx = rng.randint(0, len(X), size=n_samples)
    h, w = X.shape[1:3]
    pad = ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0))
    padded = np.pad(X, pad)
    dy = rng.randint(0, 2 * max_shift + 1, size=n_samples)
    dx = rng.randint(0, 2 * max_shift + 1, size=n_samples)
    out = np.empty((n_samples, *X.shape[1:]), dtype=X.dtype)
    for k, (i, a, b) in enumerate(zip(idx, dy, dx, strict=True)):
        out[k] = padded[i, a : a + h, b : b + w]
    return out, y[idx]


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git_state():
    """Commit of the checkout the benchmarks live in, and its modified skcnn files."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def git(*cmd):
        return subprocess.run(
            ["git", "-C", root, *cmd], capture_output=True, text=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--", "skcnn").splitlines()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit or None, "skcnn_uncommitted": dirty}


def environment():
    """Machine, package versions and Keras backend, for the JSON dump."""
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu": _cpu_model(),
            "cpu_count": os.cpu_count(),
            "cpu_affinity": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else None,
        },
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "sklearn": _version("scikit-learn"),
            "keras": _version("keras"),
            "tensorflow": _version("tensorflow"),
            "skcnn": _version("skcnn"),
            "threadpoolctl": _version("threadpoolctl"),
        },
        "keras_backend": None,
        "git": _git_state(),
    }
    if "keras" in sys.modules:
        info["keras_backend"] = sys.modules["keras"].backend.backend()
    else:  # not imported by this benchmark: what Keras would pick, without importing it
        backend = os.environ.get("KERAS_BACKEND")
        if backend is None:
            config = os.path.join(
                os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")),
                "keras.json",
            )
            try:
                with open(config) as f:
                    backend = json.load(f).get("backend")
            except (OSError, ValueError):
                backend = "tensorflow"
        info["keras_backend"] = f"{backend} (keras not imported)"
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [
            {
                k: d.get(k)
                for k in ("user_api", "internal_api", "version", "num_threads")
            }
            for d in threadpool_info()
        ]
    except ImportError:
        pass
    return info


def print_environment(info):
    v = info["versions"]
    m = info["machine"]
    print(
        f"python {v['python']}, numpy {v['numpy']}, sklearn {v['sklearn']}, "
        f"keras {v['keras']} (backend {info['keras_backend']}), "
        f"tensorflow {v['tensorflow']}, skcnn {v['skcnn']}"
    )
    print(f"{m['cpu']}, {m['cpu_count']} CPUs, {m['platform']}")
    if info.get("git"):
        dirty = info["git"]["skcnn_uncommitted"]
        print(
            f"skcnn checkout at {(info['git']['commit'] or '?')[:12]}"
            + (
                f", uncommitted: {' '.join(d.split()[-1] for d in dirty)}"
                if dirty
                else ""
            )
        )


def dump_json(path, info, args, results):
    if not path:
        return
    payload = {**info, "arguments": vars(args), "results": results}
    with open(path, "w") as f:
        json.dump(payload, f, indent=2, default=_jsonable)
        f.write("\n")
    print(f"\nResults written to {path}")


def _jsonable(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    return str(obj)
