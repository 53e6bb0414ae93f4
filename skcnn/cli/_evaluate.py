"""`skcnn evaluate`: score a saved model on a labelled folder of images."""

import json

from ._common import (
    _check_output,
    _counts,
    _labelled_folder,
    _load_model,
    _naming_bad_files,
    _plural,
    _predict_proba,
    _predicted,
    _progress,
    _skip_bad,
    _threshold,
    _without,
)
from ._options import (
    _add_class_folder,
    _add_json,
    _add_model_file,
    _add_quiet,
    _add_skip_bad,
)


def add_parser(subparsers):
    parser = subparsers.add_parser(
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
    _add_model_file(parser)
    _add_class_folder(parser)
    _add_json(parser)
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="also write an HTML report to FILE: the metrics with 95%% bootstrap "
        "confidence intervals, confusion matrix, ROC, precision-recall and "
        "calibration curves, operating points, the top losses with their "
        "Grad-CAM, the model's parameters and library versions; one "
        "self-contained file (needs matplotlib: pip install skcnn[plot])",
    )
    parser.add_argument(
        "--plots",
        metavar="DIR",
        help="also write the report's figures as PNG files in DIR (created if needed)",
    )
    _add_skip_bad(parser)
    _add_quiet(parser)
    parser.set_defaults(handler=run)
    return parser


def run(args):
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        classification_report,
        confusion_matrix,
        roc_auc_score,
    )

    from .._image import _class_folders

    if args.report is not None:
        _check_output(args.report, "--report")
    if args.report is not None or args.plots is not None:
        from ..plot._base import check_matplotlib_support

        check_matplotlib_support("skcnn evaluate --report and --plots")
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
    y_pred = _predicted(model, proba)
    decision = _threshold(model)
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
    if decision is not None:
        label = decision[1]
        label = label.item() if hasattr(label, "item") else label
        results["threshold"] = {"value": decision[0], "class": label}
    if args.skip_bad:
        results["skipped"] = [{"path": path, "reason": why} for path, why in bad]
    report = {
        "labels": classes,
        "target_names": names,
        "digits": 3,
        "zero_division": 0,
    }
    if args.report is not None or args.plots is not None:
        _write_report(args, model, files, y_true, proba, y_pred)
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
        *(
            [
                f"threshold          {decision[0]:.4g}  (saved with the model: "
                f"{str(decision[1])!r} when its probability is at least that)"
            ]
            if decision
            else []
        ),
        "",
        "confusion matrix",
        *matrix,
        "",
        "classification report",
        classification_report(y_true, y_pred, **report).rstrip(),
    ]
    print("\n".join(lines))
    return 0


def _write_report(args, model, files, y_true, proba, y_pred):
    import os
    import tempfile

    from ..plot._report import write_report

    _progress(args, "Writing the report: bootstrap intervals, figures, Grad-CAM")
    with tempfile.TemporaryDirectory() as folder:
        path = args.report or os.path.join(folder, "report.html")
        names = write_report(
            path,
            model=model,
            files=files,
            y_true=y_true,
            proba=proba,
            y_pred=y_pred,
            model_path=args.model,
            data_path=args.data,
            plots_dir=args.plots,
        )
    if args.report is not None:
        _progress(args, f"Wrote the report to {args.report!r}")
    if args.plots is not None:
        files = ", ".join(f"{name}.png" for name in names)
        _progress(args, f"Wrote {files} to {args.plots!r}")


def _json_default(value):
    # NumPy scalars in scikit-learn's classification report.
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
