"""CNNBinaryClassifier(backbone=...): transfer learning inside the estimator
(skcnn/_transfer.py and its use by skcnn/_classifier.py)."""

import subprocess
import sys

import joblib
import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

import skcnn
import skcnn._transfer
from skcnn import CNNBinaryClassifier
from skcnn._backbones import backbone_layers, build_backbone, get_backbone

from .conftest import write_pngs

BACKBONE = "mobilenet_v3_small"


def write_backbone_weights(path):
    """Write, at ``path``, the weights of a random MobileNetV3-Small whose batch
    normalization statistics are those of random images: its features vary
    from image to image (with Keras' initial statistics, they are ~1e-11 for
    every image). Returns ``path`` as str."""
    rng = np.random.RandomState(1)
    X = rng.randint(0, 256, (16, 32, 32, 3)).astype(np.float32)
    model = build_backbone(BACKBONE, (32, 32, 3), weights=None)
    backbone = get_backbone(model)
    for layer in backbone.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.0  # the moving statistics become the batch's
    model(X, training=True)
    backbone.save_weights(path)
    return str(path)


@pytest.fixture(scope="module")
def weights_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    return write_backbone_weights(folder / f"{BACKBONE}.weights.h5")


@pytest.fixture(scope="module")
def data():
    """40 RGB uint8 images of 32x32 pixels; class 1 is brighter."""
    rng = np.random.RandomState(0)
    y = np.array([0, 1] * 20)
    X = rng.randint(0, 200, (40, 32, 32, 3)) + 55 * y[:, None, None, None]
    return X.astype(np.uint8), y


@pytest.fixture(scope="module")
def base_params(weights_path):
    return {
        "backbone": BACKBONE,
        "weights": weights_path,
        "epochs": 2,
        "batch_size": 8,
        "learning_rate": 0.01,
        "random_state": 0,
    }


@pytest.fixture
def params(base_params):
    return dict(base_params)


# Fitted models shared by several tests (never re-fitted there): each fit builds
# and traces a backbone, the bulk of this file's time.
@pytest.fixture(scope="module")
def frozen(base_params, data):
    """Fitted with the backbone frozen (its features computed once)."""
    return CNNBinaryClassifier(**base_params).fit(*data)


_FINE_TUNING = {
    "fine_tune_layers": 12,
    "fine_tune_epochs": 2,
    "fine_tune_learning_rate": 1e-2,
}


@pytest.fixture(scope="module")
def fine_tuned(base_params, data):
    """Fitted with the top 12 layers of the backbone fine-tuned."""
    return CNNBinaryClassifier(**base_params, **_FINE_TUNING).fit(*data)


def _weights_by_layer(model):
    return {
        layer.name: [w.numpy().copy() for w in layer.weights]
        for layer in backbone_layers(model)
        if layer.weights
    }


def _same(a, b):
    return len(a) == len(b) and all(
        np.array_equal(x, y) for x, y in zip(a, b, strict=True)
    )


def test_parameters_get_params_and_clone(params):
    clf = CNNBinaryClassifier(**params, fine_tune_layers="all", fine_tune_epochs=3)
    got = clf.get_params()
    assert got["backbone"] == BACKBONE
    assert got["fine_tune_layers"] == "all"
    assert got["fine_tune_epochs"] == 3
    assert got["fine_tune_learning_rate"] == 1e-5
    assert clone(clf).get_params() == got
    default = CNNBinaryClassifier()
    assert default.backbone is None and default.weights == "imagenet"
    assert default.fine_tune_layers == 0


def test_features_once_equals_training_through_the_backbone(params, data, monkeypatch):
    X, y = data
    params = {
        **params,
        "dense_units": (8,),
        "dropout": 0.25,
        "early_stopping": True,
        "validation_fraction": 0.25,
        "epochs": 3,
    }
    fast = CNNBinaryClassifier(**params).fit(X, y)
    monkeypatch.setattr(CNNBinaryClassifier, "_features_once", False)
    slow = CNNBinaryClassifier(**params).fit(X, y)
    np.testing.assert_allclose(
        fast.predict_proba(X), slow.predict_proba(X), rtol=1e-4, atol=1e-5
    )
    assert fast.history_.keys() == slow.history_.keys()
    for key in fast.history_:
        np.testing.assert_allclose(fast.history_[key], slow.history_[key], rtol=1e-4)
    assert (fast.n_iter_, fast.best_epoch_) == (slow.n_iter_, slow.best_epoch_)
    # the network learnt something (else equal predictions prove little)
    assert np.ptp(fast.predict_proba(X)[:, 1]) > 0.05


