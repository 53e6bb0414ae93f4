"""The ``skcnn`` command."""

import argparse
import contextlib
import csv
import json
import logging
import os
import sys
import tempfile
import warnings

from . import __version__
from ._persist import _write_atomically

# The augmentation of the COVID X-ray tutorial, passed by `--augment`.
_AUGMENT_RECIPE = {"shear": 0.2, "zoom": 0.2, "flip": "horizontal"}
_COLOR_MODES = ("grayscale", "rgb", "rgba")
_CHANNELS = {1: "grayscale", 3: "rgb", 4: "rgba"}
# Pillow modes of single-channel images: a folder of only these is read as grayscale.
_GRAY_MODES = ("1", "L", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
# Largest height and width inferred from a folder's images.
_MAX_SIDE = 128
# Images decoded and predicted at a time by `predict` and `evaluate`.
_CHUNK = 256
# Bad files named in an error; --skip-bad lists them all.
_MAX_NAMED = 20


# ----------------------------------------------------------- argument types
def _named(name):
    """Name an argparse type function as argparse's errors quote it: "invalid
    positive integer value: 'x'"."""

    def decorate(function):
        function.__name__ = name
        return function

    return decorate


@_named("positive integer")
def _positive_int(text):
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


@_named("positive number")
def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


@_named("rate in [0, 1)")
def _dropout_rate(text):
    value = float(text)
    if not 0 <= value < 1:
        raise ValueError(text)
    return value


@_named("fraction in (0, 1)")
def _open_fraction(text):
    value = float(text)
    if not 0 < value < 1:
        raise ValueError(text)
    return value


@_named("filters block")
def _filters_block(text):
    """One convolution block of --filters: ``64`` (an int), or the widths of its
    convolutions, ``32,32`` or ``(32,32)`` or ``(64,)`` (a tuple)."""
    inner = text.strip()
    if inner[:1] in "([" and inner[-1:] in ")]":
        inner = inner[1:-1]
    widths = tuple(int(part) for part in inner.split(",") if part.strip())
    if not widths or min(widths) < 1:
        raise ValueError(text)
    return widths if "," in text else widths[0]


# --------------------------------------------------------------- arguments
# Options that configure the CNN only (argparse `dest` -> option), all with
# default=SUPPRESS: left out, they keep CNNBinaryClassifier's defaults.
_CNN_OPTIONS = {
    "filters": "--filters",
    "kernel_size": "--kernel-size",
    "padding": "--padding",
    "block_dropout": "--block-dropout",
    "dense_units": "--dense-units",
    "dropout": "--dropout",
    "augment": "--augment",
    "learning_rate": "--learning-rate",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "validation_fraction": "--validation-fraction",
    "n_iter_no_change": "--n-iter-no-change",
}


def _add_quiet(parser):
    parser.add_argument(
        "--quiet", action="store_true", help="print no progress on stderr"
    )


def _add_skip_bad(parser):
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="check every image first, list the unreadable ones on stderr (each "
        "with its reason) and leave them out; without it an unreadable image is "
        "an error naming every unreadable file",
    )


def _add_folder_arguments(parser, folder="DIR"):
    """Options saying how the images of a training folder are read."""
    parser.add_argument(
        "--image-size",
        type=_positive_int,
        nargs=2,
        default=None,
        metavar=("HEIGHT", "WIDTH"),
        help=f"size the images are resized to (default: inferred from {folder}: "
        f"the median height and width of its images, each at most {_MAX_SIDE})",
    )
    parser.add_argument(
        "--color-mode",
        choices=_COLOR_MODES,
        default=None,
        help=f"channels of the images (default: inferred from {folder}: grayscale "
        "if every image is single-channel, else rgb)",
    )
    parser.add_argument(
        "--class-names",
        nargs=2,
        default=None,
        metavar=("A", "B"),
        help=f"the two class folders of {folder} to use (needed when it holds more)",
    )
    _add_skip_bad(parser)


