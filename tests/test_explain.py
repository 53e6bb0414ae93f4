"""skcnn.explain.grad_cam: Grad-CAM heatmaps of fitted CNNs and pipelines."""

import joblib
import keras
import numpy as np
import pytest
import tensorflow as tf
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skcnn
from skcnn import CNNBinaryClassifier, ImageLoader
from skcnn._backbones import get_backbone
from skcnn.explain import grad_cam

from .conftest import TINY, write_pngs

SIDE = 32
TOP_LEFT = np.s_[:, : SIDE // 2, : SIDE // 2]  # a quarter of the image


def squares(n, seed):
    """n grayscale uint8 images of dark noise; class 1 (odd indices) has a
    bright 6x6 square somewhere in the top-left quarter, class 0 none."""
    rng = np.random.RandomState(seed)
    X = rng.randint(0, 64, (n, SIDE, SIDE, 1)).astype(np.uint8)
    y = np.arange(n) % 2
    for i in np.flatnonzero(y):
        row, col = rng.randint(0, SIDE // 2 - 6, 2)
        X[i, row : row + 6, col : col + 6] = 255
    return X, y


def check_heatmaps(heatmaps, n, size):
    """Heatmaps of the documented shape, type and range, each map's maximum 1
    unless it is all zeros."""
    assert heatmaps.shape == (n, *size)
    assert heatmaps.dtype == np.float32
    assert np.isfinite(heatmaps).all()
    assert heatmaps.min() >= 0 and heatmaps.max() <= 1
    peaks = heatmaps.max(axis=(1, 2))
    assert np.all((peaks == 1) | (peaks == 0))


def mass_in(heatmaps, region):
    """The fraction of each heatmap's sum inside ``region``."""
    return heatmaps[region].sum(axis=(1, 2)) / heatmaps.sum(axis=(1, 2))


@pytest.fixture(scope="module")
def squares_cnn():
    """A small network (global average pooling) that separates squares()."""
    X, y = squares(200, seed=0)
    return CNNBinaryClassifier(
        filters=(4, 8),
        dropout=0.0,
        augment=None,
        learning_rate=0.01,
        learning_rate_schedule=None,
        epochs=5,
        random_state=0,
    ).fit(X, y)


@pytest.fixture(scope="module")
def squares_test():
    return squares(40, seed=1)


@pytest.fixture(scope="module")
def bn_cnn(digits):
    """One block with batch normalization (and the default augmentation)."""
    X, y = digits
    params = {**TINY, "filters": (4,), "batch_size": 32, "augment": "auto"}
    params["batch_norm"] = True
    return CNNBinaryClassifier(**params, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def backbone_cnn():
    """MobileNetV3-Small, random weights, on 64x64 grayscale images (its last
    feature map is 2x2)."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, (16, 64, 64, 1)).astype(np.uint8)
    y = np.arange(16) % 2
    clf = CNNBinaryClassifier(
        backbone="mobilenet_v3_small",
        weights=None,
        epochs=1,
        batch_size=8,
        random_state=0,
    )
    return clf.fit(X, y), X


# ------------------------------------------------------------------ meaning
def test_heatmaps_show_the_evidence_for_each_class(squares_cnn, squares_test):
    X, y = squares_test
    assert squares_cnn.score(X, y) >= 0.95
    positives = X[y == 1]

    heatmaps = grad_cam(squares_cnn, positives)
    check_heatmaps(heatmaps, len(positives), (SIDE, SIDE))
    assert heatmaps.max(axis=(1, 2)).min() == 1
    # The square, the evidence for class 1, holds most of the heatmap's mass.
    assert mass_in(heatmaps, TOP_LEFT).mean() > 0.8
    assert_array_equal(grad_cam(squares_cnn, positives, target_class=1), heatmaps)

    # The evidence for class 0 is anywhere but at the square: less than the
    # quarter's share of the mass.
    negative = grad_cam(squares_cnn, positives, target_class=0)
    check_heatmaps(negative, len(positives), (SIDE, SIDE))
    assert negative.max(axis=(1, 2)).min() == 1
    assert mass_in(negative, TOP_LEFT).mean() < 0.25


def cam(model, features, X, sign, size, mirrored=False):
    """CAM (Zhou et al., CVPR 2016) of the network ``model`` whose ``features``
    tensor is globally average pooled, then weighed by the output unit: the
    feature maps weighted by the output weights (negated for ``sign`` -1),
    without the negative part, upsampled to ``size``, divided by the maximum.
    ``mirrored``: plus, before the division, the mirror image's, mirrored back."""

    def undivided(X):
        maps = keras.Model(model.inputs[0], features)(X.astype(np.float32)).numpy()
        weights = sign * model.get_layer("output").kernel.numpy()[:, 0]
        cams = tf.image.resize(np.maximum(maps @ weights, 0)[..., None], size)
        return cams.numpy()[..., 0]

    cams = undivided(X)
    if mirrored:
        cams += undivided(X[:, :, ::-1])[:, :, ::-1]
    peaks = cams.max(axis=(1, 2), keepdims=True)
    return np.divide(cams, peaks, out=np.zeros_like(cams), where=peaks > 0)


def test_equals_cam_for_a_global_average_pooling_network(squares_cnn, squares_test):
    """Then Grad-CAM is CAM (Selvaraju et al., section 3.1)."""
    X, _ = squares_test
    model = squares_cnn.model_
    features = model.get_layer("block2_conv1").output
    for target_class, sign in [(1, 1), (0, -1)]:
        expected = cam(model, features, X, sign, (SIDE, SIDE))
        got = grad_cam(squares_cnn, X, target_class=target_class)
        assert_allclose(got, expected, atol=1e-5)


def test_with_test_time_flips(squares_cnn, squares_test):
    """The heatmap of a prediction averaged with the mirror image's: the image's
    map plus the mirror image's mirrored back, so that the heatmap of a mirror
    image is the mirror image of the heatmap."""
    X, _ = squares_test
    model = squares_cnn.model_
    features = model.get_layer("block2_conv1").output
    plain = grad_cam(squares_cnn, X)
    try:
        squares_cnn.set_params(test_time_augmentation="flip")
        for target_class, sign in [(1, 1), (0, -1)]:
            expected = cam(model, features, X, sign, (SIDE, SIDE), mirrored=True)
            got = grad_cam(squares_cnn, X, target_class=target_class)
            check_heatmaps(got, len(X), (SIDE, SIDE))
            assert_allclose(got, expected, atol=1e-5)
        got = grad_cam(squares_cnn, X)
        assert_allclose(
            grad_cam(squares_cnn, X[:, :, ::-1]), got[:, :, ::-1], atol=1e-5
        )
        assert np.abs(got - plain).max() > 0.1
    finally:
        squares_cnn.set_params(test_time_augmentation="auto")


def test_batches_and_input_forms_give_the_same_heatmaps(squares_cnn, squares_test):
    X, _ = squares_test
    expected = grad_cam(squares_cnn, X)
    assert_allclose(grad_cam(squares_cnn, X, batch_size=7), expected, atol=1e-6)
    assert_allclose(grad_cam(squares_cnn, X[..., 0]), expected, atol=1e-6)
    assert_allclose(grad_cam(squares_cnn, X.reshape(len(X), -1)), expected, atol=1e-6)


# ------------------------------------------------------ pipelines and files
def test_pipeline_on_image_files(tmp_path, squares_cnn, squares_test):
    # Files 1.5 times as large, which the pipeline's loader shrinks by "area"
    # interpolation, not as the CNN decodes files itself (bilinear).
    paths = write_pngs(tmp_path / "images", squares_test[0][:16], size=(48, 48))
    loader = ImageLoader(
        (SIDE, SIDE), color_mode="grayscale", interpolation="area", n_jobs=1
    )
    # A pipeline of a stateless loader and a fitted CNN is fitted.
    pipeline = make_pipeline(loader, squares_cnn)

    heatmaps = grad_cam(pipeline, paths)
    check_heatmaps(heatmaps, len(paths), (SIDE, SIDE))
    peaks = heatmaps.max(axis=(1, 2))
    assert (peaks[squares_test[1][:16] == 1] == 1).all()
    assert (peaks == 0).any()  # images without evidence: zeros, not NaN
    assert_allclose(heatmaps, grad_cam(squares_cnn, loader.transform(paths)))

    # The CNN takes the files too, decoding them batch by batch.
    bilinear = ImageLoader((SIDE, SIDE), color_mode="grayscale", n_jobs=1)
    assert_allclose(
        grad_cam(squares_cnn, paths), grad_cam(squares_cnn, bilinear.transform(paths))
    )


def test_saved_and_loaded_estimators_give_the_same_heatmaps(
    tmp_path, squares_cnn, squares_test
):
    X, _ = squares_test
    expected = grad_cam(squares_cnn, X, target_class=0)
    joblib.dump(squares_cnn, tmp_path / "cnn.joblib")
    skcnn.save(squares_cnn, tmp_path / "cnn.skcnn")
    for loaded in [
        joblib.load(tmp_path / "cnn.joblib"),
        skcnn.load(tmp_path / "cnn.skcnn"),
    ]:
        assert_allclose(grad_cam(loaded, X, target_class=0), expected, atol=1e-6)


# ------------------------------------------------------------------- layers
def test_pretrained_backbone(backbone_cnn, tmp_path):
    clf, X = backbone_cnn
    backbone = get_backbone(clf.model_)
    heatmaps = grad_cam(clf, X)
    check_heatmaps(heatmaps, len(X), (64, 64))
    # Random weights: about half the 2x2 maps show no evidence at all.
    assert (heatmaps.max(axis=(1, 2)) == 1).any()
    # By default, the backbone's output; a nested network stands for its output.
    features = clf.model_.get_layer("global_average_pooling").input
    assert_allclose(heatmaps, cam(clf.model_, features, X, 1, (64, 64)), atol=1e-5)
    assert_allclose(grad_cam(clf, X, layer=backbone.name), heatmaps)

    # A layer inside the backbone, of 16x16 feature maps.
    assert backbone.get_layer("expanded_conv_project").output.shape[1:3] == (16, 16)
    inner = grad_cam(clf, X, layer="expanded_conv_project", target_class=0)
    check_heatmaps(inner, len(X), (64, 64))
    assert inner.max(axis=(1, 2)).min() == 1
    assert not np.allclose(inner, heatmaps, atol=0.1)

    joblib.dump(clf, tmp_path / "backbone.joblib")
    loaded = joblib.load(tmp_path / "backbone.joblib")
    assert_allclose(
        grad_cam(loaded, X, layer="expanded_conv_project", target_class=0),
        inner,
        atol=1e-5,
    )


def test_batch_norm_default_layer(bn_cnn, digits):
    X = digits[0][:20]
    heatmaps = grad_cam(bn_cnn, X)
    check_heatmaps(heatmaps, len(X), (8, 8))
    # The default is the convolution's output after its normalization and
    # activation, not the convolution's own.
    assert_allclose(heatmaps, grad_cam(bn_cnn, X, layer="block1_conv1_act"))
    conv = grad_cam(bn_cnn, X, layer="block1_conv1")
    check_heatmaps(conv, len(X), (8, 8))
    assert not np.allclose(conv, heatmaps, atol=0.01)


# ------------------------------------------------------------------- errors
def test_not_fitted(digits):
    X = digits[0][:2]
    with pytest.raises(NotFittedError):
        grad_cam(CNNBinaryClassifier(), X)
    with pytest.raises(NotFittedError):
        grad_cam(make_pipeline(FunctionTransformer(), CNNBinaryClassifier()), X)


def test_errors(bn_cnn, digits):
    X = digits[0][:2]
    with pytest.raises(ValueError, match=r"target_class.*\[7, 8\].*target_class=3"):
        grad_cam(bn_cnn, X, target_class=3)
    with pytest.raises(ValueError, match="no layer named 'conv9'.*'block1_conv1'"):
        grad_cam(bn_cnn, X, layer="conv9")
    with pytest.raises(ValueError, match="spatial feature map.*layer='output'"):
        grad_cam(bn_cnn, X, layer="output")
    with pytest.raises(TypeError, match="`layer` must be a str"):
        grad_cam(bn_cnn, X, layer=3)
    with pytest.raises(ValueError, match="batch_size"):
        grad_cam(bn_cnn, X, batch_size=0)
    logistic = make_pipeline(FunctionTransformer(), LogisticRegression())
    logistic.fit(X.reshape(2, -1), [7, 8])
    with pytest.raises(TypeError, match="last step is a CNNBinaryClassifier"):
        grad_cam(logistic, X)
    with pytest.raises(TypeError, match="Got LogisticRegression"):
        grad_cam(logistic[-1], X)


def test_estimator_and_network_unchanged(backbone_cnn):
    clf, X = backbone_cnn
    proba = clf.predict_proba(X)
    weights = [w.copy() for w in clf.model_.get_weights()]
    config = clf.model_.get_config()
    params = clf.get_params()
    grad_cam(clf, X, layer="expanded_conv_project", target_class=0)
    assert_array_equal(clf.predict_proba(X), proba)
    for after, before in zip(clf.model_.get_weights(), weights, strict=True):
        assert_array_equal(after, before)
    assert clf.model_.get_config() == config  # layers and their connections
    assert clf.get_params() == params
