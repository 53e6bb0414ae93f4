import keras
import numpy as np
import pytest

from skcnn import CNNBinaryClassifier, build_cnn

from .conftest import MINIMAL


def _layer_summary(model):
    """(class name, key config) of every layer but the input, in order."""
    out = []
    for layer in model.layers[1:]:
        config = layer.get_config()
        keys = ("filters", "kernel_size", "pool_size", "padding", "rate", "units")
        keys += ("activation",)
        out.append((type(layer).__name__, {k: config[k] for k in keys if k in config}))
    return out


# What the published tutorial networks add to the options of the (today's) defaults.
TUTORIAL = {
    "padding": "valid",
    "batch_norm": False,
    "global_pooling": None,
    "augment": None,
}


def test_mnist_7v8_tutorial_architecture():
    # Input 28x28x1, Conv2D(32,3x3,relu), MaxPool 2, Conv2D(64,3x3,relu), MaxPool 2,
    # Flatten, Dropout 0.5, Dense(1,sigmoid): 20,417 parameters.
    model = build_cnn((28, 28, 1), filters=(32, 64), **TUTORIAL, dropout=0.5)
    assert model.count_params() == 20_417
    conv = {"kernel_size": (3, 3), "padding": "valid", "activation": "relu"}
    pool = {"pool_size": (2, 2), "padding": "valid"}
    assert _layer_summary(model) == [
        ("Conv2D", {"filters": 32, **conv}),
        ("MaxPooling2D", pool),
        ("Conv2D", {"filters": 64, **conv}),
        ("MaxPooling2D", pool),
        ("Flatten", {}),
        ("Dropout", {"rate": 0.5}),
        ("Dense", {"units": 1, "activation": "sigmoid"}),
    ]


def test_covid_xray_tutorial_architecture():
    model = build_cnn(
        (224, 224, 3),
        filters=((32, 64), 64, 128),
        **TUTORIAL,
        block_dropout=0.25,
        dense_units=(64,),
        dropout=0.5,
    )
    assert model.count_params() == 5_668_097
    assert sum(np.prod(w.shape) for w in model.trainable_weights) == 5_668_097
    conv = {"kernel_size": (3, 3), "padding": "valid", "activation": "relu"}
    pool = ("MaxPooling2D", {"pool_size": (2, 2), "padding": "valid"})
    drop = ("Dropout", {"rate": 0.25})
    assert _layer_summary(model) == [
        ("Conv2D", {"filters": 32, **conv}),
        ("Conv2D", {"filters": 64, **conv}),
        pool,
        drop,
        ("Conv2D", {"filters": 64, **conv}),
        pool,
        drop,
        ("Conv2D", {"filters": 128, **conv}),
        pool,
        drop,
        ("Flatten", {}),
        ("Dense", {"units": 64, "activation": "relu"}),
        ("Dropout", {"rate": 0.5}),
        ("Dense", {"units": 1, "activation": "sigmoid"}),
    ]


def test_estimator_builds_the_tutorial_network(digits):
    """The estimator's parameters express the MNIST tutorial network exactly."""
    X = np.zeros((4, 28, 28, 1), dtype=np.float32)
    y = [7, 8, 7, 8]
    clf = CNNBinaryClassifier(
        filters=(32, 64), **TUTORIAL, dropout=0.5, epochs=1, verbose=0
    ).fit(X, y)
    assert clf.model_.count_params() == 20_417


def test_convs_per_block():
    model = build_cnn((16, 16, 1), filters=(8, 16), convs_per_block=2)
    convs = [layer.filters for layer in model.layers if "conv" in layer.name]
    assert convs == [8, 8, 16, 16]


def test_uint8_rescaling_layer():
    model = build_cnn((8, 8, 1), filters=(4,), rescale=1 / 255, augment=None)
    assert isinstance(model.layers[1], keras.layers.Rescaling)
    assert model.count_params() == build_cnn((8, 8, 1), filters=(4,)).count_params()


