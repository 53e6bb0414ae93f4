"""Patient-level folds: where each patient's images go under StratifiedKFold and
under StratifiedGroupKFold, with the groups that ``load_image_folder(groups=...)``
reads from the file names.

Writes scikit-learn's digits 7 and 8 as PNG files named like a chest X-ray folder
(``person3_7.png``: four images per "patient"), loads them with
``groups=r"(person\\d+)_"`` and draws the fold of every image of the first 15
patients. With a file name as argument, saves the figure there. Needs ``pip
install "skcnn[plot]"``; runs in a few seconds.
"""

import sys
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold  # noqa: E402

from skcnn import load_image_folder  # noqa: E402
from skcnn.datasets import load_digits_pair  # noqa: E402

X, y = load_digits_pair(return_X_y=True)
with tempfile.TemporaryDirectory() as root:
    for label in (7, 8):
        folder = Path(root, str(label))
        folder.mkdir()
        for i, image in enumerate(X[y == label]):
            name = f"person{label}{i // 4:02d}_{i % 4}.png"  # 4 images per patient
            Image.fromarray(image[..., 0]).save(folder / name)
    data = load_image_folder(root, groups=r"(person\d+)_")

patients = list(dict.fromkeys(data.groups))[:15]
splitters = {
    "StratifiedKFold:\na patient's images in several folds": StratifiedKFold(
        5, shuffle=True, random_state=0
    ),
    "StratifiedGroupKFold (compare --groups):\none fold per patient": (
        StratifiedGroupKFold(5, shuffle=True, random_state=0)
    ),
}
figure = Figure(figsize=(8, 4.2), layout="constrained")
for ax, (title, splitter) in zip(figure.subplots(1, 2), splitters.items(), strict=True):
    fold = np.empty(len(data.target), dtype=int)
    groups = data.groups if isinstance(splitter, StratifiedGroupKFold) else None
    for k, (_, test) in enumerate(splitter.split(data.filenames, data.target, groups)):
        fold[test] = k
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
