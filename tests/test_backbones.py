"""The backbone registry: names, sizes, preprocessing inside the model, weights
files, .keras files, and finding the backbone for fine-tuning. Every network here
has random weights (weights=None): nothing is downloaded."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from skcnn._backbones import (
    BACKBONES,
    apply_backbone,
    backbone_layers,
    build_backbone,
    default_image_size,
    get_backbone,
)
from skcnn._backbones._registry import _set_weights

KERAS_NAMES = [
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "resnet50",
]


def _has_lite0():
    try:
        import skcnn._backbones._efficientnet_lite  # noqa: F401
    except ImportError:
        return False
    return True


ALL_NAMES = KERAS_NAMES + (["efficientnet_lite0"] if _has_lite0() else [])


@pytest.fixture(scope="module")
def built():
    """Each backbone built once, for 32x32 RGB images, with random weights."""
    return {name: build_backbone(name, (32, 32, 3), weights=None) for name in ALL_NAMES}


@pytest.fixture(scope="module")
def images():
    """Six random 32x32 RGB images, float32 pixels in [0, 255]."""
    rng = np.random.RandomState(0)
    return rng.randint(0, 256, (6, 32, 32, 3)).astype(np.float32)


def _perturb(model, seed=0):
    """Give every weight of ``model`` new random values of a similar scale (the
    Normalization's count stays), so that copied weights are told apart."""
    rng = np.random.RandomState(seed)
    model.set_weights(
        [
            w
            if w.ndim == 0
            else (w + rng.normal(0, 0.05, w.shape) * (1 + np.abs(w))).astype(w.dtype)
            for w in model.get_weights()
        ]
    )
    for layer in model.layers:
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()  # else it computes with its former statistics


def _predict(model, X):
    return keras.ops.convert_to_numpy(model(X, training=False))


def _assert_close(actual, expected, tolerance):
    """Equal up to ``tolerance`` times the largest value expected (random
    weights give outputs of any scale)."""
    scale = np.abs(expected).max()
    assert scale > 0
    np.testing.assert_allclose(actual / scale, expected / scale, rtol=0, atol=tolerance)


# ------------------------------------------------------------------ registry
def test_registry_lists_the_keras_application_names():
    assert list(BACKBONES) == [*KERAS_NAMES, "efficientnet_lite0"]
    for name, backbone in BACKBONES.items():
        assert backbone.name == name
        assert (backbone.image_size, backbone.min_size) == (224, 32)
        assert default_image_size(name) == (224, 224)


def test_registry_imports_no_tensorflow():
    """The command line reads BACKBONES before TensorFlow starts."""
    code = (
        "import sys\n"
        "from skcnn._backbones import BACKBONES, default_image_size\n"
        "default_image_size('resnet50')\n"
        "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "[]", result.stderr[-2000:]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_features_have_the_registered_channels(built, name):
    model = built[name]
    assert model.name == f"{name}_features"
    assert model.output_shape == (None, 1, 1, BACKBONES[name].channels)
    assert model.get_layer(name) is get_backbone(model)


def test_unknown_name_lists_the_names():
    message = (
        r'`backbone` must be one of \{"mobilenet_v3_small", "mobilenet_v3_large", '
        r'"efficientnet_b0", "resnet50", "efficientnet_lite0"\}. '
        r"Received: backbone='resnet5'"
    )
    with pytest.raises(ValueError, match=message):
        build_backbone("resnet5", (32, 32, 3), weights=None)
    with pytest.raises(ValueError, match=message):
        default_image_size("resnet5")


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 31, 3)])
def test_images_smaller_than_the_minimum_are_refused(shape):
    message = (
        r"backbone='resnet50' needs images of at least 32x32 pixels. "
        rf"Received: input_shape=\({shape[0]}, {shape[1]}, {shape[2]}\)."
    )
    with pytest.raises(ValueError, match=message):
        build_backbone("resnet50", shape, weights=None)