def _add_model_arguments(parser, *, epochs):
    """The options of the CNN (and class weights), shared by train and compare."""
    group = parser.add_argument_group(
        "CNN options (defaults are CNNBinaryClassifier's)"
    )
    sup = argparse.SUPPRESS
    group.add_argument(
        "--filters",
        type=_filters_block,
        nargs="+",
        default=sup,
        metavar="BLOCK",
        help="filters of each convolution block (default 32 64); a block of "
        "several convolutions lists their filters with commas: 32,32 64 or "
        "(32,32) (64,)",
    )
    group.add_argument(
        "--kernel-size",
        type=_positive_int,
        default=sup,
        metavar="N",
        help="height and width of the convolution windows (default 3)",
    )
    group.add_argument(
        "--padding",
        choices=["same", "valid"],
        default=sup,
        help="padding of convolutions and pooling (default same)",
    )
    group.add_argument(
        "--block-dropout",
        type=_dropout_rate,
        default=sup,
        metavar="RATE",
        help="dropout rate closing each block (default 0)",
    )
    group.add_argument(
        "--dense-units",
        type=_positive_int,
        nargs="+",
        default=sup,
        metavar="N",
        help="units of the hidden dense layers of the head (default none)",
    )
    group.add_argument(
        "--dropout",
        type=_dropout_rate,
        default=sup,
        metavar="RATE",
        help="dropout rate before the output layer (default 0.5)",
    )
    group.add_argument(
        "--augment",
        action="store_true",
        default=sup,
        help="augment the training images (shear 0.2, zoom 0.2, horizontal flip)",
    )
    group.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=sup,
        metavar="LR",
        help="learning rate of the Adam optimizer (default 0.001)",
    )
    group.add_argument(
        "--epochs",
        type=_positive_int,
        default=sup,
        metavar="N",
        help=f"maximum number of epochs (default {epochs})",
    )
    group.add_argument(
        "--batch-size",
        type=_positive_int,
        default=sup,
        metavar="N",
        help="batch size (default 32)",
    )
    group.add_argument(
        "--validation-fraction",
        type=_open_fraction,
        default=sup,
        metavar="F",
        help="hold out this fraction of the training images and stop early when "
        "their loss stops improving, keeping the best epoch (default: no early "
        "stopping)",
    )
    group.add_argument(
        "--n-iter-no-change",
        type=_positive_int,
        default=sup,
        metavar="N",
        help="with --validation-fraction, epochs without improvement before "
        "stopping (default 5)",
    )
    parser.add_argument(
        "--class-weight",
        choices=["balanced"],
        default=None,
        help="weigh the classes inversely to their frequencies",
    )
    parser.set_defaults(default_epochs=epochs)


