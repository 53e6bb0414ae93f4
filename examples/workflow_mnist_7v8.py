"""
MNIST 7 vs 8 from folders: train, save as ``.skcnn``, reload, predict a folder
==============================================================================

The whole life of a model on a folder of images: the MNIST 7-vs-8 tutorial network
trained behind an :class:`~skcnn.ImageLoader` on file paths, scored on a labelled
test folder, saved in skcnn's safe format (:func:`skcnn.save`: no pickle, no code
run at load time), reloaded with :func:`skcnn.load`, and used to predict a folder
of images without labels, with a confidence per image.

Written for the MNIST 7-vs-8 folders of the project's development data
(``mnist_7v8``: 500 + 500 training and 500 + 500 test images, 28x28 grayscale PNG,
in ``train/7``, ``train/8``, ``test/7``, ``test/8``), drawn from MNIST (LeCun,
Cortes and Burges; usually distributed under CC BY-SA 3.0). Any folder with a
``train/`` and a ``test/`` folder, each holding one subfolder per class, works the
same way. This example is not executed when the documentation is built: run it
yourself::

    python examples/workflow_mnist_7v8.py PATH/TO/mnist_7v8 [--out mnist_7v8.skcnn]

Recorded output
---------------

Run on 2026-12-01 with ``python examples/workflow_mnist_7v8.py
/work/shared/data/mnist_7v8 --out /tmp/gal/mnist_7v8.skcnn`` (51 s in all, under
``nice`` on 2 CPU cores shared with other jobs)::

    1000 image files in the class folders of '/work/shared/data/mnist_7v8/train': 500 '7', 500 '8'.
    fit on 1000 images in 31.4 s
    test (1000 images): accuracy 0.986, ROC AUC 0.998
    saved to /tmp/gal/mnist_7v8.skcnn (236 kB)
    reloaded model predicts the same probabilities: True
    1000 images predicted; the first 5 and the 5 least sure:
    file                     label confidence
    7/mnist-t10k-00000.png       7      1.000
    7/mnist-t10k-00017.png       7      1.000
    7/mnist-t10k-00026.png       7      1.000
    7/mnist-t10k-00034.png       7      1.000
    7/mnist-t10k-00036.png       7      1.000
    7/mnist-t10k-04886.png       7      0.511
    8/mnist-t10k-01464.png       8      0.558
    7/mnist-t10k-01581.png       8      0.580
    8/mnist-t10k-00691.png       8      0.584
    8/mnist-t10k-00435.png       8      0.615
    predicted per class: {'7': 494, '8': 506}

The reloaded model's probabilities are bit for bit those of the trained one. The
file names of the unlabelled listing still show the class folders, so the least
sure predictions can be checked by eye: one of those five
(``7/mnist-t10k-01581.png``, predicted 8) is wrong.
"""  # noqa: E501

# %%
# Arguments and data
# ------------------
# :func:`~skcnn.load_image_folder` lists the files of each class folder with their
# labels (the folder names); the pixels are read later, by the pipeline.
import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.pipeline import make_pipeline

import skcnn
from skcnn import CNNBinaryClassifier, ImageLoader, load_image_folder

parser = argparse.ArgumentParser(description="MNIST 7 vs 8 from folders.")
parser.add_argument("folder", help="the dataset folder, holding train/ and test/")
parser.add_argument("--out", default="mnist_7v8.skcnn", help="the model file")
parser.add_argument("--epochs", type=int, default=10)
args = parser.parse_args(sys.argv[1:])

root = Path(args.folder)
train = load_image_folder(root / "train")
test = load_image_folder(root / "test")
print(train.DESCR)

# %%
# The tutorial network behind an ImageLoader
# ------------------------------------------
# The published MNIST 7-vs-8 network: Conv(32) Pool Conv(64) Pool Flatten
# Dropout(0.5) Dense(1), 20,417 parameters, with a constant learning rate and no
# augmentation. The pipeline takes file paths: the ImageLoader reads them as 28x28
# grayscale images.
model = make_pipeline(
    ImageLoader(image_size=(28, 28), color_mode="grayscale"),
    CNNBinaryClassifier(
        filters=(32, 64),
        padding="valid",
        dropout=0.5,
        global_pooling=None,
        augment=None,
        learning_rate_schedule=None,
        epochs=args.epochs,
        random_state=0,
    ),
)
start = time.perf_counter()
model.fit(train.filenames, train.target)
print(f"fit on {len(train.target)} images in {time.perf_counter() - start:.1f} s")

proba = model.predict_proba(test.filenames)
classes = model.classes_
y_pred = classes[np.argmax(proba, axis=1)]
print(
    f"test ({len(test.target)} images): accuracy "
    f"{accuracy_score(test.target, y_pred):.3f}, ROC AUC "
    f"{roc_auc_score(test.target == classes[1], proba[:, 1]):.3f}"
)

# %%
# Save, reload, check
# -------------------
# ``skcnn.save`` writes a zip of the scikit-learn objects (serialized by skops) and
# the network in Keras' format; ``skcnn.load`` rebuilds only trusted types and runs
# no code from the file. The reloaded pipeline predicts the same probabilities.
skcnn.save(model, args.out)
print(f"saved to {args.out} ({Path(args.out).stat().st_size / 1e3:.0f} kB)")
reloaded = skcnn.load(args.out)
same = np.array_equal(reloaded.predict_proba(test.filenames), proba)
print(f"reloaded model predicts the same probabilities: {same}")

# %%
# Predict a folder without labels
# -------------------------------
# ``load_image_folder(..., labels=None)`` lists every image of a folder, at any
# depth, without labels: here the test folder, as if its images were new. Each
# image gets its predicted label and the probability of that label.
new = load_image_folder(root / "test", labels=None)
proba = reloaded.predict_proba(new.filenames)
labels = reloaded.classes_[np.argmax(proba, axis=1)]
confidence = proba.max(axis=1)
print(f"{len(new.filenames)} images predicted; the first 5 and the 5 least sure:")
print(f"{'file':<24} {'label':>5} {'confidence':>10}")
least_sure = np.argsort(confidence)[:5]
for i in [*range(5), *least_sure]:
    name = Path(new.filenames[i]).relative_to(root / "test")
    print(f"{str(name):<24} {labels[i]!s:>5} {confidence[i]:>10.3f}")
counts = dict(zip(*np.unique(labels, return_counts=True), strict=True))
print("predicted per class:", {str(k): int(v) for k, v in counts.items()})
