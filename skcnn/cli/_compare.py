"""`skcnn compare`: the CNN against the logistic-regression baseline, on the same
folds (or fitted on one folder and scored on another)."""

import json
import sys

from ._common import (
    _counts,
    _image_format,
    _labelled_folder,
    _naming_bad_files,
    _plural,
    _progress,
    _skip_bad,
    _without,
)
from ._options import (
    _add_folder_arguments,
    _add_json,
    _add_model_arguments,
    _add_quiet,
    _add_random_state,
    _cnn_params,
    _positive_int,
)

# The bundled tasks `--dataset` names, and how the summary describes each.
_DATASETS = {
    "shifted-digits": "digits 7 vs 8 at random positions on a 16x16 canvas "
    "(scikit-learn's bundled digits)",
    "digits": "digits 7 vs 8 (scikit-learn's bundled digits, 8x8)",
}


# The CNN settings the bundled tasks run with unless given: small enough for
# `skcnn compare` to finish in seconds, with global max pooling, which finds a
# digit wherever it is on the canvas, and without the augmentation and
# learning-rate decay of the defaults, which need more than 10 epochs (measured:
# 0.507 accuracy on shifted-digits with them, 0.986 without).
_BUNDLED_CNN = {
    "filters": (16, 32),
    "global_pooling": "max",
    "dropout": 0.5,
    "augment": None,
    "learning_rate_schedule": None,
    "epochs": 10,
}


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "compare",
        help="cross-validate the CNN against the logistic-regression baseline",
        description=(
            "Cross-validate CNNBinaryClassifier and the logistic-regression baseline "
            "(make_baseline) on the same stratified folds and print accuracy, ROC "
            "AUC, fit and predict times and trainable parameters, then each model "
            "minus the baseline: the mean per-fold difference with a 95% interval "
            "and p-value from the corrected resampled t-test of Nadeau and Bengio, "
            "which allows for folds sharing training images. DIR is a folder "
            "with one subfolder per class; its images are decoded once. With "
            "--test TESTDIR, both models are fitted on all of DIR and scored on "
            "TESTDIR instead of cross-validated. With no DIR it runs on "
            "scikit-learn's bundled digits, 7 versus 8, each placed at a random "
            "position on a 16x16 canvas (--dataset shifted-digits, where position "
            "varies as in photos), or as they are, 8x8 (--dataset digits). With "
            "--backbone, the CNN is that pretrained network under a new head, "
            "and a third contender, features, is the backbone's pooled features "
            "(FeatureExtractor) under the baseline's logistic regression."
        ),
    )
    parser.add_argument(
        "data",
        metavar="DIR",
        nargs="?",
        default=None,
        help="folder with one subfolder per class (default: the bundled digits)",
    )
    parser.add_argument(
        "--dataset",
        choices=sorted(_DATASETS),
        default=None,
        help="with no DIR: shifted-digits (7 vs 8 at random positions on 16x16, "
        "the default) or digits (7 vs 8, 8x8, centred)",
    )
    parser.add_argument(
        "--test",
        metavar="TESTDIR",
        default=None,
        help="fit on all of DIR and score on this folder (same class folders) "
        "instead of cross-validating",
    )
    _add_folder_arguments(parser)
    parser.add_argument(
        "--folds",
        type=_positive_int,
        default=None,
        help="stratified folds (default 5)",
    )
    parser.add_argument(
        "--groups",
        default=None,
        metavar="REGEX",
        help="keep the images of a group (a patient, say) in one fold: the group "
        "of an image is this regular expression's first parenthesized group in "
        "its file name, e.g. '(person[0-9]+)_' for person1_bacteria_1.jpeg "
        "(StratifiedGroupKFold)",
    )
    _add_model_arguments(parser)
    _add_random_state(parser, help="seed of the folds and of both models (default 0)")
    _add_json(parser)
    _add_quiet(parser)
    parser.set_defaults(handler=run)
    return parser