def test_same_seed_same_weights():
    a = build_cnn((8, 8, 1), filters=(4, 8), seed=3)
    b = build_cnn((8, 8, 1), filters=(4, 8), seed=3)
    c = build_cnn((8, 8, 1), filters=(4, 8), seed=4)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def test_shrinking_below_one_pixel_names_the_layer():
    with pytest.raises(ValueError, match=r"block2_conv1 .*receives 2x2.*output 0x0"):
        build_cnn((6, 6, 1), filters=(4, 4), padding="valid", kernel_size=3)
    with pytest.raises(ValueError, match=r"block1_pool"):
        build_cnn((1, 1, 1), filters=(4,), padding="valid", kernel_size=1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"filters": (0,)}, "filters"),
        ({"filters": ((),)}, "filters"),
        ({"pooling": "median"}, "pooling"),
        ({"padding": "full"}, "padding"),
        ({"dropout": 1.0}, "dropout"),
        ({"dense_units": (0,)}, "dense_units"),
    ],
)
def test_bad_architecture_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_cnn((8, 8, 1), **kwargs)


def test_no_pooling_and_average_pooling():
    model = build_cnn((8, 8, 1), pooling=None, global_pooling=None)
    assert not any("pool" in layer.name for layer in model.layers)
    model = build_cnn((8, 8, 1), pooling="average")
    assert isinstance(model.get_layer("block1_pool"), keras.layers.AveragePooling2D)


def test_every_network_parameter_of_build_cnn_is_an_estimator_parameter():
    # fit passes the parameters named in _ARCHITECTURE_PARAMS on to build_cnn: a
    # new parameter of the network is added there and to CNNBinaryClassifier.
    import inspect

    from skcnn._classifier import _ARCHITECTURE_PARAMS

    of_build_cnn = set(inspect.signature(build_cnn).parameters)
    set_by_fit = {"input_shape", "rescale", "seed"}
    assert set(_ARCHITECTURE_PARAMS) == of_build_cnn - set_by_fit
    defaults = CNNBinaryClassifier().get_params()
    for name in _ARCHITECTURE_PARAMS:
        assert defaults[name] == inspect.signature(build_cnn).parameters[name].default


def test_batch_norm_layers_and_parameters():
    # 8x8x1 -> Conv2D(4, 3x3, no bias): 36 -> BatchNormalization: 4 x (gamma, beta,
    # moving mean, moving variance) = 16 (8 trainable) -> relu -> MaxPool 4x4x4
    # -> Flatten 64 -> Dense(1): 65. 117 parameters, 109 trainable.
    flat = {"global_pooling": None, "augment": None}
    model = build_cnn((8, 8, 1), filters=(4,), batch_norm=True, dropout=0.0, **flat)
    assert [type(layer).__name__ for layer in model.layers[1:]] == [
        "Conv2D",
        "BatchNormalization",
        "Activation",
        "MaxPooling2D",
        "Flatten",
        "Dense",
    ]
    conv = model.get_layer("block1_conv1")
    assert not conv.use_bias and conv.get_config()["activation"] == "linear"
    assert model.get_layer("block1_conv1_act").get_config()["activation"] == "relu"
    assert model.count_params() == 117
    assert sum(np.prod(w.shape) for w in model.trainable_weights) == 109


def _batch_norms(model):
    return [
        x.name for x in model.layers if isinstance(x, keras.layers.BatchNormalization)
    ]


def test_batch_norm_auto_is_for_colour_images():
    # "auto", the default: after each convolution of colour images, none for one
    # channel; True and False whatever the channels.
    both = ["block1_conv1_bn", "block2_conv1_bn"]
    assert _batch_norms(build_cnn((8, 8, 3), filters=(4, 4))) == both
    assert _batch_norms(build_cnn((8, 8, 3), (4, 4), batch_norm="auto")) == both
    assert _batch_norms(build_cnn((8, 8, 1), filters=(4, 4))) == []
    assert _batch_norms(build_cnn((8, 8, 1), (4, 4), batch_norm=True)) == both
    assert _batch_norms(build_cnn((8, 8, 3), (4, 4), batch_norm=False)) == []


def test_classifier_batch_norm_auto_follows_the_fitted_images(digits):
    X, y = digits
    params = {**MINIMAL, "filters": (4,), "epochs": 1, "random_state": 0}
    del params["batch_norm"]
    gray = CNNBinaryClassifier(**params).fit(X, y)
    colour = CNNBinaryClassifier(**params).fit(np.repeat(X, 3, axis=-1), y)
    assert _batch_norms(gray.model_) == []
    assert _batch_norms(colour.model_) == ["block1_conv1_bn"]
    # The parameter is left as given (a clone of either is the same estimator).
    assert gray.get_params()["batch_norm"] == colour.batch_norm == "auto"