def _cnn_params(args):
    """The CNNBinaryClassifier parameters the options of _add_model_arguments give."""
    params = {dest: getattr(args, dest) for dest in _CNN_OPTIONS if dest in args}
    params.setdefault("epochs", args.default_epochs)
    if "filters" in params:
        params["filters"] = tuple(params["filters"])
    if "dense_units" in params:
        params["dense_units"] = tuple(params["dense_units"])
    if params.pop("augment", False):
        params["augment"] = dict(_AUGMENT_RECIPE)
    if "validation_fraction" in params:
        params["early_stopping"] = True
    elif "n_iter_no_change" in params:
        raise ValueError("--n-iter-no-change applies with --validation-fraction.")
    params["class_weight"] = args.class_weight
    params["random_state"] = args.random_state
    return params


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skcnn",
        description="Convolutional neural networks as scikit-learn estimators.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # ---------------------------------------------------------------- train
    train = sub.add_parser(
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
    train.add_argument(
        "data", metavar="DIR", help="folder with one subfolder per class"
    )
    train.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="where to save the model: skcnn's safe format if FILE ends with "
        ".skcnn (see skcnn.load), else joblib",
    )
    train.add_argument(
        "--model",
        choices=["cnn", "baseline"],
        default="cnn",
        help="cnn (default) or baseline: make_baseline(), logistic regression on "
        "standardized pixels, which takes none of the CNN options",
    )
    _add_folder_arguments(train)
    _add_model_arguments(train, epochs=10)
    train.add_argument(
        "--random-state", type=int, default=0, help="seed of the model (default 0)"
    )
    _add_quiet(train)
    train.set_defaults(handler=_train)

    # -------------------------------------------------------------- predict
    predict = sub.add_parser(
        "predict",
        help="predict the class of image files with a saved model",
        description=(
            "Predict the class of images with a model saved by `skcnn train` (or a "
            "saved CNNBinaryClassifier) and write a CSV with the columns path, "
            "label (the predicted class) and proba_<class> for each class of the "
            "model. Folders are searched recursively for images, in sorted order. "
            "With --skip-bad, a last column `error` is added: an unreadable file "
            "keeps its row, with an empty label and probabilities and the reason "
            "in `error`. Only load model files you trust: joblib files can run "
            "code when loaded."
        ),
    )
    predict.add_argument("model", metavar="MODEL", help="model file from skcnn train")
    predict.add_argument(
        "paths", metavar="PATH", nargs="+", help="image files or folders of images"
    )
    predict.add_argument(
        "--out", metavar="FILE", help="write the CSV to FILE instead of stdout"
    )
    _add_skip_bad(predict)
    _add_quiet(predict)
    predict.set_defaults(handler=_predict)

    # ------------------------------------------------------------- evaluate
    evaluate = sub.add_parser(
        "evaluate",
        help="score a saved model on a labelled folder of images",
        description=(
            "Score a model saved by `skcnn train` (or a saved CNNBinaryClassifier) "
            "on DIR, which holds one subfolder per class of the model, named as "
            "the class: accuracy, balanced accuracy, ROC AUC, confusion matrix and "
            "classification report. Only load model files you trust: joblib files "
            "can run code when loaded."
        ),
    )
    evaluate.add_argument("model", metavar="MODEL", help="model file from skcnn train")
    evaluate.add_argument(
        "data", metavar="DIR", help="folder with one subfolder per class"
    )
    evaluate.add_argument(
        "--json", action="store_true", help="print the results as JSON on stdout"
    )
    _add_skip_bad(evaluate)
    _add_quiet(evaluate)
    evaluate.set_defaults(handler=_evaluate)

    # --------------------------------------------------------------- export
    export = sub.add_parser(
        "export",
        help="write the Keras network of a saved model as a .keras file",
        description=(
            "Write the bare Keras network of a model saved by `skcnn train` (or any "
            "saved CNNBinaryClassifier or pipeline ending with one) as a .keras "
            "file, for serving outside scikit-learn, and say what it takes (image "
            "size, colour mode, pixel scale) and which class its output is the "
            "probability of."
        ),
    )
    export.add_argument("model", metavar="MODEL", help="model file (.skcnn or joblib)")
    export.add_argument(
        "--out", required=True, metavar="FILE", help="the .keras file to write"
    )
    _add_quiet(export)
    export.set_defaults(handler=_export)

    # -------------------------------------------------------------- compare
    compare = sub.add_parser(
        "compare",
        help="cross-validate the CNN against the logistic-regression baseline",
        description=(
            "Cross-validate CNNBinaryClassifier and the logistic-regression baseline "
            "(make_baseline) on the same stratified folds and print accuracy, ROC "
            "AUC, fit and predict times and trainable parameters. DIR is a folder "
            "with one subfolder per class; its images are decoded once. With "
            "--test TESTDIR, both models are fitted on all of DIR and scored on "
            "TESTDIR instead of cross-validated. With no DIR it runs on "
            "scikit-learn's bundled digits, 7 versus 8."
        ),
    )
    compare.add_argument(
        "data",
        metavar="DIR",
        nargs="?",
        default=None,
        help="folder with one subfolder per class (default: the bundled digits)",
    )
    compare.add_argument(
        "--test",
        metavar="TESTDIR",
        default=None,
        help="fit on all of DIR and score on this folder (same class folders) "
        "instead of cross-validating",
    )
    _add_folder_arguments(compare)
    compare.add_argument(
        "--folds",
        type=_positive_int,
        default=None,
        help="stratified folds (default 5)",
    )
    _add_model_arguments(compare, epochs=20)
    compare.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the folds and of both models (default 0)",
    )
    compare.add_argument(
        "--json", action="store_true", help="print the results as JSON on stdout"
    )
    _add_quiet(compare)
    compare.set_defaults(handler=_compare)
    return parser


