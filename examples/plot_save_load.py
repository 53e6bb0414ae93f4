"""
Save and reload a pipeline that reads image files
=================================================

A model you deploy takes what arrives: image files. Here an
:class:`~skcnn.ImageLoader` + :class:`~skcnn.CNNBinaryClassifier` pipeline is
trained on PNG files, saved two ways, reloaded, and checked to predict exactly the
same probabilities:

- :func:`skcnn.save` / :func:`skcnn.load`, the format for files you share or
  receive: a zip of the scikit-learn objects serialized by skops (no pickle) and
  the network in Keras' ``.keras`` format; loading runs no code from the file and
  refuses any type it does not trust;
- :func:`joblib.dump` / :func:`joblib.load`, for your own files (a pickle: load only
  files you trust, since loading one can run code).

The images are scikit-learn's bundled 8x8 digits 7 and 8
(:func:`skcnn.datasets.load_digits_pair`), written as PNG files into a temporary
folder, one subfolder per class, as your own images would be.
"""

# %%
# A folder of images
# ------------------
# One subfolder per class; :func:`~skcnn.load_image_folder` lists the files with
# their labels (the folder names).
import tempfile
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

import skcnn
from skcnn import CNNBinaryClassifier, ImageLoader, load_image_folder
from skcnn.datasets import load_digits_pair
from skcnn.plot import ImageGridDisplay

temporary = tempfile.TemporaryDirectory()
folder = Path(temporary.name)
images, digits = load_digits_pair(return_X_y=True)
names = {7: "seven", 8: "eight"}
for i, (image, digit) in enumerate(zip(images, digits, strict=True)):
    (folder / "images" / names[digit]).mkdir(parents=True, exist_ok=True)
    Image.fromarray(image[..., 0]).save(folder / "images" / names[digit] / f"{i}.png")
data = load_image_folder(folder / "images")
print(data.DESCR)
paths_train, paths_test, y_train, y_test = train_test_split(
    data.filenames, data.target, test_size=0.3, stratify=data.target, random_state=0
)

# %%
# A pipeline on file paths
# ------------------------
# The :class:`~skcnn.ImageLoader` reads the files as 8x8 grayscale images; the CNN
# is the MNIST tutorial's small network (a ``Flatten`` head, no augmentation).
model = make_pipeline(
    ImageLoader(image_size=(8, 8), color_mode="grayscale"),
    CNNBinaryClassifier(
        filters=(32, 64),
        dropout=0.5,
        global_pooling=None,
        augment=None,
        learning_rate_schedule=None,
        epochs=10,
        random_state=0,
    ),
)
model.fit(paths_train, y_train)
proba = model.predict_proba(paths_test)
print(
    f"classes: {model.classes_}, test accuracy: {model.score(paths_test, y_test):.3f}"
)

# %%
# skcnn's safe format
# -------------------
# :func:`skcnn.get_untrusted_types` lists what a file would make skcnn build beyond
# the types it trusts: nothing here.
skcnn.save(model, folder / "digits.skcnn")
print(f"untrusted types: {skcnn.get_untrusted_types(folder / 'digits.skcnn')}")
from_skcnn = skcnn.load(folder / "digits.skcnn")
print(f"digits.skcnn: {(folder / 'digits.skcnn').stat().st_size / 1e3:.0f} kB")
print(
    "same probabilities after skcnn.load:",
    np.array_equal(from_skcnn.predict_proba(paths_test), proba),
)

# %%
# joblib
# ------
# The Keras network is stored in its ``.keras`` form inside the pickle, with the
# versions of skcnn, Keras, TensorFlow and scikit-learn: loading under other
# versions warns (:class:`skcnn.VersionMismatchWarning`).
joblib.dump(model, folder / "digits.joblib")
from_joblib = joblib.load(folder / "digits.joblib")
print(
    "same probabilities after joblib.load:",
    np.array_equal(from_joblib.predict_proba(paths_test), proba),
)

# %%
# The reloaded model on new files
# -------------------------------
# A reloaded pipeline takes file paths as the original did. The Display draws the
# images its :class:`~skcnn.ImageLoader` reads, with the predicted label and its
# probability (a misclassified image in red).
ImageGridDisplay.from_estimator(
    from_skcnn, paths_test, y_test, n_images=12, n_cols=6, random_state=0
)
plt.show()

# %%
# The temporary folder, with its images and model files, is removed at the end.
temporary.cleanup()