@pytest.mark.parametrize(
    "global_pooling, layer",
    [
        ("average", keras.layers.GlobalAveragePooling2D),
        ("max", keras.layers.GlobalMaxPooling2D),
    ],
)
def test_global_pooling_layers_and_parameters(global_pooling, layer):
    # 8x8x1 -> Conv2D(4, 3x3): 40 -> MaxPool -> global pooling: 4 values
    # -> Dense(1): 5. 45 parameters, whatever the image size.
    model = build_cnn(
        (8, 8, 1), filters=(4,), global_pooling=global_pooling, augment=None
    )
    assert [type(x).__name__ for x in model.layers[1:]] == [
        "Conv2D",
        "MaxPooling2D",
        layer.__name__,
        "Dropout",
        "Dense",
    ]
    assert model.count_params() == 45
    larger = build_cnn((32, 32, 1), filters=(4,), global_pooling=global_pooling)
    assert larger.count_params() == 45


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"global_pooling": "mean"}, ValueError, "`global_pooling` must be one of"),
        ({"batch_norm": "yes"}, TypeError, "`batch_norm` must be a bool"),
    ],
)
def test_bad_batch_norm_and_global_pooling(kwargs, error, match):
    with pytest.raises(error, match=match):
        build_cnn((8, 8, 1), **kwargs)
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        CNNBinaryClassifier(**kwargs).fit(np.zeros((4, 8, 8)), [0, 1, 0, 1])


@pytest.fixture(scope="module")
def batch_norm_cnn(digits):
    X, y = digits
    params = {**MINIMAL, "filters": (8, 16), "epochs": 10, "batch_size": 16}
    params.update(global_pooling="average", batch_norm=True)
    return CNNBinaryClassifier(**params, learning_rate=0.01, random_state=0).fit(X, y)


def test_batch_norm_and_global_pooling_learn_the_digits(batch_norm_cnn, digits):
    X, y = digits
    assert isinstance(
        batch_norm_cnn.model_.get_layer("block2_conv1_bn"),
        keras.layers.BatchNormalization,
    )
    assert batch_norm_cnn.score(X, y) > 0.9


def test_batch_norm_predicts_in_inference_mode(batch_norm_cnn, digits):
    # In training mode, batch normalization would use each batch's statistics: a
    # prediction would depend on the images it is batched with.
    X, _ = digits
    alone = batch_norm_cnn.predict_proba(X[:1])
    in_batch = batch_norm_cnn.predict_proba(X[:40])[:1]
    reversed_batch = batch_norm_cnn.predict_proba(X[:40][::-1])[-1:]
    np.testing.assert_allclose(alone, in_batch, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(alone, reversed_batch, rtol=1e-5, atol=1e-6)


# --------------------------------------------------- test-time augmentation
@pytest.mark.parametrize(
    "value, augment, backbone, channels, expected",
    [
        ("auto", "auto", None, 3, "flip"),
        ("auto", {"flip": "horizontal", "zoom": 0.1}, None, 3, "flip"),
        ("auto", {"flip": "horizontal_and_vertical"}, None, 3, "flip"),
        ("auto", "auto", None, 1, None),  # grayscale
        ("auto", "auto", "mobilenet_v3_small", 3, None),  # a backbone
        ("auto", None, None, 3, None),  # trained without flips
        ("auto", {"flip": "vertical"}, None, 3, None),
        ("auto", {"zoom": 0.1}, None, 3, None),
        ("flip", None, "resnet50", 1, "flip"),  # given: as given
        (None, "auto", None, 3, None),
    ],
)
def test_test_time_augmentation_auto_rule(value, augment, backbone, channels, expected):
    from skcnn._architecture import resolve_test_time_augmentation

    got = resolve_test_time_augmentation(
        value, augment=augment, backbone=backbone, channels=channels
    )
    assert got == expected


def test_mirror_averaged_is_the_mean_with_the_mirror_image():
    from skcnn._architecture import mirror_averaged

    model = build_cnn((5, 7, 3), (4,), augment=None, rescale=1 / 255, seed=0)
    images = np.random.default_rng(0).uniform(0, 255, (6, 5, 7, 3)).astype("float32")
    averaged = mirror_averaged(model)
    # The mirror image, left and right swapped (the width, not the height), exactly.
    mirror = keras.Model(averaged.input, averaged.get_layer("width_back").output)
    np.testing.assert_array_equal(mirror(images).numpy(), images[:, :, ::-1])
    expected = (model(images).numpy() + model(images[:, :, ::-1]).numpy()) / 2
    got = averaged(images).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert np.abs(got - model(images).numpy()).max() > 1e-4  # not the image alone
    assert not averaged.get_layer("mirror").trainable