# ------------------------------------------------------------------ helpers
def _progress(args, message):
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def _counts(target, names):
    return ", ".join(f"{int((target == name).sum())} {str(name)!r}" for name in names)


def _check_output(path, option="--out"):
    """Fail before any work if ``path`` cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{option} {path!r} is a folder; give a file name.")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{option} {path!r}: no such folder {folder!r}.")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"{option} {path!r}: folder {folder!r} is not writable.")


def _read_model_file(path):
    """The object in a .skcnn file (skcnn.load, safe) or a joblib file."""
    import joblib

    from ._persist import load

    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"The model {path!r} is a folder, not a model file.")
    with open(path, "rb") as f:
        is_zip = f.read(4) == b"PK\x03\x04"  # not is_zipfile: joblib files of
        # Keras models hold zip archives inside
    if path.endswith(".skcnn") or is_zip:
        return load(path)
    try:
        return joblib.load(path)
    except OSError:
        raise
    except Exception as exc:
        raise ValueError(
            f"Cannot load the model file {path!r} (is it a file saved by "
            f"`skcnn train`?): {type(exc).__name__}: {exc}"
        ) from exc


def _save_model(model, path):
    """Save atomically: skcnn's safe format for a .skcnn path, else joblib."""
    import joblib

    from ._persist import save

    if path.endswith(".skcnn"):
        save(model, path)
    else:
        _write_atomically(path, lambda temp: joblib.dump(model, temp))


def _load_model(path):
    """A fitted classifier that takes image file paths: a pipeline starting with
    an ImageLoader (as `skcnn train` saves), or a CNNBinaryClassifier (which reads
    files itself, at its image_shape_)."""
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from ._classifier import CNNBinaryClassifier
    from ._image import ImageLoader

    try:
        model = _read_model_file(path)
    except (OSError, ValueError):
        raise
    except Exception as exc:
        raise ValueError(
            f"Cannot load the model file {path!r} (is it a file saved by "
            f"`skcnn train`?): {type(exc).__name__}: {exc}"
        ) from exc
    takes_paths = (
        isinstance(model, Pipeline)
        and isinstance(model.steps[0][1], ImageLoader)
        and hasattr(model, "predict_proba")
    ) or isinstance(model, CNNBinaryClassifier)
    try:
        fitted = takes_paths and check_is_fitted(model) is None
    except NotFittedError:
        fitted = False
    if not fitted:
        raise TypeError(
            f"The model file {path!r} holds a {type(model).__name__}, not a fitted "
            "pipeline starting with an ImageLoader (as `skcnn train` saves) or a "
            "fitted CNNBinaryClassifier."
        )
    final = model[-1] if isinstance(model, Pipeline) else model
    if "verbose" in final.get_params():
        # Progress is printed a chunk at a time here, on stderr.
        final.set_params(verbose=0)
    return model


def _predict_proba(model, paths, args):
    """predict_proba over image file paths, a chunk at a time, with progress."""
    import numpy as np

    chunks = [np.empty((0, len(model.classes_)))]
    for start in range(0, len(paths), _CHUNK):
        # Keras prints its progress on stdout, which may carry the results.
        with contextlib.redirect_stdout(sys.stderr):
            chunks.append(model.predict_proba(paths[start : start + _CHUNK]))
        if len(paths) > _CHUNK:
            done = min(start + _CHUNK, len(paths))
            _progress(args, f"predicted {done}/{len(paths)} images")
    return np.concatenate(chunks)


