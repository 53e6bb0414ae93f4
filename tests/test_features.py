"""FeatureExtractor: images to a pretrained backbone's pooled features. Every
network here has random weights (weights=None): nothing is downloaded."""

import subprocess
import sys
import textwrap

import joblib
import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks
from sklearn.utils._param_validation import InvalidParameterError

from skcnn import FeatureExtractor, ImageLoader
from skcnn._backbones import build_backbone, get_backbone
from skcnn._backbones._registry import _set_weights

from .conftest import DATA_FREE_CHECKS, write_pngs

SMALL = {"backbone": "mobilenet_v3_small", "weights": None}


@pytest.fixture(scope="module")
def images():
    """Eight random 32x32 RGB images, uint8."""
    return np.random.RandomState(0).randint(0, 256, (8, 32, 32, 3)).astype(np.uint8)


@pytest.fixture(scope="module")
def fitted(images):
    """Batches of 3: the last of the 8 images is a padded batch."""
    return FeatureExtractor(**SMALL, batch_size=3).fit(images)


@pytest.fixture(scope="module")
def features(fitted, images):
    return fitted.transform(images)


def test_features_shape_type_and_names(fitted, features, images):
    assert features.shape == (8, 576)
    assert features.dtype == np.float32
    assert fitted.image_shape_ == (32, 32, 3)
    assert fitted.n_features_in_ == 32 * 32 * 3
    assert fitted.n_features_out_ == 576
    names = fitted.get_feature_names_out()
    assert names.dtype == object
    assert names.tolist() == [f"mobilenet_v3_small_{i}" for i in range(576)]
    assert fitted.model_.get_layer("mobilenet_v3_small") is get_backbone(fitted.model_)


@pytest.mark.parametrize("pooling", ["average", "max"])
def test_features_are_the_pooled_backbone_output(fitted, pooling):
    """On 64x64 images, whose last feature map is 2x2 (1x1 for 32x32)."""
    images = np.random.RandomState(1).randint(0, 256, (4, 64, 64, 3)).astype(np.uint8)
    extractor = FeatureExtractor(**SMALL, pooling=pooling).fit(images)
    weights = get_backbone(fitted.model_).get_weights()
    _set_weights(get_backbone(extractor.model_), weights)
    backbone = build_backbone("mobilenet_v3_small", (64, 64, 3), weights=None)
    _set_weights(get_backbone(backbone), weights)
    feature_map = keras.ops.convert_to_numpy(backbone(images, training=False))
    assert feature_map.shape == (4, 2, 2, 576)
    reduce = np.mean if pooling == "average" else np.max
    expected = reduce(feature_map, axis=(1, 2))
    # Random weights give features near 1e-11: compared to their largest.
    scale = np.abs(expected).max()
    assert scale > 0
    np.testing.assert_allclose(
        extractor.transform(images) / scale, expected / scale, rtol=0, atol=1e-5
    )


def test_features_do_not_depend_on_the_batch(fitted, features, images):
    np.testing.assert_array_equal(fitted.transform(images[5:6]), features[5:6])
    np.testing.assert_array_equal(fitted.transform(images[::-1]), features[::-1])


def test_fit_learns_nothing_from_the_images(fitted, features, images):
    """fit only reads the images' shape: the same weights give the same
    features, whatever the images fit saw."""
    other = FeatureExtractor(**SMALL, batch_size=3).fit(np.zeros_like(images[:2]))
    _set_weights(get_backbone(other.model_), get_backbone(fitted.model_).get_weights())
    np.testing.assert_array_equal(other.transform(images), features)


def test_float_pixels_in_0_255_are_uint8_pixels(fitted, features, images):
    np.testing.assert_array_equal(fitted.transform(images.astype(np.float64)), features)


def test_float_pixels_in_0_1_are_refused(fitted, images):
    message = (
        r"FeatureExtractor takes pixel values in \[0, 255\] \(as ImageLoader reads "
        r"them\), but X holds float32 pixels in \[0, 1\] \(min 0, max 1\). "
        r"Pass X \* 255."
    )
    with pytest.raises(ValueError, match=message):
        fitted.transform(images / 255.0)
    with pytest.raises(ValueError, match=message):
        clone(fitted).fit(images / 255.0)
    # Black images are pixels in [0, 255] too.
    assert fitted.transform(np.zeros((1, 32, 32, 3))).shape == (1, 576)


def test_grayscale_images_without_channel_axis(images):
    gray = images[..., 0]
    extractor = FeatureExtractor(**SMALL).fit(gray)
    assert extractor.image_shape_ == (32, 32, 1)
    np.testing.assert_array_equal(
        extractor.transform(gray), extractor.transform(gray[..., np.newaxis])
    )


def test_other_image_shape_at_transform_is_refused(fitted, images):
    with pytest.raises(
        ValueError,
        match=r"X has images of shape \(40, 40, 3\), but FeatureExtractor is "
        r"expecting images of shape \(32, 32, 3\)",
    ):
        fitted.transform(np.zeros((2, 40, 40, 3), np.uint8))
    with pytest.raises(ValueError, match=r"shape \(32, 32, 1\), but"):
        fitted.transform(images[..., 0])


def test_flattened_pixels_are_refused(images):
    with pytest.raises(ValueError, match=r"Got an array of shape \(8, 3072\). Reshape"):
        FeatureExtractor(**SMALL).fit(images.reshape(8, -1))


def test_small_images_are_refused_before_building(images):
    message = (
        r"backbone='resnet50' needs images of at least 32x32 pixels. "
        r"Received: X with images of shape \(28, 28, 3\)."
    )
    with pytest.raises(ValueError, match=message):
        FeatureExtractor(backbone="resnet50", weights=None).fit(images[:, :28, :28])
    with pytest.raises(ValueError, match=r"1 \(grayscale\) or 3 \(RGB\) channels"):
        FeatureExtractor(**SMALL).fit(np.zeros((2, 32, 32, 4), np.uint8))


