import keras
import numpy as np
import pytest

from skcnn import CNNBinaryClassifier, build_cnn

COVID_RECIPE = {"shear": 0.2, "zoom": 0.2, "flip": "horizontal"}
EVERYTHING = {
    "flip": "horizontal_and_vertical",
    "rotation": 0.1,
    "zoom": 0.2,
    "shear": 0.2,
    "translation": 0.1,
    "contrast": 0.2,
}


def test_covid_recipe_layers():
    model = build_cnn((32, 32, 3), filters=(4,), rescale=1 / 255, augment=COVID_RECIPE)
    kinds = [type(layer).__name__ for layer in model.layers[1:5]]
    assert kinds == ["RandomFlip", "RandomZoom", "RandomShear", "Rescaling"]
    # Augmentation adds no trainable parameter.
    assert model.count_params() == build_cnn((32, 32, 3), filters=(4,)).count_params()


def test_every_augmentation_builds_and_trains(digits, fast_params):
    X, y = digits
    clf = CNNBinaryClassifier(**{**fast_params, "augment": EVERYTHING}, random_state=0)
    clf.fit(X, y)
    names = [layer.name for layer in clf.model_.layers]
    assert [n for n in names if n.startswith("augment_")] == [
        "augment_flip",
        "augment_rotation",
        "augment_zoom",
        "augment_shear",
        "augment_translation",
        "augment_contrast",
    ]
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_augmentation_only_while_training(digits, fast_params):
    X, y = digits
    augmented = CNNBinaryClassifier(
        **{**fast_params, "augment": COVID_RECIPE}, random_state=0
    ).fit(X, y)
    plain = CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y)
    # Training saw augmented images: the weights differ from plain training.
    assert not np.array_equal(augmented.predict_proba(X), plain.predict_proba(X))
    # Prediction is deterministic and equals the same weights without the
    # augmentation layers: nothing random happens at predict time.
    proba = augmented.predict_proba(X)
    np.testing.assert_array_equal(proba, augmented.predict_proba(X))
    bare = build_cnn(
        (8, 8, 1), filters=(8,), rescale=1 / 255, global_pooling=None, augment=None
    )
    for layer in bare.layers:
        if layer.weights:
            layer.set_weights(augmented.model_.get_layer(layer.name).get_weights())
    np.testing.assert_allclose(
        bare.predict(X, verbose=0)[:, 0], proba[:, 1], rtol=1e-5, atol=1e-7
    )


def test_augmentation_is_reproducible(digits, fast_params):
    X, y = digits
    a, b = (
        CNNBinaryClassifier(
            **{**fast_params, "augment": EVERYTHING}, random_state=3
        ).fit(X, y)
        for _ in range(2)
    )
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize(
    "augment, error, match",
    [
        ({"blur": 0.1}, ValueError, r"keys must be among .*\['blur'\]"),
        ({"flip": "diagonal"}, ValueError, "flip"),
        ({"zoom": 1.5}, ValueError, "zoom"),
        ({"rotation": -0.1}, ValueError, "rotation"),
        ({"zoom": 0.1, "interpolation": "cubic"}, ValueError, "interpolation"),
    ],
)
def test_bad_augment(digits, augment, error, match):
    X, y = digits
    with pytest.raises(error, match=match):
        CNNBinaryClassifier(augment=augment, verbose=0).fit(X, y)


def test_interpolation_applies_to_the_geometric_augmentations():
    augment = {**EVERYTHING, "interpolation": "nearest"}
    model = build_cnn((16, 16, 1), filters=(4,), augment=augment)
    resampling = [layer for layer in model.layers if hasattr(layer, "interpolation")]
    names = [layer.name for layer in resampling]
    assert names == [
        "augment_rotation",
        "augment_zoom",
        "augment_shear",
        "augment_translation",
    ]
    assert all(layer.interpolation == "nearest" for layer in resampling)
    default = build_cnn((16, 16, 1), filters=(4,), augment=EVERYTHING)
    bilinear = [getattr(layer, "interpolation", None) for layer in default.layers]
    assert [i for i in bilinear if i is not None] == ["bilinear"] * 4
    # Nearest-neighbour resampling keeps the pixel values: no blur.
    image = np.random.default_rng(0).integers(0, 256, (1, 16, 16, 1)).astype("float32")
    zoom = keras.layers.RandomZoom(0.2, interpolation="nearest", seed=1)
    blurred = keras.layers.RandomZoom(0.2, seed=1)
    kept = set(np.unique(np.asarray(zoom(image, training=True))))
    assert kept <= set(np.unique(image)) | {0.0}
    assert not set(np.unique(np.asarray(blurred(image, training=True)))) <= set(
        np.unique(image)
    )


def test_augmented_model_pickles(digits, fast_params):
    import pickle

    X, y = digits
    clf = CNNBinaryClassifier(**{**fast_params, "augment": EVERYTHING}, random_state=0)
    clf.fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    assert isinstance(copy.model_.get_layer("augment_shear"), keras.layers.RandomShear)
    assert copy.model_.get_layer("augment_shear").x_factor == (-0.2, 0.2)
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))


def test_auto_augmentation_is_the_default_recipe():
    model = build_cnn((32, 32, 3), filters=(4,))  # augment="auto"
    layers = {layer.name: layer for layer in model.layers if "augment" in layer.name}
    assert list(layers) == [
        "augment_flip",
        "augment_rotation",
        "augment_zoom",
        "augment_translation",
    ]
    assert layers["augment_flip"].mode == "horizontal"
    assert layers["augment_rotation"].factor == (-0.05, 0.05)
    assert layers["augment_zoom"].height_factor == 0.1
    assert layers["augment_translation"].width_factor == 0.1
    # Resampled with nearest neighbours: no blur (see AUTO_AUGMENT's comment).
    for name in ("augment_rotation", "augment_zoom", "augment_translation"):
        assert layers[name].interpolation == "nearest"
    assert not any(
        "augment" in layer.name
        for layer in build_cnn((32, 32, 3), filters=(4,), augment=None).layers
    )


def test_unknown_augment_string_is_refused(digits):
    X, y = digits
    with pytest.raises(ValueError, match="augment"):
        CNNBinaryClassifier(augment="strong").fit(X, y)
    with pytest.raises(TypeError, match='must be a dict, "auto" or None'):
        build_cnn((8, 8, 1), augment="strong")
