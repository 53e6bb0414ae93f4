"""`skcnn export`: the bare Keras network of a saved model, as a .keras file."""

from ._common import _progress
from ._options import _add_model_file, _add_quiet

_CHANNELS = {1: "grayscale", 3: "rgb", 4: "rgba"}


def add_parser(subparsers):
    parser = subparsers.add_parser(
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
    _add_model_file(parser, help="model file (.skcnn or joblib)")
    parser.add_argument(
        "--out", required=True, metavar="FILE", help="the .keras file to write"
    )
    _add_quiet(parser)
    parser.set_defaults(handler=run)
    return parser


def run(args):
    from .._persist import export_keras, read_model_file

    model = read_model_file(args.model)
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

    from .._image import ImageLoader
    from .._threshold import split_threshold
    from .._training import predicts_with_flips

    model, decision = split_threshold(model)
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
    averaged = ""
    if predicts_with_flips(cnn):
        averaged = ", averaged over the image and its mirror image"
    rule = ""
    if decision is not None:
        threshold, label = decision[0], str(decision[1])
        of = "" if label == positive else " (1 - the output)"
        rule = (
            f" The saved model predicts {label!r} when the probability of "
            f"{label!r}{of} is at least {threshold:.4g}."
        )
    return (
        f"It takes {height}x{width} {mode} images, shape (n, {height}, {width}, "
        f"{channels}), {scale}{resize}, and outputs the probability of class "
        f"{positive!r} (the other class is {negative!r}){averaged}.{rule}"
    )
