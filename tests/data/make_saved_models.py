"""Write the model files of ``test_models_saved_before_the_restructure_*``.

Run once per commit whose files are kept, with the code of that commit, and
move the files into a folder named by it: ``0fbd84e/`` (after issue 10, before
the restructure of issue 11) and ``460cafb/`` (skcnn as landed before issues 10
and 11), both with skcnn 0.1.0.dev0, Keras 3.15.1, TensorFlow 2.21.0 and
scikit-learn 1.9.1 (``PYTHONPATH=<checkout of the commit> python
make_saved_models.py``). Do not run it again: the files are there to show that
models saved by that code still load and predict the same with today's
(bit-identically on the machine that wrote them; within 1e-6 on other CPUs).

Written into this folder:

- ``pipeline.skcnn`` and ``pipeline.pkl`` (by ``skcnn.save`` and ``joblib.dump``;
  not ``.joblib``, which ``.gitignore`` leaves out): an ImageLoader + CNN pipeline
  fitted on the first 60 images of ``load_digits_pair()`` written as PNG files
  by ``digit_pngs`` (the test writes the same files the same way);
- ``baseline.skcnn`` and ``baseline.pkl``: ``make_baseline()`` fitted on the
  arrays of ``load_digits_pair()``;
- ``pipeline_proba.npy``: the pipeline's ``predict_proba`` on those 60 files;
  ``baseline_proba.npy``: the baseline's on the 353 arrays.
"""

import os

import numpy as np
from PIL import Image

from skcnn.datasets import load_digits_pair

N_IMAGES = 60


def digit_pngs(folder):
    """Write the first 60 digits of ``load_digits_pair()`` as grayscale PNG files
    into ``folder``; return their paths, and the labels."""
    X, y = load_digits_pair(return_X_y=True)
    paths = []
    for i, image in enumerate(X[:N_IMAGES]):
        path = os.path.join(folder, f"{i}.png")
        Image.fromarray(image[..., 0]).save(path)
        paths.append(path)
    return np.array(paths), y[:N_IMAGES]


def main():
    import tempfile

    import joblib
    from sklearn.pipeline import make_pipeline

    import skcnn
    from skcnn import CNNBinaryClassifier, ImageLoader, make_baseline

    here = os.path.dirname(os.path.abspath(__file__))
    X, y = load_digits_pair(return_X_y=True)
    with tempfile.TemporaryDirectory() as folder:
        paths, labels = digit_pngs(folder)
        pipeline = make_pipeline(
            ImageLoader((8, 8), color_mode="grayscale"),
            CNNBinaryClassifier(filters=(4,), epochs=2, verbose=0, random_state=0),
        ).fit(paths, labels)
        pipeline_proba = pipeline.predict_proba(paths)
    baseline = make_baseline().fit(X, y)
    for name, model, proba in [
        ("pipeline", pipeline, pipeline_proba),
        ("baseline", baseline, baseline.predict_proba(X)),
    ]:
        skcnn.save(model, os.path.join(here, f"{name}.skcnn"))
        joblib.dump(model, os.path.join(here, f"{name}.pkl"))
        np.save(os.path.join(here, f"{name}_proba.npy"), proba)


if __name__ == "__main__":
    main()
