"""
Quick comparison: CNN vs logistic regression
============================================

Is a CNN worth it on your images? Cross-validate it against the
logistic-regression baseline (:func:`~skcnn.make_baseline`: flattened pixels,
standardized, logistic regression) on the same stratified folds, and look at the
per-fold difference, not only at two means.

The task is scikit-learn's bundled digits 7 and 8, each pasted at a random
position on a 16x16 canvas (:func:`skcnn.datasets.make_shifted_digits`, no
download): position varies, as objects do in photos. A linear model on pixels
must learn every position separately; a CNN's shared convolutions and pooling
recognise a stroke wherever it is. This is what ``skcnn compare`` runs without
arguments, with the same small CNN; ``skcnn compare DIR`` runs it on a folder of
images. (On the centred 8x8 digits, ``skcnn compare --dataset digits``, the user
guide reports both models at 0.997 accuracy: a linear model on pixels does well
when every digit sits in the same place.)

Given the JSON file of ``skcnn compare DIR --json`` (and a PNG file name), the
example draws that file's folds instead of computing its own (the user guide's
figure is made so)::

    skcnn compare DIR --folds 5 --json > results.json
    python examples/plot_comparison.py results.json comparison.png
"""

import json
import sys
import textwrap

import matplotlib.pyplot as plt

from skcnn import (
    CNNBinaryClassifier,
    compare_estimators,
    format_comparison,
    make_baseline,
    paired_difference,
)
from skcnn.datasets import make_shifted_digits

saved = None
if len(sys.argv) > 1:  # the results of `skcnn compare ... --json`
    with open(sys.argv[1], encoding="utf-8") as file:
        saved = json.load(file)

# %%
# The two models on the same folds
# --------------------------------
# :func:`~skcnn.compare_estimators` clones and fits each estimator on each
# training fold and scores it on the held-out fold (accuracy and ROC AUC from one
# ``predict_proba`` call, fit and predict timed separately);
# :func:`~skcnn.format_comparison` prints the table ``skcnn compare`` prints. The
# CNN is the one ``skcnn compare`` uses on the bundled digits: two blocks of 16
# and 32 filters, global max pooling, dropout 0.5, no augmentation, a constant
# learning rate, 10 epochs. Three folds keep the example short; ``skcnn
# compare`` runs 5 by default (``--folds``).
if saved is None:
    data = make_shifted_digits()
    print(data.DESCR)
    cnn = CNNBinaryClassifier(
        filters=(16, 32),
        global_pooling="max",
        dropout=0.5,
        augment=None,
        learning_rate_schedule=None,
        epochs=10,
        metrics=(),  # no per-epoch accuracy: a little faster, the same fits
        random_state=0,
    )
    results = compare_estimators(
        {"cnn": cnn, "baseline": make_baseline()},
        data.images,
        data.target,
        cv=3,
        verbose=0,
    )
    print(format_comparison(results))
    title = f"shifted digits 7 vs 8: 3 folds, {len(data.target)} images"
else:
    results = saved["models"]
    title = f"{saved['dataset']}: {saved['folds']} folds, {saved['n_samples']} images"

# %%
# The difference, fold by fold
# ----------------------------
# The folds share most of their training images, so their scores are not
# independent, and a plain paired t-test would be overconfident.
# :func:`~skcnn.paired_difference` gives the mean per-fold difference with the 95%
# interval and p-value of Nadeau and Bengio's corrected resampled t-test, as
# ``skcnn compare`` prints them below its table.
model = next(name for name in results if name != "baseline")
n_folds = len(results[model]["accuracy"])
differences = {
    metric: paired_difference(
        results, model, metric=metric, test_train_ratio=1 / (n_folds - 1)
    )
    for metric in ("accuracy", "roc_auc")
}
for metric, d in differences.items():
    print(
        f"{model} - baseline, {metric}: {d['mean']:+.3f} "
        f"(95% CI {d['ci_low']:+.3f} to {d['ci_high']:+.3f}, p = {d['p_value']:.2g})"
    )

# %%
# Each grey line joins the scores of one fold: the comparison is paired.
figure, axes = plt.subplots(1, 2, figsize=(7.5, 3.4), layout="constrained")
names = [model, "baseline"]
for ax, (metric, label) in zip(
    axes, [("accuracy", "accuracy"), ("roc_auc", "ROC AUC")], strict=True
):
    scores = [results[name][metric] for name in names]
    for fold in range(n_folds):
        ax.plot([0, 1], [s[fold] for s in scores], "o-", color="grey", alpha=0.6)
    ax.set_xticks([0, 1], names)
    ax.set_xlim(-0.4, 1.4)
    ax.set_ylabel(f"{label} per fold")
    d = differences[metric]
    ax.set_title(
        f"{model} - baseline: {d['mean']:+.3f}\n"
        f"95% CI {d['ci_low']:+.3f} to {d['ci_high']:+.3f}, p = {d['p_value']:.2g}",
        fontsize="medium",
    )
figure.suptitle(textwrap.fill(title, 90), fontsize="medium")
if len(sys.argv) > 2:
    figure.savefig(sys.argv[2], dpi=80)
plt.show()