def run(args):
    import numpy as np

    from .._baseline import make_baseline
    from .._classifier import CNNBinaryClassifier
    from .._compare import (
        compare_estimators,
        format_comparison,
        format_differences,
        paired_difference,
    )

    if args.folds is not None and args.folds < 2:
        raise ValueError(f"--folds must be at least 2, got {args.folds}")
    if args.folds is not None and args.test is not None:
        raise ValueError(
            "--folds and --test exclude each other: with --test TESTDIR the models "
            "are fitted on all of DIR and scored on TESTDIR, not cross-validated."
        )
    if args.groups is not None and args.data is None:
        raise ValueError("--groups applies to the images of DIR: give DIR.")
    if args.groups is not None and args.test is not None:
        raise ValueError(
            "--groups and --test exclude each other: --groups makes the folds of "
            "a cross-validation of DIR."
        )
    folds = args.folds or 5
    params = _cnn_params(args)
    skipped = []
    n_test = None
    if args.data is not None and args.dataset is not None:
        raise ValueError(
            "--dataset names a bundled task for when no DIR is given; "
            f"give DIR ({args.data!r}) or --dataset, not both."
        )
    if args.data is None and "backbone" in params:
        raise ValueError(
            f"--backbone {params['backbone']} needs images of at least 32x32 "
            "pixels; the bundled digits are 8x8 or 16x16. Give DIR."
        )
    if args.data is None:
        from ..datasets import load_digits_pair, make_shifted_digits

        given = [
            option
            for option, value in [
                ("--image-size", args.image_size),
                ("--color-mode", args.color_mode),
                ("--class-names", args.class_names),
                ("--test", args.test),
                ("--skip-bad", args.skip_bad),
            ]
            if value
        ]
        if given:
            raise ValueError(
                f"{', '.join(given)} apply to the images of DIR; the bundled digits "
                "are grayscale images of fixed size. Give DIR or leave them out."
            )
        name = args.dataset or "shifted-digits"
        if name == "digits":
            X, y = load_digits_pair(return_X_y=True)
        else:
            X, y = make_shifted_digits(return_X_y=True)
        dataset = _DATASETS[name]
        # A network sized for these small images, for the options not given.
        preset = {k: v for k, v in _BUNDLED_CNN.items() if k not in args}
        params.update(preset)
        if preset:
            dataset += "; CNN " + ", ".join(f"{k}={v!r}" for k, v in preset.items())
    else:
        from .._image import ImageLoader, _class_folders, load_image_folder

        data = _labelled_folder(args.data, args.class_names, groups=args.groups)
        names = list(data.target_names)
        bad = _skip_bad(args, data.filenames)
        files, y, groups = _without(
            bad, data.filenames, data.target, data.get("groups", data.target)
        )
        skipped += bad
        image_size, color_mode, how = _image_format(args, files)
        loader = ImageLoader(image_size=image_size, color_mode=color_mode)
        _progress(
            args,
            f"Decoding {_plural(len(y), 'image')} of {args.data!r} at "
            f"{image_size[0]}x{image_size[1]} {color_mode}{how}",
        )
        # Decoded once here rather than in every fold.
        with _naming_bad_files(files):
            X = loader.transform(files)
        counts = _counts(y, names)
        if bad:
            counts += f", {_plural(len(bad), 'unreadable file')} skipped"
        if args.groups is not None:
            counts += f", {_plural(len(np.unique(groups)), 'group')}"
        dataset = f"images of {args.data!r} ({counts})"
        if args.test is not None:
            found = _class_folders(args.test)
            if not set(names) <= set(found):
                raise ValueError(
                    f"--test {args.test!r} must hold the class folders of DIR, "
                    f"{sorted(names)}, but it holds {found}."
                )
            test = load_image_folder(args.test, class_names=names)
            bad = _skip_bad(args, test.filenames)
            test_files, y_test = _without(bad, test.filenames, test.target)
            skipped += bad
            with _naming_bad_files(test_files):
                X_test = loader.transform(test_files)
            n_test = len(y_test)
            test_counts = _counts(y_test, names)
            if bad:
                test_counts += f", {_plural(len(bad), 'unreadable file')} skipped"
            dataset += f", scored on {args.test!r} ({test_counts})"
    estimators = {
        "cnn": CNNBinaryClassifier(**params, verbose=0),
        "baseline": make_baseline(
            class_weight=args.class_weight, random_state=args.random_state
        ),
    }
    if "backbone" in params:
        estimators["features"] = _features_pipeline(params, args)
    if n_test is None and args.groups is not None:
        from sklearn.model_selection import StratifiedGroupKFold

        splitter = StratifiedGroupKFold(
            n_splits=folds, shuffle=True, random_state=args.random_state
        )
        cv = list(splitter.split(X, y, groups))
        how = f"{_plural(folds, 'stratified group fold')}"
    elif n_test is None:
        from sklearn.model_selection import StratifiedKFold

        splitter = StratifiedKFold(
            n_splits=folds, shuffle=True, random_state=args.random_state
        )
        cv = list(splitter.split(X, y))
        how = f"{_plural(folds, 'stratified fold')}"
    else:
        # One split: all of DIR to fit, all of TESTDIR to score.
        cv = [(np.arange(len(y)), np.arange(len(y), len(y) + n_test))]
        X, y = np.concatenate([X, X_test]), np.concatenate([y, y_test])
        how = "fitted on DIR, scored on TESTDIR"
    n_images = (
        _plural(len(y), "image")
        if n_test is None
        else f"{len(y) - n_test} training and {_plural(n_test, 'test image')}"
    )
    _progress(args, f"Comparing on {dataset}: {n_images} of shape {X.shape[1:]}, {how}")
    duplicates = _duplicates_across(X, cv)
    if duplicates:
        # Shown even with --quiet, as the skipped files: it changes the scores.
        print(
            f"Warning: {_plural(duplicates, 'scored image')} "
            f"{'has' if duplicates == 1 else 'have'} an exact duplicate (same decoded "
            "pixels) among the images its model "
            "was fitted on: their scores are inflated.",
            file=sys.stderr,
        )
    results = compare_estimators(
        estimators,
        X,
        y,
        cv=cv,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    # Test over training images of a fold (about 1 / (k - 1) for k folds).
    ratio = np.mean([len(test) for _, test in cv]) / np.mean(
        [len(train) for train, _ in cv]
    )
    if args.json:
        differences = {
            f"{name} - baseline": {
                metric: paired_difference(
                    results, name, metric=metric, test_train_ratio=ratio
                )
                for metric in ("accuracy", "roc_auc")
            }
            for name in results
            if name != "baseline"
        }
        summary = {
            "dataset": dataset,
            "n_samples": int(len(y)) - (n_test or 0),
            "image_shape": list(X.shape[1:]),
            "folds": None if n_test is not None else folds,
            "epochs": params.get("epochs", "auto"),
            "random_state": args.random_state,
            "models": results,
            "differences": differences,
            "duplicates": duplicates,
        }
        if n_test is not None:
            summary["test"] = {"data": args.test, "n_samples": n_test}
        if args.skip_bad:
            summary["skipped"] = [
                {"path": path, "reason": why} for path, why in skipped
            ]
        print(json.dumps(summary, indent=2))
    else:
        print(format_comparison(results))
        print(format_differences(results, test_train_ratio=ratio))
    return 0


def _duplicates_across(X, cv):
    """Number of (fold, scored image) pairs whose image has an exact duplicate,
    same decoded pixels, among the fold's training images."""
    import hashlib

    digests = [hashlib.sha1(image.tobytes()).digest() for image in X]
    count = 0
    for train, test in cv:
        seen = {digests[i] for i in train}
        count += sum(digests[i] in seen for i in test)
    return count


def _features_pipeline(params, args):
    """The third contender with --backbone: the backbone's pooled features
    (FeatureExtractor, same weights), standardized, then make_baseline's
    logistic regression."""
    from sklearn.pipeline import make_pipeline

    from .._baseline import make_baseline
    from .._features import FeatureExtractor

    extractor = FeatureExtractor(
        params["backbone"], weights=params.get("weights", "imagenet")
    )
    # make_baseline's last steps: StandardScaler and its logistic regression.
    baseline = make_baseline(
        class_weight=args.class_weight, random_state=args.random_state
    )
    return make_pipeline(extractor, *(step for _, step in baseline.steps[1:]))
