"""
=====================================================================
Test accuracy of skcnn's recipes on real image folders (issue 12 table)
=====================================================================

For each dataset of a data root laid out as ``<name>/train/<class>/`` and
``<name>/test/<class>/`` (the shared development data, never in this
repository), this script runs ``skcnn compare TRAIN --test TEST`` with the
options of each configuration below and collects, for every model the command
fitted, the test accuracy, ROC AUC and fit time. Every number in the printed
table is what that command printed (its JSON), so each row is reproduced by
running the command shown beside it.

Configurations:

* ``defaults``: no option at all: the from-scratch defaults (the "cnn" row)
  and the logistic-regression baseline (the "baseline" row).
* ``best``: the best from-scratch options found for the dataset (see
  ``BEST``), for the datasets whose best are not the defaults.
* ``pretrained``: ``--backbone efficientnet_lite0`` (ImageNet weights shipped
  with ``skcnn[pretrained]``, no download): the frozen backbone with a trained
  head (the "cnn" row) and pretrained features + logistic regression (the
  "features" row).
* ``fine-tuned``: the same, with the top of the backbone fine-tuned.

``--cv-datasets`` (covid_xray by default) are cross-validated on their
``train/`` folder instead (``skcnn compare TRAIN``, 5 folds): covid_xray's two
classes come from different sources, so its scores show that loading and
training work, not medical accuracy.

Example::

    python benchmarks/bench_accuracy.py ../shared/data --json accuracy.json
"""

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from _bench_common import dump_json, environment, print_environment

# The best from-scratch options measured per dataset, on top of the defaults
# (filters 16 32 64 128, batch normalization for colour images, global average
# pooling, dropout 0.3, augmentation, cosine decay over 60 epochs or 100 for fewer
# than 1,000 images): pneumoniamnist's 28x28 X-rays upsampled to 56x56 (the four
# poolings then end at 4x4 rather than 2x2). For photos the defaults are the best
# measured (batch normalization and 100 epochs).
BEST = {
    "pneumoniamnist": ["--image-size", "56", "56"],
}
_LITE0 = ["--backbone", "efficientnet_lite0"]
CONFIGS = {
    "defaults": [],
    "best": None,  # BEST[dataset]
    "pretrained": _LITE0,
    "fine-tuned": [*_LITE0, "--fine-tune-layers", "20", "--fine-tune-epochs", "5"],
}
# Options added to a configuration for one dataset: pneumoniamnist's 28x28 X-rays
# read at 96x96 for the backbone rather than its native 224x224 (5x fewer pixels).
EXTRA = {("pneumoniamnist", "pretrained"): ["--image-size", "96", "96"]}
EXTRA[("pneumoniamnist", "fine-tuned")] = EXTRA[("pneumoniamnist", "pretrained")]


def _run(argv):
    """Run ``skcnn`` with argv; its JSON output and the wall time."""
    command = [sys.executable, "-m", "skcnn", *argv, "--json", "--quiet"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout), wall


def _rows(dataset, config, argv, summary, wall):
    display = "skcnn " + shlex.join(argv)
    for model, scores in summary["models"].items():
        if config != "defaults" and model == "baseline":
            continue  # the same baseline in every configuration
        yield {
            "dataset": dataset,
            "config": config,
            "model": model,
            "accuracy": sum(scores["accuracy"]) / len(scores["accuracy"]),
            "roc_auc": sum(scores["roc_auc"]) / len(scores["roc_auc"]),
            "fit_time": sum(scores["fit_time"]) / len(scores["fit_time"]),
            "folds": len(scores["accuracy"]),
            "command": display,
            "command_wall_time": wall,
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("root", type=Path, help="data root (../shared/data)")
    parser.add_argument(
        "--datasets", nargs="*", default=["pneumoniamnist", "cats_vs_dogs"]
    )
    parser.add_argument("--cv-datasets", nargs="*", default=["covid_xray"])
    parser.add_argument(
        "--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS)
    )
    parser.add_argument("--json", default=None, help="write the rows here")
    args = parser.parse_args()

    rows = []
    runs = [(d, str(args.root / d / "train"), True) for d in args.datasets]
    runs += [(d, str(args.root / d / "train"), False) for d in args.cv_datasets]
    for dataset, train, held_out in runs:
        for config in args.configs:
            if config in ("best", "fine-tuned") and not held_out:
                continue
            if config == "best" and dataset not in BEST:
                continue  # the defaults are its best
            options = CONFIGS[config]
            if options is None:
                options = BEST.get(dataset, [])
            argv = ["compare", train, *options, *EXTRA.get((dataset, config), [])]
            if held_out:
                argv += ["--test", str(args.root / dataset / "test")]
            print(f"running: skcnn {shlex.join(argv)}", file=sys.stderr, flush=True)
            summary, wall = _run(argv)
            new = list(_rows(dataset, config, argv, summary, wall))
            rows += new
            for row in new:
                print(json.dumps(row), file=sys.stderr, flush=True)

    print("| dataset | configuration | model | accuracy | ROC AUC | fit time (s) |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        how = "test" if row["folds"] == 1 else f"{row['folds']}-fold CV"
        print(
            f"| {row['dataset']} ({how}) | {row['config']} | {row['model']} | "
            f"{row['accuracy']:.3f} | {row['roc_auc']:.3f} | {row['fit_time']:.1f} |"
        )
    print()
    for command in dict.fromkeys(row["command"] for row in rows):
        print(f"    {command}")
    info = environment()
    print_environment(info)
    if args.json:
        dump_json(args.json, info, args, rows)


if __name__ == "__main__":
    main()