def test_channels_other_than_1_or_3_are_refused():
    with pytest.raises(ValueError, match=r"1 \(grayscale\) or 3 \(RGB\) channels"):
        build_backbone("mobilenet_v3_small", (32, 32, 4), weights=None)
    with pytest.raises(ValueError, match="must be \\(height, width, channels\\)"):
        build_backbone("mobilenet_v3_small", (32, 32), weights=None)


# -------------------------------------------------------------- preprocessing
def _reference(application, backbone, **kwargs):
    """Keras' application with the weights of our nested ``backbone``."""
    reference = application(
        include_top=False, weights=None, input_shape=(32, 32, 3), **kwargs
    )
    _set_weights(reference, backbone.get_weights())
    return reference


def test_resnet50_preprocessing_is_keras_caffe_mode(built, images):
    model = built["resnet50"]
    backbone = get_backbone(model)
    _perturb(backbone)
    reference = _reference(keras.applications.ResNet50, backbone)
    expected = _predict(
        reference, keras.applications.resnet50.preprocess_input(images.copy())
    )
    _assert_close(_predict(model, images), expected, 1e-5)
    # The first stage alone: exactly Keras' preprocess_input.
    first = keras.Model(model.input, model.get_layer("resnet50_preprocessing").output)
    np.testing.assert_array_equal(
        _predict(first, images),
        keras.applications.resnet50.preprocess_input(images.copy()),
    )


def test_mobilenet_v3_preprocessing_is_keras_tf_mode(built, images):
    model = built["mobilenet_v3_small"]
    backbone = get_backbone(model)
    _perturb(backbone)
    # Without its Rescaling layer, MobileNetV3 takes pixels in [-1, 1].
    reference = _reference(
        keras.applications.MobileNetV3Small, backbone, include_preprocessing=False
    )
    scaled = keras.applications.imagenet_utils.preprocess_input(
        images.copy(), mode="tf"
    )
    _assert_close(_predict(model, images), _predict(reference, scaled), 1e-5)


def test_efficientnet_b0_preprocessing_is_imagenet_normalization(built, images):
    """With the Normalization statistics of Keras' ImageNet file (the mean, and
    the standard deviation as "variance"), the backbone sees
    (x / 255 - mean) / std: Keras' "torch" mode."""
    model = built["efficientnet_b0"]
    backbone = get_backbone(model)
    _perturb(backbone)
    normalization = next(
        layer
        for layer in backbone.layers
        if isinstance(layer, keras.layers.Normalization)
    )
    count = normalization.get_weights()[2]
    imagenet = np.array([[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]], np.float32)
    normalization.set_weights([*imagenet, count])
    normalization.finalize_state()
    reference = _reference(keras.applications.EfficientNetB0, backbone)
    # The reference's Normalization the identity: its input is then used as is.
    ref_normalization = next(
        layer
        for layer in reference.layers
        if isinstance(layer, keras.layers.Normalization)
    )
    ref_normalization.set_weights(
        [np.zeros(3, np.float32), np.ones(3, np.float32), count]
    )
    ref_normalization.finalize_state()
    torch_mode = keras.applications.imagenet_utils.preprocess_input(
        images.copy(), mode="torch"
    )
    expected = _predict(reference, 255 * torch_mode)
    _assert_close(_predict(model, images), expected, 1e-5)


def test_copied_weights_take_effect_in_normalization(built, images):
    """How the ImageNet EfficientNetB0 gets its weights (from Keras' own
    model): its Normalization must compute with the copied mean and variance."""
    backbone = get_backbone(built["efficientnet_b0"])
    source = keras.applications.EfficientNetB0(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    _perturb(source, seed=2)
    _set_weights(backbone, source.get_weights())
    np.testing.assert_array_equal(_predict(backbone, images), _predict(source, images))


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "resnet50"])
def test_grayscale_is_rgb_with_three_equal_channels(built, images, name):
    rgb_model = built[name]
    gray_model = build_backbone(name, (32, 32, 1), weights=None)
    _set_weights(get_backbone(gray_model), get_backbone(rgb_model).get_weights())
    gray = images[..., :1]
    np.testing.assert_array_equal(
        _predict(gray_model, gray), _predict(rgb_model, np.repeat(gray, 3, axis=-1))
    )


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "resnet50"])
def test_integer_inputs_are_cast_to_float(built, images, name):
    inputs = keras.Input((32, 32, 3), dtype="uint8")
    features, backbone = apply_backbone(name, inputs, weights=None)
    _set_weights(backbone, get_backbone(built[name]).get_weights())
    as_uint8 = keras.Model(inputs, features)
    np.testing.assert_array_equal(
        _predict(as_uint8, images.astype(np.uint8)), _predict(built[name], images)
    )


