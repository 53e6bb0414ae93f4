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
        what, epochs = "the baseline", ""
    else:
        classifier = CNNBinaryClassifier(**params, verbose=0 if args.quiet else 2)
        model = Pipeline([("imageloader", loader), ("cnnbinaryclassifier", classifier)])
        what = "a CNN"
        epochs = f", up to {_plural(params['epochs'], 'epoch')}"
    skipped = f", {_plural(len(bad), 'unreadable file')} skipped" if bad else ""
    counts = f"({_counts(target, data.target_names)}{skipped})"
    height, width = image_size
    _progress(
        args,
        f"Training {what} on {_plural(len(target), 'image')} of {args.data!r} "
        f"{counts} at {height}x{width} {color_mode}{how}{epochs}",
    )
    # Keras prints its per-epoch lines on stdout: send them to stderr.
    with contextlib.redirect_stdout(sys.stderr), _naming_bad_files(files):
        model.fit(files, target)
    save_model_file(model, args.out)
    done = "" if args.model == "baseline" else f": {_epochs_summary(model[-1])}"
    _progress(
        args,
        f"Trained on {_plural(len(target), 'image')} {counts}{done}. Saved the "
        f"model to {args.out!r}.",
    )
    return 0


def _epochs_summary(cnn):
    """Epochs run and, with early stopping, the epoch kept and its scores."""
    history = cnn.history_
    ran = f"{_plural(cnn.n_iter_, 'epoch')} run"
    if not cnn.early_stopping:
        return ran
    best = getattr(cnn, "best_epoch_", None)
    if best is None:  # CNNBinaryClassifier without best_epoch_
        losses = history.get("val_loss", [])
        best = min(range(len(losses)), key=losses.__getitem__) + 1 if losses else 0
    stopped = ", stopped early" if cnn.n_iter_ < cnn.epochs else ""
    scores = [
        f"{label} {history[key][best - 1]:.3f}"
        for key, label in [
            ("val_loss", "validation loss"),
            ("val_accuracy", "validation accuracy"),
        ]
        if len(history.get(key, ())) >= best > 0
    ]
    return (
        f"{ran} of up to {cnn.epochs}{stopped}; the model keeps epoch {best}, of "
        f"lowest validation loss{' (' + ', '.join(scores) + ')' if scores else ''}"
    )
