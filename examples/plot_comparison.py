"""Draw what ``skcnn compare --json`` measured: each model's score per fold, the
folds joined by lines (the comparison is paired), with the corrected resampled
t-test's interval of the difference in the title.

Usage::

    skcnn compare DIR --folds 5 --json > results.json
    python examples/plot_comparison.py results.json comparison.png

Needs ``pip install "skcnn[plot]"``; runs in a second.
"""

import json
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

results = json.load(open(sys.argv[1], encoding="utf-8"))
models = results["models"]
figure = Figure(figsize=(7.5, 3.4), layout="constrained")
for ax, (metric, label) in zip(
    figure.subplots(1, 2),
    [("accuracy", "accuracy"), ("roc_auc", "ROC AUC")],
    strict=True,
):
    names = list(models)
    scores = [models[name][metric] for name in names]
    for fold in range(len(scores[0])):
        ax.plot(
            range(len(names)), [s[fold] for s in scores], "o-", color="grey", alpha=0.6
        )
    ax.set_xticks(range(len(names)), names)
    ax.set_xlim(-0.4, len(names) - 0.6)
    ax.set_ylabel(f"{label} per fold")
    difference = results["differences"][f"{names[0]} - baseline"][metric]
    ax.set_title(
        f"{names[0]} - baseline: {difference['mean']:+.3f}\n"
        f"95% CI {difference['ci_low']:+.3f} to {difference['ci_high']:+.3f}, "
        f"p = {difference['p_value']:.2g}",
        fontsize="medium",
    )
title = f"{results['dataset']}: {results['folds']} folds, {results['n_samples']} images"
figure.suptitle(textwrap.fill(title, 90), fontsize="medium")
figure.savefig(sys.argv[2], dpi=80)