# ------------------------------------------------------------ bad images
def _bad_files_error(bad):
    """One error naming the unreadable files, with their reasons."""
    named = "; ".join(
        f"{path!r} ({reason.rstrip('.')})" for path, reason in bad[:_MAX_NAMED]
    )
    if len(bad) > _MAX_NAMED:
        named += f"; and {len(bad) - _MAX_NAMED} more"
    them = "it" if len(bad) == 1 else "them"
    return ValueError(
        f"{_plural(len(bad), 'image file')} cannot be read: {named}. Fix or remove "
        f"{them}, or pass --skip-bad to leave {them} out (it lists every one)."
    )


@contextlib.contextmanager
def _naming_bad_files(paths):
    """Turn an error about one image file into one naming every unreadable file
    of ``paths`` (found with find_bad_images only then, so reading good folders
    costs nothing more)."""
    try:
        yield
    except (ValueError, OSError) as exc:
        message = str(exc)
        if not any(str(path) in message for path in paths):
            raise  # not about a file
        from ._image import find_bad_images

        bad = find_bad_images(list(paths), n_jobs=-1)
        if not bad:
            raise
        raise _bad_files_error(bad) from exc


def _skip_bad(args, paths):
    """With --skip-bad, the unreadable files of ``paths`` as (path, reason),
    listed on stderr (even with --quiet); else []."""
    if not args.skip_bad:
        return []
    from ._image import find_bad_images

    bad = find_bad_images(list(paths), n_jobs=-1)
    if bad:
        what = _plural(len(bad), "unreadable file")
        lines = [f"skcnn {args.command}: skipping {what}:"]
        lines += [f"  {path}: {reason}" for path, reason in bad]
        print("\n".join(lines), file=sys.stderr, flush=True)
    return bad


def _without(bad, paths, *arrays):
    """``paths`` and ``arrays`` without the rows of the ``bad`` files."""
    import numpy as np

    skipped = {path for path, _ in bad}
    keep = np.array([str(path) not in skipped for path in paths], dtype=bool)
    if len(paths) and not keep.any():
        raise ValueError(
            f"None of the {len(paths)} image files can be read (listed above)."
        )
    return (np.asarray(paths)[keep], *(np.asarray(a)[keep] for a in arrays))


# ------------------------------------------------------------ image folders
def _labelled_folder(folder, class_names, option="--class-names"):
    """load_image_folder(folder), with errors about its class folders that say
    what to do on the command line."""
    from ._image import _check_not_splits, _class_folders, load_image_folder

    found = _class_folders(folder)
    if class_names is None:
        _check_not_splits(folder, found, guessed=True)  # a dataset's root
    if class_names is None and len(found) != 2:
        hint = (
            f" Pick two of them with {option} A B."
            if len(found) > 2
            else " It needs two, one per class, named as the class."
        )
        raise ValueError(
            f"{folder!r} must hold exactly two class folders, but it holds "
            f"{len(found)}: {found}.{hint}"
        )
    if class_names is not None:
        missing = [name for name in class_names if name not in found]
        if missing:
            raise ValueError(
                f"{option} {' '.join(class_names)}: {missing} not found among the "
                f"class folders of {folder!r}, {found}."
            )
    return load_image_folder(folder, class_names=class_names)


