"""
Patient-level folds: StratifiedKFold vs StratifiedGroupKFold
============================================================

Chest X-ray folders often hold several images of one patient
(``person1_bacteria_1.jpeg``, ``person1_bacteria_2.jpeg``, ...). Folds that put one
patient's images on both sides of a split score how well a model recognises
patients, not disease. :func:`~skcnn.load_image_folder` reads each file's group
from its name (``groups=r"(person\\d+)_"``: the regular expression's first
parenthesized group), for :class:`~sklearn.model_selection.StratifiedGroupKFold`
(``skcnn compare DIR --groups REGEX`` on the command line).

This example writes scikit-learn's digits 7 and 8 as PNG files named like a chest
X-ray folder (``person700_0.png``: four images per "patient") into a temporary
folder, loads them with ``groups=``, and draws the fold of every image of the
first 15 patients under both splitters. With a file name as argument, it also
saves the figure there (the user guide's figure)::

    python examples/plot_patient_folds.py patient_folds.png
"""

# %%
# A folder named like patients' X-rays
# ------------------------------------
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from skcnn import load_image_folder
from skcnn.datasets import load_digits_pair

X, y = load_digits_pair(return_X_y=True)
with tempfile.TemporaryDirectory() as root:
    for label in (7, 8):
        folder = Path(root, str(label))
        folder.mkdir()
        for i, image in enumerate(X[y == label]):
            name = f"person{label}{i // 4:02d}_{i % 4}.png"  # 4 images per patient
            Image.fromarray(image[..., 0]).save(folder / name)
    data = load_image_folder(root, groups=r"(person\d+)_")
print(data.DESCR)
print(f"{len(set(data.groups))} patients; groups of the first files: {data.groups[:5]}")

# %%
# The folds of each patient's images
# ----------------------------------
# Each row is a patient, each cell one of its images, labelled with its fold.
# Plain stratified folds scatter a patient's images over several folds; the group
# folds keep each patient in one.
patients = list(dict.fromkeys(data.groups))[:15]
splitters = {
    "StratifiedKFold:\na patient's images in several folds": StratifiedKFold(
        5, shuffle=True, random_state=0
    ),
    "StratifiedGroupKFold (compare --groups):\none fold per patient": (
        StratifiedGroupKFold(5, shuffle=True, random_state=0)
    ),
}
figure, axes = plt.subplots(1, 2, figsize=(8, 4.2), layout="constrained")
for ax, (title, splitter) in zip(axes, splitters.items(), strict=True):
    fold = np.empty(len(data.target), dtype=int)
    groups = data.groups if isinstance(splitter, StratifiedGroupKFold) else None
    for k, (_, test) in enumerate(splitter.split(data.filenames, data.target, groups)):
        fold[test] = k
    split_patients = sum(len(set(fold[data.groups == p])) > 1 for p in set(data.groups))
    print(f"{type(splitter).__name__}: {split_patients} patients in several folds")
    grid = np.array([fold[data.groups == p] for p in patients])  # 4 images each
    ax.imshow(grid, cmap="Pastel1", vmin=0, vmax=8, aspect="auto")
    ax.set_yticks(range(len(patients)), patients, fontsize="small")
    ax.set_xticks(range(4), [str(i + 1) for i in range(4)], fontsize="small")
    ax.set_xlabel("image of the patient (cell: its fold)", fontsize="small")
    ax.set_title(title, fontsize="medium")
    for (row, col), k in np.ndenumerate(grid):
        ax.text(col, row, str(k + 1), ha="center", va="center", fontsize=8)
if len(sys.argv) > 1:
    figure.savefig(sys.argv[1], dpi=80)
plt.show()