def test_features_are_computed_once_per_fit(params, data, monkeypatch):
    X, y = data
    calls = []
    original = skcnn._transfer.backbone_features

    def spy(est, features_model, X, infos):
        calls.append(len(X))
        return original(est, features_model, X, infos)

    monkeypatch.setattr(skcnn._transfer, "backbone_features", spy)
    CNNBinaryClassifier(**{**params, "epochs": 3}).fit(X, y)
    assert calls == [len(X)]
    # with augmentation, something random precedes the backbone: no cache
    calls.clear()
    CNNBinaryClassifier(**params, augment={"flip": "horizontal"}).fit(X, y)
    assert calls == []


def test_model_is_one_network_taking_images(frozen, data):
    X, y = data
    clf = frozen
    assert clf.model_.input_shape == (None, 32, 32, 3)
    assert clf.model_.compiled
    assert get_backbone(clf.model_).name == BACKBONE
    np.testing.assert_allclose(
        clf.model_.predict(X, verbose=0)[:, 0], clf.predict_proba(X)[:, 1], atol=1e-5
    )


def test_random_state_reproducible(fine_tuned, data):
    X, y = data
    again = clone(fine_tuned).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), fine_tuned.predict_proba(X))
    assert again.history_ == fine_tuned.history_


def test_fit_on_files_equals_fit_on_arrays(params, frozen, data, tmp_path):
    X, y = data
    paths = write_pngs(tmp_path, X)
    on_arrays = frozen
    on_files = CNNBinaryClassifier(**params, image_shape=(32, 32, 3)).fit(paths, y)
    np.testing.assert_allclose(
        on_files.predict_proba(paths), on_arrays.predict_proba(X), rtol=1e-5
    )
    assert on_files.pixel_range_ == (0, 255)


def test_float_images_in_0_1_are_scaled_to_0_255(params, frozen, data):
    X, y = data
    on_uint8 = frozen
    on_floats = CNNBinaryClassifier(**params).fit(X / 255, y)
    assert on_floats.pixel_range_ == (0, 1)
    np.testing.assert_allclose(
        on_floats.predict_proba(X / 255), on_uint8.predict_proba(X), atol=1e-4
    )


def test_grayscale_images_and_progress_when_verbose(params, data, capsys):
    X, y = data
    gray = X[..., 0]  # (n, 32, 32): one channel
    clf = CNNBinaryClassifier(**{**params, "epochs": 1}, verbose=2).fit(gray, y)
    # Keras prints one line for the features (predict), then one per epoch.
    out = capsys.readouterr().out
    assert out.count("step") >= 2, out
    assert clf.image_shape_ == (32, 32, 1)
    assert clf.predict_proba(gray).shape == (len(y), 2)