def _infer_image_format(paths):
    """The image size and colour mode a training folder's images are read at,
    when not given: the median height and width of the images, each at most
    _MAX_SIDE, and "grayscale" if every image is single-channel, else "rgb".

    Only the file headers are read (PIL.Image.open decodes no pixels); files
    whose header cannot be read are left out here and reported when decoded.
    """
    import numpy as np
    from PIL import Image

    heights, widths, gray = [], [], True
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # decompression bombs: reported later
                with Image.open(path) as image:
                    width, height = image.size
                    mode = image.mode
                    turned = image.format in ("JPEG", "MPO") and (
                        image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
                    )
        except Exception:
            continue
        if turned:  # phone photos: decoded upright, as ImageLoader reads them
            width, height = height, width
        heights.append(height)
        widths.append(width)
        gray = gray and mode in _GRAY_MODES
    if not heights:
        return (_MAX_SIDE, _MAX_SIDE), "rgb"
    size = tuple(
        int(min(_MAX_SIDE, max(1, round(float(np.median(sides))))))
        for sides in (heights, widths)
    )
    return size, "grayscale" if gray else "rgb"


def _image_format(args, paths):
    """(image_size, color_mode, how they were chosen) for the training images."""
    size = tuple(args.image_size) if args.image_size else None
    mode = args.color_mode
    inferred = []
    if size is None or mode is None:
        found_size, found_mode = _infer_image_format(paths)
        if size is None:
            size = found_size
            inferred.append("size")
        if mode is None:
            mode = found_mode
            inferred.append("colour mode")
    how = f" ({' and '.join(inferred)} inferred from the images)" if inferred else ""
    return size, mode, how


def _expand_paths(paths):
    """Image files: files as given, folders searched recursively in sorted order."""
    from ._image import load_image_folder

    files = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(load_image_folder(path, labels=None).filenames.tolist())
        elif os.path.exists(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"No such file or folder: {path!r}")
    return files


# ----------------------------------------------------------------- commands
def _train(args):
    from sklearn.pipeline import Pipeline

    from ._baseline import make_baseline
    from ._classifier import CNNBinaryClassifier
    from ._image import ImageLoader

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
    _save_model(model, args.out)
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
    run = f"{_plural(cnn.n_iter_, 'epoch')} run"
    if not cnn.early_stopping:
        return run
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
        f"{run} of up to {cnn.epochs}{stopped}; the model keeps epoch {best}, of "
        f"lowest validation loss{' (' + ', '.join(scores) + ')' if scores else ''}"
    )


def _predict(args):
    import numpy as np

    if args.out is not None:
        _check_output(args.out)
    model = _load_model(args.model)
    files = _expand_paths(args.paths)
    bad = dict(_skip_bad(args, files))
    good = [path for path in files if path not in bad]
    skipped = f" ({_plural(len(bad), 'unreadable file')} skipped)" if bad else ""
    _progress(
        args, f"Predicting {_plural(len(good), 'image')} with {args.model!r}{skipped}"
    )
    with _naming_bad_files(good):
        proba = _predict_proba(model, good, args)
    classes = model.classes_
    labels = classes[np.argmax(proba, axis=1)]
    predicted = dict(zip(good, zip(labels, proba, strict=True), strict=True))
    header = ["path", "label"] + [f"proba_{c}" for c in classes]

    def write(stream):
        writer = csv.writer(stream)
        if not args.skip_bad:
            writer.writerow(header)
            for path in files:
                label, row = predicted[path]
                writer.writerow([path, label, *(str(p) for p in row)])
            return
        writer.writerow([*header, "error"])
        for path in files:
            if path in bad:
                writer.writerow([path, "", *([""] * len(classes)), bad[path]])
            else:
                label, row = predicted[path]
                writer.writerow([path, label, *(str(p) for p in row), ""])

    if args.out is None:
        write(sys.stdout)
    else:

        def write_file(temp):
            with open(temp, "w", newline="", encoding="utf-8") as stream:
                write(stream)

        _write_atomically(args.out, write_file)
        _progress(
            args, f"Wrote {_plural(len(files), 'row')} to {args.out!r}{skipped}"
        )
    return 0


