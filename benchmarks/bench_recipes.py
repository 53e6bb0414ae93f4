"""
=====================================================================
From-scratch recipes on real image folders: the search behind the defaults
=====================================================================

Fits ``CNNBinaryClassifier(**recipe, random_state=seed)`` on ``<root>/<dataset>/
train/`` and scores it on ``<root>/<dataset>/test/``, for each named recipe and
seed, and prints one JSON line per fit: test accuracy and ROC AUC without
test-time augmentation, the same with ``test_time_augmentation="flip"`` (the mean
of each test image's and its mirror image's probabilities), fit time. Every
recipe is the defaults with the changes its entry in ``RECIPES`` lists; the
defaults themselves are ``"defaults"``. The defaults changed in session 11
(``batch_norm="auto"``, ``epochs="auto"``); ``"session-8-defaults"`` are the
earlier ones, which the older results of benchmarks/README.md call defaults.
These are the variations measured for issue 12 (see benchmarks/README.md);
``bench_accuracy.py`` runs the chosen ones through ``skcnn compare``.

Example::

    python benchmarks/bench_recipes.py ../shared/data pneumoniamnist \\
        --recipes defaults batch-norm --seeds 0 1 2
"""

import argparse
import json
import time

import numpy as np
from sklearn.metrics import accuracy_score, roc_auc_score

from skcnn import CNNBinaryClassifier, ImageLoader, load_image_folder

_STRONG_AUGMENT = {"flip": "horizontal", "rotation": 0.1, "zoom": 0.2}
_STRONG_AUGMENT.update(translation=0.1, contrast=0.2)
RECIPES = {
    "defaults": {},
    # The defaults until session 11 (measured with these in benchmarks/README.md,
    # where "defaults" means these up to that session): no batch normalization,
    # 60 epochs, whatever the images.
    "session-8-defaults": {"batch_norm": False, "epochs": 60},
    "batch-norm": {"batch_norm": True},
    "batch-norm-balanced": {"batch_norm": True, "class_weight": "balanced"},
    "batch-norm-weight-decay": {"batch_norm": True, "weight_decay": 1e-4},
    "batch-norm-dropout-0.5": {"batch_norm": True, "dropout": 0.5},
    "batch-norm-3-blocks": {"batch_norm": True, "filters": (32, 64, 128)},
    "batch-norm-strong-augment": {"batch_norm": True, "augment": _STRONG_AUGMENT},
    "batch-norm-2-convs": {"batch_norm": True, "convs_per_block": 2},
    "batch-norm-100-epochs": {"batch_norm": True, "epochs": 100},
    "batch-norm-150-epochs": {"batch_norm": True, "epochs": 150},
    "batch-norm-ema": {"batch_norm": True, "optimizer": "adam-ema"},
    "batch-norm-wide": {"batch_norm": True, "filters": (32, 64, 128, 256)},
    "100-epochs": {"epochs": 100},
    "balanced": {"class_weight": "balanced"},
    "3-blocks": {"filters": (32, 64, 128)},
    "wide": {"filters": (32, 64, 128, 256)},
    "no-augment": {"augment": None},
    "tutorial": {
        "filters": (32, 64),
        "global_pooling": None,
        "dropout": 0.5,
        "augment": None,
        "learning_rate_schedule": None,
        "epochs": 20,
    },
}
# Size and colour mode the folders are read at, as `skcnn train` infers them.
FORMATS = {
    "pneumoniamnist": ((28, 28), "grayscale"),
    "cats_vs_dogs": ((128, 128), "rgb"),
    "mnist_7v8": ((28, 28), "grayscale"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("root", help="data root (../shared/data)")
    parser.add_argument("dataset", help="a folder of root with train/ and test/")
    parser.add_argument("--recipes", nargs="+", default=["defaults"], choices=RECIPES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--image-size", nargs=2, type=int, default=None, metavar=("H", "W")
    )
    parser.add_argument("--save", metavar="DIR", help="joblib-dump each fit here")
    args = parser.parse_args()

    size, mode = FORMATS.get(args.dataset, ((128, 128), "rgb"))
    size = tuple(args.image_size) if args.image_size else size
    loader = ImageLoader(image_size=size, color_mode=mode)
    train = load_image_folder(f"{args.root}/{args.dataset}/train")
    test = load_image_folder(
        f"{args.root}/{args.dataset}/test", class_names=list(train.target_names)
    )
    X, X_test = loader.transform(train.filenames), loader.transform(test.filenames)
    for name in args.recipes:
        for seed in args.seeds:
            recipe = dict(RECIPES[name])
            if recipe.get("optimizer") == "adam-ema":
                # Keras' exponential moving average of the weights (use_ema),
                # copied into the weights at the end of fit.
                import keras

                recipe["optimizer"] = keras.optimizers.Adam(use_ema=True)
            clf = CNNBinaryClassifier(**recipe, random_state=seed)
            start = time.perf_counter()
            clf.fit(X, train.target)
            fit_time = time.perf_counter() - start
            # Without and with test-time flips (the mean with the mirror images').
            proba, tta = (
                clf.set_params(test_time_augmentation=value).predict_proba(X_test)[:, 1]
                for value in (None, "flip")
            )
            clf.set_params(
                test_time_augmentation=recipe.get("test_time_augmentation", "auto")
            )
            predicted = clf.classes_[(proba > 0.5).astype(int)]
            if args.save:
                import joblib

                joblib.dump(clf, f"{args.save}/{args.dataset}-{name}-{seed}.joblib")
            row = {
                "dataset": args.dataset,
                "image_size": list(size),
                "recipe": name,
                "seed": seed,
                "accuracy": round(accuracy_score(test.target, predicted), 3),
                "roc_auc": round(
                    roc_auc_score(test.target == clf.classes_[1], proba), 3
                ),
                "flip_tta_accuracy": round(
                    accuracy_score(test.target, clf.classes_[(tta > 0.5).astype(int)]),
                    3,
                ),
                "flip_tta_roc_auc": round(
                    roc_auc_score(test.target == clf.classes_[1], tta), 3
                ),
                "fit_time": round(fit_time, 1),
                "test_share_of_first_class": round(
                    float(np.mean(test.target == clf.classes_[0])), 3
                ),
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
