"""`skcnn train`: fit a CNN (or the baseline) on a folder of images and save it."""

import contextlib
import sys

from ._common import (
    _check_output,
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
    _CNN_OPTIONS,
    _add_class_folder,
    _add_folder_arguments,
    _add_model_arguments,
    _add_quiet,
    _add_random_state,
    _cnn_params,
    _open_fraction,
    _unit_fraction,
)


def _add_threshold_arguments(parser):
    group = parser.add_argument_group(
        "decision threshold (operating point)",
        "Choose the decision threshold for a target sensitivity or specificity: "
        "the model is trained on the other images, the threshold is chosen on "
        "the held-out ones, and the saved model (scikit-learn's "
        "FixedThresholdClassifier around the pipeline) predicts with it.",
    )
    targets = group.add_mutually_exclusive_group()
    targets.add_argument(
        "--target-sensitivity",
        type=_unit_fraction,
        metavar="S",
        help="the largest threshold whose sensitivity (recall of the positive "
        "class) on the held-out images is at least S, e.g. 0.95 for screening",
    )
    targets.add_argument(
        "--target-specificity",
        type=_unit_fraction,
        metavar="S",
        help="the smallest threshold whose specificity on the held-out images is "
        "at least S",
    )
    group.add_argument(
        "--positive-class",
        metavar="LABEL",
        help="the class whose sensitivity is targeted (default: the second class "
        "folder in sorted order, as the model's classes_[1])",
    )
    group.add_argument(
        "--threshold-holdout",
        type=_open_fraction,
        default=0.2,
        metavar="FRACTION",
        help="share of DIR's images held out to choose the threshold, stratified "
        "(default 0.2)",
    )


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a CNN (or the baseline) on a folder of images, one subfolder "
        "per class",
        description=(
            "Train CNNBinaryClassifier (or, with --model baseline, make_baseline()'s "
            "logistic regression) on the images of DIR, which holds two class "
            "folders (their names are the labels), and save the fitted pipeline "
            "(ImageLoader, then the model): in skcnn's safe format if the file "
            "name ends with .skcnn (skcnn.load in Python), else with joblib. The "
            "saved model takes image file paths and records the image size and "
            "colour mode: use it with `skcnn predict`, `skcnn evaluate` and "
            "`skcnn export`."
        ),
    )
    _add_class_folder(parser)
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="where to save the model: skcnn's safe format if FILE ends with "
        ".skcnn (see skcnn.load), else joblib",
    )
    parser.add_argument(
        "--model",
        choices=["cnn", "baseline"],
        default="cnn",
        help="cnn (default) or baseline: make_baseline(), logistic regression on "
        "standardized pixels, which takes none of the CNN options",
    )
    _add_folder_arguments(parser)
    _add_model_arguments(parser)
    _add_threshold_arguments(parser)
    _add_random_state(parser, help="seed of the model (default 0)")
    _add_quiet(parser)
    parser.set_defaults(handler=run)
    return parser


def run(args):
    from sklearn.pipeline import Pipeline

    from .._baseline import make_baseline
    from .._classifier import CNNBinaryClassifier
    from .._image import ImageLoader
    from .._persist import save_model_file
    from .._training import predicts_with_flips

    _check_output(args.out)
    params = _cnn_params(args)
    if args.model == "baseline":
        given = [option for dest, option in _CNN_OPTIONS.items() if dest in args]
        if given:
            raise ValueError(
                f"{', '.join(given)} configure the CNN; --model baseline trains "
                "make_baseline() (logistic regression), which takes none of them."
            )
    data = _labelled_folder(args.data, args.class_names)
    bad = _skip_bad(args, data.filenames)
    files, target = _without(bad, data.filenames, data.target)
    image_size, color_mode, how = _image_format(args, files)
    loader = ImageLoader(image_size=image_size, color_mode=color_mode)
    if args.model == "baseline":
        baseline = make_baseline(
            class_weight=args.class_weight, random_state=args.random_state
        )
        model = Pipeline([("imageloader", loader), *baseline.steps])
        what = "the baseline"
    else:
        classifier = CNNBinaryClassifier(**params, verbose=0 if args.quiet else 2)
        model = Pipeline([("imageloader", loader), ("cnnbinaryclassifier", classifier)])
        what = "a CNN"
    skipped = f", {_plural(len(bad), 'unreadable file')} skipped" if bad else ""
    counts = f"({_counts(target, data.target_names)}{skipped})"
    tuned = args.target_sensitivity is not None or args.target_specificity is not None
    if not tuned and args.positive_class is not None:
        raise ValueError(
            "--positive-class names the class of --target-sensitivity or "
            "--target-specificity; give one of them."
        )
    positive = _positive_class(args, data.target_names) if tuned else None
    fit_on, held_out = _holdout(args, target) if tuned else (slice(None), None)
    n_fit = len(target[fit_on])
    epochs = (
        ""
        if args.model == "baseline"
        else f", up to {_plural(_max_epochs(model[-1], n_fit), 'epoch')}"
    )
    height, width = image_size
    held = (
        f", holding out {_plural(len(held_out), 'image')} to choose the threshold"
        if tuned
        else ""
    )
    _progress(
        args,
        f"Training {what} on {_plural(len(target), 'image')} of {args.data!r} "
        f"{counts} at {height}x{width} {color_mode}{how}{epochs}{held}",
    )
    # Keras prints its per-epoch lines on stdout: send them to stderr.
    with contextlib.redirect_stdout(sys.stderr), _naming_bad_files(files):
        model.fit(files[fit_on], target[fit_on])
        fitted = model
        if tuned:
            model, chosen = _with_threshold(
                args, fitted, files[held_out], target[held_out], positive
            )
    save_model_file(model, args.out)
    done = "" if args.model == "baseline" else f": {_epochs_summary(fitted[-1], n_fit)}"
    if args.model != "baseline" and predicts_with_flips(fitted[-1]):
        done += (
            ". It predicts the mean of the probabilities of each image and of its "
            "mirror image (test-time flips)"
        )
    trained = len(target) - (len(held_out) if tuned else 0)
    _progress(
        args,
        f"Trained on {_plural(trained, 'image')}{'' if tuned else ' ' + counts}"
        f"{done}.{' ' + chosen if tuned else ''} Saved the model to {args.out!r}.",
    )
    return 0