def _evaluate(args):
    import numpy as np
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        classification_report,
        confusion_matrix,
        roc_auc_score,
    )

    from ._image import _class_folders

    model = _load_model(args.model)
    classes = model.classes_
    names = [str(c) for c in classes]
    found = _class_folders(args.data)
    if found != sorted(names):
        raise ValueError(
            f"The class folders of {args.data!r}, {found}, do not match the "
            f"classes of the model {args.model!r}, {names}: DIR needs one folder "
            "per class of the model, named as the class."
        )
    data = _labelled_folder(args.data, names)
    bad = _skip_bad(args, data.filenames)
    files, target = _without(bad, data.filenames, data.target)
    y_true = classes[[names.index(label) for label in target]]
    skipped = f", {_plural(len(bad), 'unreadable file')} skipped" if bad else ""
    described = (
        f"{_plural(len(y_true), 'image')} of {args.data!r} "
        f"({_counts(target, names)}{skipped})"
    )
    _progress(args, f"Evaluating {args.model!r} on {described}")
    with _naming_bad_files(files):
        proba = _predict_proba(model, files, args)
    y_pred = classes[np.argmax(proba, axis=1)]
    results = {
        "model": args.model,
        "data": args.data,
        "n_samples": len(y_true),
        "classes": names,
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "roc_auc": float(roc_auc_score(y_true == classes[1], proba[:, 1])),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
    }
    if args.skip_bad:
        results["skipped"] = [{"path": path, "reason": why} for path, why in bad]
    report = {
        "labels": classes,
        "target_names": names,
        "digits": 3,
        "zero_division": 0,
    }
    if args.json:
        results["classification_report"] = classification_report(
            y_true, y_pred, output_dict=True, **report
        )
        print(json.dumps(results, indent=2, default=_json_default))
        return 0
    corner = "true \\ predicted"
    first = max(len(name) for name in [*names, corner])
    widths = [max(len(name), 6) for name in names]
    matrix = [
        f"{corner:<{first}}  "
        + "  ".join(f"{name:>{w}}" for name, w in zip(names, widths, strict=True))
    ]
    for name, row in zip(names, results["confusion_matrix"], strict=True):
        matrix.append(
            f"{name:<{first}}  "
            + "  ".join(f"{n:>{w}}" for n, w in zip(row, widths, strict=True))
        )
    lines = [
        described,
        "",
        f"accuracy           {results['accuracy']:.3f}",
        f"balanced accuracy  {results['balanced_accuracy']:.3f}",
        f"ROC AUC            {results['roc_auc']:.3f}  (positive class {names[1]!r})",
        "",
        "confusion matrix",
        *matrix,
        "",
        "classification report",
        classification_report(y_true, y_pred, **report).rstrip(),
    ]
    print("\n".join(lines))
    return 0


def _json_default(value):
    # NumPy scalars in scikit-learn's classification report.
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _export(args):
    from ._persist import export_keras

    model = _read_model_file(args.model)
    export_keras(model, args.out)
    _progress(
        args,
        f"Wrote the Keras network of {args.model!r} to {args.out!r}. "
        f"{_network_contract(model)}",
    )
    return 0


def _network_contract(model):
    """What an exported network takes and what its output is the probability of."""
    import keras

    from ._image import ImageLoader

    steps = getattr(model, "steps", None)
    cnn = steps[-1][1] if steps else model
    height, width, channels = cnn.image_shape_
    mode = _CHANNELS.get(channels, f"{channels}-channel")
    rescaled = any(isinstance(x, keras.layers.Rescaling) for x in cnn.model_.layers)
    pixels = getattr(cnn, "pixel_range_", (0, 255) if rescaled else None)
    if rescaled:
        scale = "pixel values 0-255, rescaled inside"
    elif pixels is not None and tuple(pixels) == (0, 1):
        scale = "float pixel values in [0, 1]"
    else:
        scale = "pixel values scaled as the training images were"
    loader = steps[0][1] if steps and isinstance(steps[0][1], ImageLoader) else None
    resize = (
        f" (images resized with {loader.interpolation} interpolation, as its "
        "ImageLoader reads them)"
        if loader is not None
        else ""
    )
    negative, positive = (str(c) for c in cnn.classes_)
    return (
        f"It takes {height}x{width} {mode} images, shape (n, {height}, {width}, "
        f"{channels}), {scale}{resize}, and outputs the probability of class "
        f"{positive!r} (the other class is {negative!r})."
    )


