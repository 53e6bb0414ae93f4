"""`skcnn predict`: the class of image files, as CSV."""

import csv
import os
import sys

from .._persist import _write_atomically
from ._common import (
    _check_output,
    _load_model,
    _naming_bad_files,
    _plural,
    _predict_proba,
    _predicted,
    _progress,
    _skip_bad,
    _threshold,
)
from ._options import _add_model_file, _add_quiet, _add_skip_bad


def add_parser(subparsers):
    parser = subparsers.add_parser(
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
    _add_model_file(parser)
    parser.add_argument(
        "paths", metavar="PATH", nargs="+", help="image files or folders of images"
    )
    parser.add_argument(
        "--out", metavar="FILE", help="write the CSV to FILE instead of stdout"
    )
    _add_skip_bad(parser)
    _add_quiet(parser)
    parser.set_defaults(handler=run)
    return parser


def run(args):

    if args.out is not None:
        _check_output(args.out)
    model = _load_model(args.model)
    files = _expand_paths(args.paths)
    bad = dict(_skip_bad(args, files))
    good = [path for path in files if path not in bad]
    skipped = f" ({_plural(len(bad), 'unreadable file')} skipped)" if bad else ""
    decision = _threshold(model)
    rule = (
        f", predicting {decision[1]!r} at probability >= {decision[0]:.4g}"
        if decision
        else ""
    )
    _progress(
        args,
        f"Predicting {_plural(len(good), 'image')} with {args.model!r}{skipped}{rule}",
    )
    with _naming_bad_files(good):
        proba = _predict_proba(model, good, args)
    classes = model.classes_
    labels = _predicted(model, proba)
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
        _progress(args, f"Wrote {_plural(len(files), 'row')} to {args.out!r}{skipped}")
    return 0


def _expand_paths(paths):
    """Image files: files as given, folders searched recursively in sorted order."""
    from .._image import load_image_folder

    files = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(load_image_folder(path, labels=None).filenames.tolist())
        elif os.path.exists(path):
            files.append(path)
        else:
            raise FileNotFoundError(f"No such file or folder: {path!r}")
    return files
