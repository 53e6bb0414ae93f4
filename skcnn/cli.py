"""The ``skcnn`` command."""

import argparse
import json
import logging
import os
import sys


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skcnn",
        description="Convolutional neural networks as scikit-learn estimators.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    compare = sub.add_parser(
        "compare",
        help="cross-validate the CNN against the logistic-regression baseline",
        description=(
            "Cross-validate CNNBinaryClassifier and the logistic-regression baseline "
            "(make_baseline) on the same stratified folds and print accuracy, ROC "
            "AUC, fit and predict times and trainable parameters. With no data "
            "argument it runs on scikit-learn's bundled digits, 7 versus 8."
        ),
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
    compare.add_argument(
        "--quiet", action="store_true", help="print no progress on stderr"
    )
    compare.set_defaults(handler=_compare)
    return parser


def _compare(args):
    from ._baseline import make_baseline
    from ._classifier import CNNBinaryClassifier
    from ._compare import compare_estimators, format_comparison
    from .datasets import load_digits_pair

    data = load_digits_pair()
    X, y = data.images, data.target
    dataset = "digits 7 vs 8 (scikit-learn's bundled digits)"
    if args.folds < 2:
        raise ValueError(f"--folds must be at least 2, got {args.folds}")
    estimators = {
        "cnn": CNNBinaryClassifier(
            epochs=args.epochs, random_state=args.random_state, verbose=0
        ),
        "baseline": make_baseline(random_state=args.random_state),
    }
    if not args.quiet:
        print(
            f"Comparing on {dataset}: {len(y)} images of shape {X.shape[1:]}, "
            f"{args.folds} stratified folds",
            file=sys.stderr,
            flush=True,
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


def main(argv=None):
    """Run the ``skcnn`` command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    # An application may quieten TensorFlow's start-up chatter; the library does not.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        return args.handler(args)
    except (ValueError, TypeError, OSError) as exc:
        print(f"skcnn {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