def _compare(args):
    import numpy as np

    from ._baseline import make_baseline
    from ._classifier import CNNBinaryClassifier
    from ._compare import compare_estimators, format_comparison

    if args.folds is not None and args.folds < 2:
        raise ValueError(f"--folds must be at least 2, got {args.folds}")
    if args.folds is not None and args.test is not None:
        raise ValueError(
            "--folds and --test exclude each other: with --test TESTDIR the models "
            "are fitted on all of DIR and scored on TESTDIR, not cross-validated."
        )
    folds = args.folds or 5
    params = _cnn_params(args)
    skipped = []
    n_test = None
    if args.data is None:
        from .datasets import load_digits_pair

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
                "are 8x8 grayscale. Give DIR or leave them out."
            )
        data = load_digits_pair()
        X, y = data.images, data.target
        dataset = "digits 7 vs 8 (scikit-learn's bundled digits)"
    else:
        from ._image import ImageLoader, _class_folders, load_image_folder

        data = _labelled_folder(args.data, args.class_names)
        names = list(data.target_names)
        bad = _skip_bad(args, data.filenames)
        files, y = _without(bad, data.filenames, data.target)
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
    if n_test is None:
        cv = folds
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
    results = compare_estimators(
        estimators,
        X,
        y,
        cv=cv,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    if args.json:
        summary = {
            "dataset": dataset,
            "n_samples": int(len(y)) - (n_test or 0),
            "image_shape": list(X.shape[1:]),
            "folds": None if n_test is not None else folds,
            "epochs": params["epochs"],
            "random_state": args.random_state,
            "models": results,
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
    return 0


# ------------------------------------------------------------------- main
@contextlib.contextmanager
def _stderr_fd_held():
    """Hold what is written to file descriptor 2 (where C++ libraries log) in a
    temporary file; write it out only if the block raises."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield  # no usable stderr descriptor: nothing to hold
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            held.seek(0)
            os.write(2, held.read())
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _quiet_tensorflow():
    """Keep TensorFlow's own logging off the command line, which shows skcnn's
    output only.

    Unless the user set TF_CPP_MIN_LOG_LEVEL (then TensorFlow logs as they
    asked), it is set to 3, which silences TensorFlow's C++ errors and warnings
    at run time (such as "failed call to cuInit ... UNKNOWN ERROR (303)" on a
    machine without GPU), and TensorFlow is imported with file descriptor 2
    held: its start-up block ("All log messages before absl::InitializeLog()",
    the oneDNN and CUDA-driver notices) is logged by static initializers, before
    any level is read, so no setting silences it. It came twice because two
    copies of that code are loaded: TensorFlow's shared libraries
    (libtensorflow_framework, libtensorflow_cc), then
    profiler/internal/_pywrap_profiler_plugin.so, which links them statically
    (TensorFlow 2.21). What was held is written out if the import fails. The
    library itself (``import skcnn``) leaves TensorFlow's logging alone.
    """
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if "tensorflow" not in sys.modules:
        with _stderr_fd_held():
            import tensorflow  # noqa: F401


def _one_line(exc):
    """The message of an exception on one line."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        message = f"{exc.strerror}: {exc.filename!r}"
    else:
        message = str(exc) or type(exc).__name__
    return " ".join(message.split())


def main(argv=None):
    """Run the ``skcnn`` command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)  # --help and --version exit here, without TF
    _quiet_tensorflow()
    try:
        return args.handler(args)
    except BrokenPipeError:
        # The reader of stdout went away (`skcnn predict ... | head`): stop quietly,
        # and keep Python from reporting the flush of stdout at exit.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (ValueError, TypeError, OSError) as exc:
        print(f"skcnn {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