def test_missing_weights_file_is_named(tmp_path, images):
    path = tmp_path / "absent.weights.h5"
    with pytest.raises(FileNotFoundError, match="absent.weights.h5"):
        FeatureExtractor("mobilenet_v3_small", weights=path).fit(images)


def test_weights_file(tmp_path, fitted, features, images):
    path = tmp_path / "small.weights.h5"
    get_backbone(fitted.model_).save_weights(path)
    loaded = FeatureExtractor("mobilenet_v3_small", weights=str(path), batch_size=3)
    loaded.fit(images)
    np.testing.assert_array_equal(loaded.transform(images), features)


@pytest.mark.parametrize(
    "params",
    [
        {"backbone": "resnet5"},
        {"pooling": "avg"},
        {"batch_size": 0},
        {"verbose": -1},
        {"weights": 1},
    ],
)
def test_invalid_parameters(params, images):
    with pytest.raises(InvalidParameterError, match=f"'{next(iter(params))}'"):
        FeatureExtractor(**{**SMALL, **params}).fit(images)


def test_not_fitted(images):
    extractor = FeatureExtractor(**SMALL)
    with pytest.raises(NotFittedError):
        extractor.transform(images)
    with pytest.raises(NotFittedError):
        extractor.get_feature_names_out()


def test_clone_and_params(fitted):
    params = {
        "backbone": "mobilenet_v3_small",
        "weights": None,
        "pooling": "average",
        "batch_size": 3,
        "verbose": 0,
    }
    assert fitted.get_params() == params
    copy = clone(fitted)
    assert copy.get_params() == params
    assert not hasattr(copy, "model_")
    assert copy.set_params(pooling="max").pooling == "max"
    assert FeatureExtractor().get_params()["backbone"] == "efficientnet_lite0"


def test_tags():
    tags = FeatureExtractor().__sklearn_tags__()
    assert tags.input_tags.three_d_array and not tags.input_tags.two_d_array
    assert tags.requires_fit
    assert tags.transformer_tags.preserves_dtype == ["float32"]


def test_pandas_output(fitted, features, images):
    fitted.set_output(transform="pandas")
    try:
        frame = fitted.transform(images)
    finally:
        fitted.set_output(transform="default")
    assert frame.columns[:2].tolist() == [
        "mobilenet_v3_small_0",
        "mobilenet_v3_small_1",
    ]
    np.testing.assert_array_equal(frame.to_numpy(), features)


def test_verbose(fitted, images, capsys):
    fitted.transform(images)
    assert capsys.readouterr() == ("", "")
    loud = clone(fitted).set_params(verbose=1).fit(images)
    loud.transform(images)
    assert "3/3" in capsys.readouterr().out


def test_pipeline_with_image_loader(tmp_path):
    """Files to predictions: ImageLoader, FeatureExtractor, a linear model."""
    rng = np.random.RandomState(0)
    dark = rng.randint(0, 80, (6, 40, 40, 3)).astype(np.uint8)
    bright = rng.randint(170, 256, (6, 40, 40, 3)).astype(np.uint8)
    paths = np.concatenate(
        [write_pngs(tmp_path / "dark", dark), write_pngs(tmp_path / "bright", bright)]
    )
    y = np.array(["dark"] * 6 + ["bright"] * 6)
    pipeline = make_pipeline(
        ImageLoader(image_size=(32, 32)),
        FeatureExtractor(**SMALL, batch_size=4),
        StandardScaler(),
        LogisticRegression(),
    )
    pipeline.fit(paths, y)
    assert set(pipeline.predict(paths)) <= {"dark", "bright"}
    assert pipeline.predict_proba(paths).shape == (12, 2)
    X = ImageLoader(image_size=(32, 32)).transform(paths)
    np.testing.assert_array_equal(
        pipeline[:2].transform(paths), pipeline[1].transform(X)
    )
    assert pipeline[1].get_feature_names_out()[0] == "mobilenet_v3_small_0"


@pytest.mark.slow
def test_joblib_round_trip_in_a_new_process(tmp_path, fitted, features, images):
    joblib.dump(fitted, tmp_path / "extractor.joblib")
    np.save(tmp_path / "images.npy", images)
    code = textwrap.dedent(
        """
        import sys, joblib, numpy as np
        folder = sys.argv[1]
        extractor = joblib.load(folder + "/extractor.joblib")
        features = extractor.transform(np.load(folder + "/images.npy"))
        np.save(folder + "/features.npy", features)
        print(type(extractor).__name__, extractor.model_.name)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.split() == [
        "FeatureExtractor",
        "mobilenet_v3_small_extractor",
    ], result.stderr[-2000:]
    np.testing.assert_array_equal(np.load(tmp_path / "features.npy"), features)


def test_default_backbone_is_efficientnet_lite0(images):
    pytest.importorskip("skcnn._backbones._efficientnet_lite")
    extractor = FeatureExtractor(weights=None).fit(images[:2])
    assert extractor.transform(images[:2]).shape == (2, 1280)
    assert extractor.get_feature_names_out()[-1] == "efficientnet_lite0_1279"


# scikit-learn's check_estimator cannot feed images (the `three_d_array` input
# tag without `two_d_array`) and skips FeatureExtractor with a SkipTestWarning, as
# it does ImageLoader. DATA_FREE_CHECKS are its checks that need no data; what the
# others cover (fit returns self, transform's output, pickling, errors) is tested
# above.
@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_sklearn_checks_without_data(check):
    getattr(estimator_checks, check)("FeatureExtractor", FeatureExtractor(**SMALL))