@pytest.mark.skipif(not _has_lite0(), reason="skcnn._backbones._efficientnet_lite")
def test_efficientnet_lite0_is_its_own_function(built, images):
    from skcnn._backbones._efficientnet_lite import efficientnet_lite0

    model = built["efficientnet_lite0"]
    direct = efficientnet_lite0((32, 32, 3), weights=None, include_top=False)
    _set_weights(direct, get_backbone(model).get_weights())
    np.testing.assert_array_equal(_predict(model, images), _predict(direct, images))


# -------------------------------------------------------------------- weights
def test_weights_file_round_trip(tmp_path, images):
    model = build_backbone("mobilenet_v3_small", (32, 32, 3), weights=None)
    _perturb(get_backbone(model), seed=1)
    path = tmp_path / "small.weights.h5"
    get_backbone(model).save_weights(path)
    # Another image size: the weights do not depend on it.
    loaded = build_backbone("mobilenet_v3_small", (64, 48, 1), weights=path)
    saved = get_backbone(model).get_weights()
    for got, expected in zip(get_backbone(loaded).get_weights(), saved, strict=True):
        np.testing.assert_array_equal(got, expected)
    same_shape = build_backbone("mobilenet_v3_small", (32, 32, 3), weights=str(path))
    np.testing.assert_array_equal(_predict(same_shape, images), _predict(model, images))


def test_keras_legacy_h5_file_of_imagenet_statistics(tmp_path, images):
    """Keras' published ImageNet weights are legacy .h5 files (downloaded
    elsewhere, for working offline): one of EfficientNetB0, its Normalization
    holding ImageNet's mean and standard deviation as Keras' file does, gives
    ImageNet's normalization, (x / 255 - mean) / std."""
    h5py = pytest.importorskip("h5py")
    from keras.src.legacy.saving import legacy_h5_format  # Keras' own writer

    source = keras.applications.EfficientNetB0(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    _perturb(source, seed=3)
    normalization = next(
        layer
        for layer in source.layers
        if isinstance(layer, keras.layers.Normalization)
    )
    count = normalization.get_weights()[2]
    imagenet = np.array([[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]], np.float32)
    normalization.set_weights([*imagenet, count])
    path = tmp_path / "efficientnetb0_notop.h5"
    with h5py.File(path, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, source)
    model = build_backbone("efficientnet_b0", (32, 32, 3), weights=path)
    for got, expected in zip(
        get_backbone(model).get_weights(), source.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(got, expected)
    # The reference: the same network, its Normalization the identity, on
    # pixels normalized by Keras' "torch" mode.
    normalization.set_weights([np.zeros(3, np.float32), np.ones(3, np.float32), count])
    normalization.finalize_state()
    torch_mode = keras.applications.imagenet_utils.preprocess_input(
        images.copy(), mode="torch"
    )
    _assert_close(_predict(model, images), _predict(source, 255 * torch_mode), 1e-5)


def test_weights_of_another_backbone_are_refused(tmp_path):
    model = build_backbone("mobilenet_v3_small", (32, 32, 3), weights=None)
    path = tmp_path / "small.weights.h5"
    get_backbone(model).save_weights(path)
    with pytest.raises(
        ValueError, match="cannot be loaded into backbone='mobilenet_v3"
    ):
        build_backbone("mobilenet_v3_large", (32, 32, 3), weights=path)


def test_missing_weights_file_is_named(tmp_path):
    path = tmp_path / "absent.weights.h5"
    with pytest.raises(FileNotFoundError, match=f"No weights file at '{path}'"):
        build_backbone("mobilenet_v3_small", (32, 32, 3), weights=path)
    with pytest.raises(TypeError, match="`weights` must be"):
        build_backbone("mobilenet_v3_small", (32, 32, 3), weights=1)


# --------------------------------------------------------------- .keras files
# MobileNetV3-Large is built as MobileNetV3-Small is.
@pytest.mark.parametrize("name", [n for n in ALL_NAMES if n != "mobilenet_v3_large"])
def test_keras_file_loads_in_safe_mode(built, images, tmp_path, name):
    model = built[name]
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(_predict(loaded, images), _predict(model, images))
    assert get_backbone(loaded).name == name


# --------------------------------------------------------------- fine-tuning
@pytest.fixture(scope="module")
def classifier():
    """A classifier on a frozen MobileNetV3-Small, built with apply_backbone."""
    inputs = keras.Input((32, 32, 1))
    features, backbone = apply_backbone("mobilenet_v3_small", inputs, weights=None)
    backbone.trainable = False
    x = keras.layers.GlobalAveragePooling2D(name="pool")(features)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="head")(x)
    return keras.Model(inputs, outputs), backbone


def test_backbone_is_found_in_a_classifier(classifier):
    model, backbone = classifier
    assert get_backbone(model) is backbone
    assert model.get_layer("mobilenet_v3_small") is backbone
    # One level deeper: a model holding the model.
    outer = keras.Sequential([keras.Input((32, 32, 1)), model])
    assert get_backbone(outer) is backbone
    assert get_backbone(backbone) is backbone
    with pytest.raises(ValueError, match="holds no backbone"):
        get_backbone(keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]))