def test_too_small_images_name_the_minimum(params):
    X = np.zeros((4, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="at least 32x32 pixels"):
        CNNBinaryClassifier(**params).fit(X, [0, 1, 0, 1])
    assert not hasattr(CNNBinaryClassifier(**params), "model_")


@pytest.mark.parametrize("features_once", [True, False])
def test_frozen_backbone_keeps_the_weights_of_the_file(
    params, frozen, data, weights_path, features_once, monkeypatch
):
    X, y = data
    if features_once:
        clf = frozen  # the default
    else:
        monkeypatch.setattr(CNNBinaryClassifier, "_features_once", False)
        clf = CNNBinaryClassifier(**params).fit(X, y)
    from_file = _weights_by_layer(
        build_backbone(BACKBONE, (32, 32, 3), weights=weights_path)
    )
    fitted = _weights_by_layer(clf.model_)
    assert fitted.keys() == from_file.keys()
    for name in fitted:
        assert _same(fitted[name], from_file[name]), name
    assert clf.n_iter_ == params["epochs"]


def test_fine_tuning_changes_the_top_layers_only(
    params, fine_tuned, data, weights_path
):
    n_top = _FINE_TUNING["fine_tune_layers"]
    clf = fine_tuned
    before = _weights_by_layer(
        build_backbone(BACKBONE, (32, 32, 3), weights=weights_path)
    )
    after = _weights_by_layer(clf.model_)
    layers = backbone_layers(clf.model_)
    top = {layer.name for layer in layers[-n_top:]}
    changed = {name for name in after if not _same(after[name], before[name])}
    assert changed, "fine-tuning changed no layer"
    assert changed <= top, sorted(changed - top)
    batch_norms = {
        layer.name
        for layer in layers
        if isinstance(layer, keras.layers.BatchNormalization)
    }
    assert batch_norms & top  # the top holds BN layers, which stay unchanged
    assert not changed & batch_norms  # incl. moving mean and variance
    unfrozen = {layer.name for layer in layers[-n_top:] if layer.weights} - batch_norms
    assert changed == unfrozen
    assert clf.n_iter_ == params["epochs"] + 2
    assert all(len(v) == clf.n_iter_ for v in clf.history_.values())
    assert clf.best_epoch_ == clf.n_iter_


def test_fine_tuning_all_layers_with_early_stopping(params, data, weights_path):
    X, y = data
    clf = CNNBinaryClassifier(
        **params,
        fine_tune_layers="all",
        fine_tune_epochs=2,
        fine_tune_learning_rate=1e-2,
        early_stopping=True,
        validation_fraction=0.25,
    ).fit(X, y)
    # Early stopping counts the epochs of both phases.
    assert params["epochs"] < clf.n_iter_ <= params["epochs"] + 2
    assert len(clf.history_["val_loss"]) == clf.n_iter_
    assert params["epochs"] < clf.best_epoch_ <= clf.n_iter_
    before = _weights_by_layer(
        build_backbone(BACKBONE, (32, 32, 3), weights=weights_path)
    )
    after = _weights_by_layer(clf.model_)
    first_conv = next(
        layer.name
        for layer in backbone_layers(clf.model_)
        if isinstance(layer, keras.layers.Conv2D)
    )
    assert not _same(after[first_conv], before[first_conv])
    for layer in backbone_layers(clf.model_):
        if isinstance(layer, keras.layers.BatchNormalization):
            assert _same(after[layer.name], before[layer.name]), layer.name


def test_grid_search_over_backbone_and_fine_tuning(params, data):
    X, y = data
    base = CNNBinaryClassifier(
        **{**params, "epochs": 1}, filters=(4,), fine_tune_epochs=1
    )
    grid = [
        {"backbone": [None]},  # fine_tune_layers does not apply
        {"backbone": [BACKBONE], "fine_tune_layers": [0, 2]},
    ]
    # One split (3 fits and the refit): what is tested is the grid, not the folds.
    split = [next(StratifiedKFold(2, shuffle=True, random_state=0).split(X, y))]
    search = GridSearchCV(base, grid, cv=split, scoring="roc_auc").fit(X, y)
    assert len(search.cv_results_["params"]) == 3
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.predict_proba(X).shape == (len(y), 2)


def test_joblib_and_skcnn_save_round_trip_in_a_new_process(fine_tuned, data, tmp_path):
    X, y = data
    clf = fine_tuned
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", clf.predict_proba(X))
    skcnn.save(clf, tmp_path / "clf.skcnn")
    joblib.dump(clf, tmp_path / "clf.pkl")
    code = f"""
import joblib, numpy as np, skcnn
folder = {str(tmp_path)!r}
X = np.load(f"{{folder}}/X.npy")
expected = np.load(f"{{folder}}/expected.npy")
for model in [skcnn.load(f"{{folder}}/clf.skcnn"), joblib.load(f"{{folder}}/clf.pkl")]:
    assert model.backbone == {BACKBONE!r}, model.backbone
    assert model.fine_tune_layers == 12
    assert np.array_equal(model.predict_proba(X), expected)
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_models_pickled_before_backbone_load_without_one():
    clf = CNNBinaryClassifier(filters=(4,))
    state = clf.__getstate__()
    new = {
        "backbone": None,
        "weights": "imagenet",
        "fine_tune_layers": 0,
        "fine_tune_epochs": 10,
        "fine_tune_learning_rate": 1e-5,
    }
    for name in new:
        del state[name]
    old = CNNBinaryClassifier.__new__(CNNBinaryClassifier)
    old.__setstate__(state)
    # what they were fitted with, whatever the defaults become
    assert {name: CNNBinaryClassifier._SAVED_WITHOUT[name] for name in new} == new
    assert old.get_params() == {**clf.get_params(), **new}


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ({"backbone": "vgg16"}, InvalidParameterError, "'backbone' parameter"),
        ({"fine_tune_layers": -1}, InvalidParameterError, "'fine_tune_layers'"),
        ({"fine_tune_layers": "top"}, InvalidParameterError, "'fine_tune_layers'"),
        ({"fine_tune_epochs": 0}, InvalidParameterError, "'fine_tune_epochs'"),
        (
            {"fine_tune_learning_rate": 0.0},
            InvalidParameterError,
            "'fine_tune_learning_rate'",
        ),
        ({"weights": 3}, InvalidParameterError, "'weights' parameter"),
        ({"weights": "/no/such.weights.h5"}, FileNotFoundError, "No weights file"),
    ],
)
def test_bad_parameters_give_clear_errors(params, data, bad, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        CNNBinaryClassifier(**{**params, **bad}).fit(X[:8], y[:8])


def test_four_channel_images_are_refused(params):
    X = np.zeros((4, 32, 32, 4), np.uint8)
    with pytest.raises(ValueError, match="1 \\(grayscale\\) or 3 \\(RGB\\) channels"):
        CNNBinaryClassifier(**params).fit(X, [0, 1, 0, 1])