def _positive_class(args, names):
    names = sorted(str(name) for name in names)
    if args.positive_class is None:
        return names[1]
    if args.positive_class not in names:
        raise ValueError(
            f"--positive-class {args.positive_class!r} is not a class of "
            f"{args.data!r}: {names}."
        )
    return args.positive_class


def _holdout(args, target):
    """Indices to train on and to choose the threshold on: a stratified split."""
    from sklearn.model_selection import StratifiedShuffleSplit

    split = StratifiedShuffleSplit(
        n_splits=1, test_size=args.threshold_holdout, random_state=args.random_state
    )
    try:
        return next(split.split(target, target))
    except ValueError as exc:
        raise ValueError(
            f"--threshold-holdout {args.threshold_holdout} cannot hold out images "
            f"of both classes from {len(target)} images: {exc}"
        ) from None


def _with_threshold(args, fitted, files, target, positive):
    """The fitted pipeline in a FixedThresholdClassifier at the threshold that
    meets the target on the held-out ``files``, and a sentence saying so."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import FixedThresholdClassifier

    from .._threshold import decision_threshold, operating_points

    classes = [str(c) for c in fitted.classes_]
    proba = fitted.predict_proba(files)[:, classes.index(positive)]
    threshold = decision_threshold(
        target,
        proba,
        target_sensitivity=args.target_sensitivity,
        target_specificity=args.target_specificity,
        pos_label=positive,
    )
    point = operating_points(target, proba, [threshold], pos_label=positive)[0]
    model = FixedThresholdClassifier(
        FrozenEstimator(fitted),
        threshold=threshold,
        pos_label=positive,
        response_method="predict_proba",
    ).fit(files, target)
    n_positive = int(sum(label == positive for label in target))
    sentence = (
        f"Decision threshold {threshold:.4g} for {positive!r} (predicted when its "
        f"probability is at least that), chosen on "
        f"{_plural(len(target), 'held-out image')} ({n_positive} {positive}): "
        f"sensitivity {point['sensitivity']:.3f}, specificity "
        f"{point['specificity']:.3f} there."
    )
    return model, sentence


def _max_epochs(cnn, n_samples):
    """The epochs of ``cnn`` (its "auto" resolved) for a fit on ``n_samples``."""
    from .._training import resolve_epochs

    return resolve_epochs(cnn.epochs, n_samples, cnn.backbone)


def _epochs_summary(cnn, n_samples):
    """Epochs run and, with early stopping, the epoch kept and its scores."""
    history = cnn.history_
    ran = f"{_plural(cnn.n_iter_, 'epoch')} run"
    if not cnn.early_stopping:
        return ran
    best = getattr(cnn, "best_epoch_", None)
    if best is None:  # CNNBinaryClassifier without best_epoch_
        losses = history.get("val_loss", [])
        best = min(range(len(losses)), key=losses.__getitem__) + 1 if losses else 0
    n_epochs = _max_epochs(cnn, n_samples)
    stopped = ", stopped early" if cnn.n_iter_ < n_epochs else ""
    scores = [
        f"{label} {history[key][best - 1]:.3f}"
        for key, label in [
            ("val_loss", "validation loss"),
            ("val_accuracy", "validation accuracy"),
        ]
        if len(history.get(key, ())) >= best > 0
    ]
    return (
        f"{ran} of up to {n_epochs}{stopped}; the model keeps epoch {best}, of "
        f"lowest validation loss{' (' + ', '.join(scores) + ')' if scores else ''}"
    )