def test_backbone_layers_are_in_order_for_unfreezing(classifier):
    model, backbone = classifier
    found = backbone_layers(model)
    assert found == backbone.layers[1:]
    assert not any(isinstance(layer, keras.layers.InputLayer) for layer in found)
    assert found[-1].output is backbone.output
    # Only the head trains while the backbone is frozen; nothing outside the
    # backbone but the head has weights (the preprocessing has none).
    head = model.get_layer("head")
    assert model.trainable_weights == head.trainable_weights
    model.trainable = True
    try:
        outside = [
            w for layer in model.layers if layer is not backbone for w in layer.weights
        ]
        assert outside == head.weights
        for layer in found[:-10]:
            layer.trainable = False
        trainable = {id(w) for w in model.trainable_weights}
        expected = {id(w) for layer in found[-10:] for w in layer.trainable_weights}
        assert trainable == expected | {id(w) for w in head.trainable_weights}
    finally:
        backbone.trainable = False


def test_frozen_batch_norm_runs_in_inference_mode(classifier):
    """The fine-tuning recipe of backbone_layers' docstring: top layers
    unfrozen, batch normalization frozen, which keeps it in inference mode in a
    training call. (Calling the backbone with training=False would not: the
    outer call's training=True replaces it, keras-team/keras#20285.)"""
    model, backbone = classifier
    pooled = keras.Model(model.input, model.get_layer("pool").output)
    X = np.random.RandomState(0).randint(0, 256, (4, 32, 32, 1)).astype(np.float32)
    backbone.trainable = True
    try:
        for layer in backbone_layers(model)[:-20]:
            layer.trainable = False
        for layer in backbone_layers(model)[-20:]:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
        assert model.trainable_weights != model.get_layer("head").trainable_weights
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(pooled(X, training=True)),
            keras.ops.convert_to_numpy(pooled(X, training=False)),
        )
        # Unfrozen, batch normalization uses the batch's statistics.
        backbone.trainable = False  # (True again would leave its layers as they are)
        backbone.trainable = True
        assert not np.array_equal(
            keras.ops.convert_to_numpy(pooled(X, training=True)),
            keras.ops.convert_to_numpy(pooled(X, training=False)),
        )
    finally:
        backbone.trainable = False
