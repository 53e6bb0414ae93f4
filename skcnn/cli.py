"""The ``skcnn`` command."""

import argparse
import contextlib
import csv
import json
import logging
import os
import sys

from ._persist import _write_atomically

# The augmentation of the COVID X-ray tutorial, passed by `skcnn train --augment`.
_AUGMENT_RECIPE = {"shear": 0.2, "zoom": 0.2, "flip": "horizontal"}
_COLOR_MODES = ("grayscale", "rgb", "rgba")
# Images decoded and predicted at a time by `predict` and `evaluate`.
_CHUNK = 256


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _dropout_rate(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _open_fraction(text):
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {text}")
    return value


def _add_quiet(parser):
    parser.add_argument(
        "--quiet", action="store_true", help="print no progress on stderr"
    )


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skcnn",
        description="Convolutional neural networks as scikit-learn estimators.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # ---------------------------------------------------------------- train
    train = sub.add_parser(
        "train",
        help="train a CNN on a folder of images, one subfolder per class",
        description=(
            "Train CNNBinaryClassifier on the images of DIR, which holds exactly two "
            "class folders (their names are the labels), and save the fitted "
            "pipeline (ImageLoader, then the CNN): in skcnn's safe format if the "
            "file name ends with .skcnn (skcnn.load in Python), else with joblib. "
            "The saved model takes image file paths: use it with `skcnn predict`, "
            "`skcnn evaluate` and `skcnn export`."
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
        "--image-size",
        type=_positive_int,
        nargs=2,
        default=(128, 128),
        metavar=("HEIGHT", "WIDTH"),
        help="size the images are resized to (default 128 128)",
    )
    train.add_argument(
        "--color-mode",
        choices=_COLOR_MODES,
        default="rgb",
        help="channels of the images (default rgb)",
    )
    train.add_argument(
        "--epochs", type=_positive_int, default=10, help="epochs (default 10)"
    )
    train.add_argument(
        "--batch-size", type=_positive_int, default=32, help="batch size (default 32)"
    )
    train.add_argument(
        "--filters",
        type=_positive_int,
        nargs="+",
        default=(32, 64),
        metavar="N",
        help="filters of each convolution block (default 32 64)",
    )
    train.add_argument(
        "--dropout",
        type=_dropout_rate,
        default=0.5,
        help="dropout rate before the output layer (default 0.5)",
    )
    train.add_argument(
        "--augment",
        action="store_true",
        help="augment the training images (shear 0.2, zoom 0.2, horizontal flip)",
    )
    train.add_argument(
        "--validation-fraction",
        type=_open_fraction,
        default=None,
        metavar="F",
        help=(
            "hold out this fraction of the images and stop early when their loss "
            "stops improving (default: no early stopping)"
        ),
    )
    train.add_argument(
        "--class-weight",
        choices=["balanced"],
        default=None,
        help="weigh the classes inversely to their frequencies",
    )
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
            "Predict the class of images with a model saved by `skcnn train` and "
            "write a CSV with the columns path, label (the predicted class) and "
            "proba_<class> for each class of the model. Folders are searched "
            "recursively for images, in sorted order. Only load model files you "
            "trust: joblib files can run code when loaded."
        ),
    )
    predict.add_argument("model", metavar="MODEL", help="model file from skcnn train")
    predict.add_argument(
        "paths", metavar="PATH", nargs="+", help="image files or folders of images"
    )
    predict.add_argument(
        "--out", metavar="FILE", help="write the CSV to FILE instead of stdout"
    )
    _add_quiet(predict)
    predict.set_defaults(handler=_predict)

    # ------------------------------------------------------------- evaluate
    evaluate = sub.add_parser(
        "evaluate",
        help="score a saved model on a labelled folder of images",
        description=(
            "Score a model saved by `skcnn train` on DIR, which holds one subfolder "
            "per class of the model, named as the class: accuracy, balanced "
            "accuracy, ROC AUC, confusion matrix and classification report. Only "
            "load model files you trust: joblib files can run code when loaded."
        ),
    )
    evaluate.add_argument("model", metavar="MODEL", help="model file from skcnn train")
    evaluate.add_argument(
        "data", metavar="DIR", help="folder with one subfolder per class"
    )
    evaluate.add_argument(
        "--json", action="store_true", help="print the results as JSON on stdout"
    )
    _add_quiet(evaluate)
    evaluate.set_defaults(handler=_evaluate)

    # --------------------------------------------------------------- export
    export = sub.add_parser(
        "export",
        help="write the Keras network of a saved model as a .keras file",
        description=(
            "Write the bare Keras network of a model saved by `skcnn train` (or any "
            "saved CNNBinaryClassifier or pipeline ending with one) as a .keras "
            "file, for serving outside scikit-learn. The network takes images of "
            "the size and colour mode it was trained on (0-255 pixels, rescaled "
            "inside) and outputs the probability of the model's second class."
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
            "with one subfolder per class; its images are decoded once, at "
            "--image-size and --color-mode. With no DIR it runs on scikit-learn's "
            "bundled digits, 7 versus 8."
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
        "--image-size",
        type=_positive_int,
        nargs=2,
        default=None,
        metavar=("HEIGHT", "WIDTH"),
        help="size the images of DIR are resized to (default 64 64)",
    )
    compare.add_argument(
        "--color-mode",
        choices=_COLOR_MODES,
        default=None,
        help="channels of the images of DIR (default grayscale)",
    )
    compare.add_argument(
        "--folds", type=_positive_int, default=5, help="stratified folds (default 5)"
    )
    compare.add_argument(
        "--epochs", type=_positive_int, default=20, help="CNN epochs (default 20)"
    )
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


def _export(args):
    from ._persist import export_keras

    model = _read_model_file(args.model)
    export_keras(model, args.out)
    _progress(args, f"Wrote the Keras network of {args.model!r} to {args.out!r}")
    return 0


def _load_model(path):
    """A model saved by `skcnn train`: a pipeline that takes image file paths."""
    from sklearn.pipeline import Pipeline

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
    if not (
        isinstance(model, Pipeline)
        and isinstance(model.steps[0][1], ImageLoader)
        and hasattr(model, "predict_proba")
        and hasattr(model[-1], "classes_")
    ):
        raise TypeError(
            f"The model file {path!r} holds a {type(model).__name__}, not a fitted "
            "pipeline starting with an ImageLoader, as `skcnn train` saves."
        )
    final = model[-1]
    if "verbose" in final.get_params():
        # Progress is printed a chunk at a time here, on stderr.
        model.set_params(**{f"{model.steps[-1][0]}__verbose": 0})
    return model


def _predict_proba(model, paths, args):
    """predict_proba over image file paths, a chunk at a time, with progress."""
    import numpy as np

    chunks = []
    for start in range(0, len(paths), _CHUNK):
        # Keras prints its progress on stdout, which may carry the results.
        with contextlib.redirect_stdout(sys.stderr):
            chunks.append(model.predict_proba(paths[start : start + _CHUNK]))
        if len(paths) > _CHUNK:
            done = min(start + _CHUNK, len(paths))
            _progress(args, f"predicted {done}/{len(paths)} images")
    return np.concatenate(chunks)


def _counts(target, names):
    return ", ".join(f"{int((target == name).sum())} {str(name)!r}" for name in names)


# ----------------------------------------------------------------- commands
def _train(args):
    from sklearn.pipeline import make_pipeline

    from ._classifier import CNNBinaryClassifier
    from ._image import ImageLoader, load_image_folder

    _check_output(args.out)
    data = load_image_folder(args.data)
    classifier = CNNBinaryClassifier(
        filters=tuple(args.filters),
        dropout=args.dropout,
        augment=dict(_AUGMENT_RECIPE) if args.augment else None,
        epochs=args.epochs,
        batch_size=args.batch_size,
        early_stopping=args.validation_fraction is not None,
        validation_fraction=(
            0.1 if args.validation_fraction is None else args.validation_fraction
        ),
        class_weight=args.class_weight,
        random_state=args.random_state,
        verbose=0 if args.quiet else 2,
    )
    model = make_pipeline(
        ImageLoader(image_size=tuple(args.image_size), color_mode=args.color_mode),
        classifier,
    )
    height, width = args.image_size
    _progress(
        args,
        f"Training on {len(data.target)} images of {args.data!r} "
        f"({_counts(data.target, data.target_names)}) at {height}x{width} "
        f"{args.color_mode}, up to {args.epochs} epochs",
    )
    # Keras prints its per-epoch lines on stdout: send them to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        model.fit(data.filenames, data.target)
    _save_model(model, args.out)
    fitted = model[-1]
    stopped = (
        f" (early stopping, best of {fitted.n_iter_})"
        if args.validation_fraction is not None and fitted.n_iter_ < args.epochs
        else ""
    )
    _progress(
        args,
        f"Trained on {len(data.target)} images "
        f"({_counts(data.target, data.target_names)}): {fitted.n_iter_} epochs "
        f"run{stopped}. Saved the model to {args.out!r}.",
    )
    return 0


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


def _predict(args):
    import numpy as np

    if args.out is not None:
        _check_output(args.out)
    model = _load_model(args.model)
    files = _expand_paths(args.paths)
    _progress(args, f"Predicting {len(files)} images with {args.model!r}")
    proba = _predict_proba(model, files, args)
    classes = model.classes_
    labels = classes[np.argmax(proba, axis=1)]

    def write(stream):
        writer = csv.writer(stream)
        writer.writerow(["path", "label"] + [f"proba_{c}" for c in classes])
        for path, label, row in zip(files, labels, proba, strict=True):
            writer.writerow([path, label, *(str(p) for p in row)])

    if args.out is None:
        write(sys.stdout)
    else:

        def write_file(temp):
            with open(temp, "w", newline="", encoding="utf-8") as stream:
                write(stream)

        _write_atomically(args.out, write_file)
        _progress(args, f"Wrote {len(files)} predictions to {args.out!r}")
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

    from ._image import _class_folders, load_image_folder

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
    data = load_image_folder(args.data, class_names=names)
    y_true = classes[[names.index(label) for label in data.target]]
    _progress(
        args,
        f"Evaluating {args.model!r} on {len(y_true)} images of {args.data!r} "
        f"({_counts(data.target, names)})",
    )
    proba = _predict_proba(model, data.filenames, args)
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
        f"{len(y_true)} images of {args.data!r} ({_counts(data.target, names)})",
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


def _compare(args):
    from ._baseline import make_baseline
    from ._classifier import CNNBinaryClassifier
    from ._compare import compare_estimators, format_comparison

    if args.folds < 2:
        raise ValueError(f"--folds must be at least 2, got {args.folds}")
    if args.data is None:
        from .datasets import load_digits_pair

        if args.image_size is not None or args.color_mode is not None:
            raise ValueError(
                "--image-size and --color-mode apply to the images of DIR; the "
                "bundled digits are 8x8 grayscale. Give DIR or leave them out."
            )
        data = load_digits_pair()
        X, y = data.images, data.target
        dataset = "digits 7 vs 8 (scikit-learn's bundled digits)"
    else:
        from ._image import ImageLoader, load_image_folder

        image_size = tuple(args.image_size or (64, 64))
        color_mode = args.color_mode or "grayscale"
        data = load_image_folder(args.data)
        y = data.target
        counts = _counts(y, data.target_names)
        _progress(
            args,
            f"Decoding {len(y)} images of {args.data!r} at "
            f"{image_size[0]}x{image_size[1]} {color_mode}",
        )
        # Decoded once here rather than in every fold.
        X = ImageLoader(image_size=image_size, color_mode=color_mode).transform(
            data.filenames
        )
        dataset = f"images of {args.data!r} ({counts})"
    estimators = {
        "cnn": CNNBinaryClassifier(
            epochs=args.epochs, random_state=args.random_state, verbose=0
        ),
        "baseline": make_baseline(random_state=args.random_state),
    }
    _progress(
        args,
        f"Comparing on {dataset}: {len(y)} images of shape {X.shape[1:]}, "
        f"{args.folds} stratified folds",
    )
    results = compare_estimators(
        estimators,
        X,
        y,
        cv=args.folds,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    if args.json:
        summary = {
            "dataset": dataset,
            "n_samples": int(len(y)),
            "image_shape": list(X.shape[1:]),
            "folds": args.folds,
            "epochs": args.epochs,
            "random_state": args.random_state,
            "models": results,
        }
        print(json.dumps(summary, indent=2))
    else:
        print(format_comparison(results))
    return 0


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
    args = parser.parse_args(argv)
    # An application may quieten TensorFlow's start-up chatter; the library does not.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
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
