import random

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.exceptions import NotFittedError
from tensorflow.python.framework.config import is_op_determinism_enabled

import skcnn._classifier
import skcnn._training
from skcnn import CNNBinaryClassifier

from .conftest import MINIMAL, class_sorted, write_pngs


# --------------------------------------------------------------- targets
@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog"]),
        np.array([False, True]),
        np.array([-1, 1]),
        np.array(["NORMAL", "PNEUMONIA"], dtype=object),
    ],
)
def test_any_two_labels(digits, fast_params, labels):
    X, y = digits
    y_labels = labels[(y == 8).astype(int)]
    clf = CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y_labels)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype == y_labels.dtype
    assert set(pred) <= set(labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Column k is the probability of classes_[k]: predict agrees with it.
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, y_labels) == np.mean(pred == y_labels)


def test_decision_function_is_log_odds_of_classes_1(fitted_cnn, digits):
    X, _ = digits
    proba = fitted_cnn.predict_proba(X)[:, 1]
    scores = fitted_cnn.decision_function(X)
    assert scores.shape == (len(X),)
    np.testing.assert_allclose(1 / (1 + np.exp(-scores)), proba, rtol=1e-6)
    np.testing.assert_array_equal(
        fitted_cnn.predict(X), fitted_cnn.classes_[(scores > 0).astype(int)]
    )


def test_learns_the_digits(digits):
    X, y = digits
    clf = CNNBinaryClassifier(**MINIMAL, epochs=15, random_state=0, verbose=0)
    assert clf.fit(X, y).score(X, y) > 0.95


@pytest.mark.parametrize(
    "y, match",
    [
        (
            ["a", "b", "c"] * 4,
            r"binary targets only\. Got 3 classes: \['a', 'b', 'c'\]",
        ),
        ([1] * 12, r"binary targets only\. Got 1 class: \[1\]"),
    ],
)
def test_not_binary_is_a_clear_error(y, match):
    X = np.zeros((12, 4, 4), dtype=np.uint8)
    with pytest.raises(ValueError, match=match):
        CNNBinaryClassifier(verbose=0).fit(X, y)


def test_multiclass_uses_scikit_learn_wording():
    X = np.zeros((6, 4, 4), dtype=np.uint8)
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        CNNBinaryClassifier(verbose=0).fit(X, [0, 1, 2, 0, 1, 2])


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        CNNBinaryClassifier().predict(np.zeros((2, 4, 4)))


# ----------------------------------------------------------------- inputs
def test_image_layouts_agree(digits, fast_params):
    """(n, h, w), (n, h, w, 1) and (n, h*w) with image_shape train the same net."""
    X, y = digits
    probas = []
    for X_in, shape in [
        (X, None),
        (X[..., 0], None),
        (X.reshape(len(X), -1), (8, 8)),
        (X.reshape(len(X), -1), None),  # a square: inferred as 8x8x1
    ]:
        clf = CNNBinaryClassifier(**fast_params, image_shape=shape, random_state=0)
        clf.fit(X_in, y)
        assert clf.image_shape_ == (8, 8, 1)
        assert clf.n_features_in_ == 64
        probas.append(clf.predict_proba(X_in))
    for proba in probas[1:]:
        np.testing.assert_array_equal(proba, probas[0])


@pytest.mark.parametrize(
    "n_features, image_shape, expected",
    [
        (64, None, (8, 8, 1)),
        (48, None, (4, 4, 3)),
        (10, None, (1, 10, 1)),
        (48, (4, 12), (4, 12, 1)),
        (48, (2, 8, 3), (2, 8, 3)),
    ],
)
def test_image_shape_of_flat_pixels(n_features, image_shape, expected):
    X = np.random.RandomState(0).rand(6, n_features)
    clf = CNNBinaryClassifier(
        augment=None, filters=(2,), epochs=1, image_shape=image_shape, verbose=0
    )
    assert clf.fit(X, [0, 1] * 3).image_shape_ == expected


def test_image_shape_mismatch():
    X = np.zeros((4, 48))
    with pytest.raises(ValueError, match=r"image_shape=\(5, 5\) holds 25 pixel values"):
        CNNBinaryClassifier(image_shape=(5, 5), verbose=0).fit(X, [0, 1, 0, 1])


def test_wrong_image_shape_at_predict_says_expected_and_got(fitted_cnn):
    with pytest.raises(ValueError, match=r"images of shape \(9, 9, 1\).*\(8, 8, 1\)"):
        fitted_cnn.predict(np.zeros((2, 9, 9, 1), dtype=np.uint8))
    with pytest.raises(ValueError, match="X has 10 features, but .* expecting 64"):
        fitted_cnn.predict(np.zeros((2, 10)))


def test_uint8_is_scaled_inside_the_network(digits, fast_params):
    """uint8 pixels reach Keras as uint8 and are scaled by the network itself."""
    X, y = digits
    clf = CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y)
    assert isinstance(clf.model_.get_layer("rescaling"), keras.layers.Rescaling)
    # The same pixels given as float 0-255 are scaled the same way.
    np.testing.assert_allclose(
        clf.predict_proba(X.astype(np.float32)), clf.predict_proba(X), rtol=1e-6
    )
    seen = []
    original = skcnn._training.make_dataset

    def spy(X, *args, **kwargs):
        seen.append(X.dtype)
        return original(X, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(skcnn._training, "make_dataset", spy)
        CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y).predict(X)
    assert seen == [np.uint8, np.uint8]


def test_float_input_is_used_as_given(digits, fast_params):
    X, y = digits
    clf = CNNBinaryClassifier(**fast_params, random_state=0).fit(X / 255.0, y)
    assert "rescaling" not in [layer.name for layer in clf.model_.layers]
    # Float pixels already in [0, 1] train the same network as uint8 pixels.
    uint8 = CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y)
    np.testing.assert_allclose(
        clf.predict_proba(X / 255.0), uint8.predict_proba(X), atol=1e-4
    )


# ----------------------------------------------------- training options
def test_early_stopping_splits_class_sorted_data_stratified(digits, monkeypatch):
    X, y = class_sorted(*digits)
    splits = []
    original = skcnn._training.train_test_split

    def record(*args, **kwargs):
        result = original(*args, **kwargs)
        splits.append(result)
        return result

    monkeypatch.setattr(skcnn._training, "train_test_split", record)
    clf = CNNBinaryClassifier(
        augment=None,
        filters=(4,),
        epochs=40,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=2,
        learning_rate=0.03,
        random_state=0,
        verbose=0,
    ).fit(X, y)
    ((train, val),) = splits
    # Both classes in the validation set, in the proportions of the data.
    assert len(val) == int(np.ceil(0.2 * len(X)))
    assert abs(np.mean(y[val] == 8) - np.mean(y == 8)) < 0.02
    assert sorted(np.concatenate([train, val])) == list(range(len(X)))
    assert "val_loss" in clf.history_
    assert clf.n_iter_ == len(clf.history_["loss"]) == len(clf.history_["val_loss"])
    assert clf.n_iter_ < 40
    # The best epoch's weights were restored.
    val_loss = keras.losses.binary_crossentropy(
        (y[val] == 8).astype("float32")[:, None], clf.model_.predict(X[val], verbose=0)
    )
    np.testing.assert_allclose(
        float(np.mean(val_loss)), min(clf.history_["val_loss"]), rtol=1e-4
    )
    # best_epoch_ is the epoch of the lowest validation loss, whose weights are
    # restored, and the validation accuracy recorded then is the model's.
    best = int(np.argmin(clf.history_["val_loss"]))
    assert clf.best_epoch_ == best + 1 < clf.n_iter_
    assert clf.history_["val_accuracy"][best] == pytest.approx(
        np.mean(clf.predict(X[val]) == y[val]), abs=1e-6
    )


def test_without_early_stopping_runs_all_epochs(fitted_cnn):
    assert fitted_cnn.n_iter_ == fitted_cnn.best_epoch_ == 3
    assert sorted(fitted_cnn.history_) == ["accuracy", "loss"]
    assert all(len(v) == 3 for v in fitted_cnn.history_.values())
    # Accuracy per epoch, as the tutorials plot it, not a copy of the loss.
    assert all(0 <= a <= 1 for a in fitted_cnn.history_["accuracy"])
    assert fitted_cnn.history_["accuracy"] != fitted_cnn.history_["loss"]


def test_auto_epochs_resolution():
    resolve = skcnn._training.resolve_epochs
    assert resolve("auto", 999) == 100 and resolve("auto", 1000) == 60
    assert resolve("auto", 10, backbone="mobilenet_v3_small") == 60
    assert resolve(7, 10) == resolve(7, 5000) == 7


@pytest.mark.parametrize("n_samples, epochs", [(19, 3), (20, 2)])
def test_auto_epochs_follow_the_images_fit_on(n_samples, epochs, monkeypatch):
    # The rule scaled down (3 epochs below 20 images, else 2): fit resolves it on
    # the number of images it is given, and the cosine decay spans the epochs
    # resolved (2 steps each), ending near 0.
    monkeypatch.setattr(skcnn._training, "_SMALL_SET", 20)
    monkeypatch.setattr(skcnn._training, "_SMALL_SET_EPOCHS", 3)
    monkeypatch.setattr(skcnn._training, "_AUTO_EPOCHS", 2)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(n_samples, 4, 4, 1), dtype=np.uint8)
    y = np.arange(n_samples) % 2
    params = {**MINIMAL, "filters": (2,), "epochs": "auto", "batch_size": 10}
    params.update(learning_rate_schedule="cosine", verbose=0, random_state=0)
    clf = CNNBinaryClassifier(**params).fit(X, y)
    assert clf.n_iter_ == len(clf.history_["loss"]) == epochs
    assert clf.get_params()["epochs"] == "auto"
    schedule = clf.model_.optimizer.get_config()["learning_rate"]
    assert schedule["config"]["decay_steps"] == 2 * epochs
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0, abs=1e-5)


def test_metrics_parameter(digits, fast_params):
    X, y = digits
    clf = CNNBinaryClassifier(
        **{**fast_params, "epochs": 1, "learning_rate": 1e-9}
        | {"metrics": ["accuracy", "auc"]},
        random_state=0,
    ).fit(X, y)
    assert sorted(clf.history_) == ["accuracy", "auc", "loss"]
    none = CNNBinaryClassifier(**{**fast_params, "metrics": None}, random_state=0)
    none.fit(X, y)
    assert list(none.history_) == ["loss"]
    with pytest.raises(TypeError, match="`metrics` must be a list of Keras metric"):
        CNNBinaryClassifier(**{**fast_params, "metrics": [len]}).fit(X, y)


def test_training_step_is_traced_once_per_fit(digits, fast_params, monkeypatch):
    """TensorFlow traces a ``tf.function`` again when its first trace created
    variables: metrics named by strings, built by Keras inside the first
    training step, would double the tracing time of every fit."""
    X, y = digits
    traces = []
    train_step = keras.Model.train_step

    def counted(model, data):
        traces.append(model)
        return train_step(model, data)

    monkeypatch.setattr(keras.Model, "train_step", counted)
    clf = CNNBinaryClassifier(
        **{**fast_params, "epochs": 2, "metrics": ["accuracy", "AUC"]}, random_state=0
    )
    for _ in range(2):
        traces.clear()
        clf.fit(X, y)
        assert len(traces) == 1
    assert sorted(clf.history_) == ["AUC", "accuracy", "loss"]
    # "accuracy" is still the binary accuracy Keras gives a sigmoid output.
    final = CNNBinaryClassifier(
        **{**fast_params, "epochs": 1, "learning_rate": 1e-12, "dropout": 0.0}
        | {"metrics": ("accuracy",)},
        early_stopping=False,
        random_state=0,
    ).fit(X, y)
    expected = np.mean(final.predict(X) == y)
    assert 0.2 < expected < 0.8
    assert final.history_["accuracy"][0] == pytest.approx(expected, abs=1e-6)


def test_quiet_by_default(digits, capsys):
    """scikit-learn's convention: a quiet estimator; verbose=2 prints per epoch
    lines in fit, and no line per predict call."""
    X, y = digits
    clf = CNNBinaryClassifier(augment=None, filters=(4,), epochs=2, random_state=0)
    assert clf.verbose == 0
    clf.fit(X, y).predict_proba(X)
    assert capsys.readouterr() == ("", "")
    clf.set_params(verbose=2).fit(X, y)
    assert "Epoch 2/2" in capsys.readouterr().out
    clf.predict_proba(X)
    clf.predict(X[:5])
    assert capsys.readouterr() == ("", "")


def test_no_retracing_warnings_from_many_models():
    """Meta-estimators fit and predict many models in one process: TensorFlow must
    not warn that they "triggered tf.function retracing". In a new process:
    TensorFlow warns at most twice per process for a function, so earlier tests
    could hide the warning."""
    import subprocess
    import sys

    script = (
        "from sklearn.model_selection import TunedThresholdClassifierCV\n"
        "from skcnn import CNNBinaryClassifier\n"
        "from skcnn.datasets import load_digits_pair\n"
        "X, y = load_digits_pair(return_X_y=True)\n"
        "cnn = CNNBinaryClassifier(\n"
        "    augment=None, filters=(2,), epochs=1, random_state=0\n"
        ")\n"
        "TunedThresholdClassifierCV(cnn, cv=5).fit(X, y)\n"
        "print('done')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.stdout.split() == ["done"], result.stderr[-2000:]
    assert "retracing" not in result.stderr


# ------------------------------------------------------------ pixel scale
@pytest.fixture(scope="module")
def uint8_cnn(digits):
    X, y = digits
    return CNNBinaryClassifier(
        augment=None, filters=(4,), epochs=3, random_state=0
    ).fit(X, y)


def test_pixel_scale_is_recorded(uint8_cnn, digits, fast_params):
    X, y = digits
    assert uint8_cnn.pixel_range_ == (0, 255)
    unit = CNNBinaryClassifier(**fast_params, random_state=0).fit(X / 255.0, y)
    assert unit.pixel_range_ == (0, 1)
    wide = CNNBinaryClassifier(**fast_params, random_state=0).fit(X * 1.0, y)
    assert wide.pixel_range_ == (0, 255)
    standardized = (X - X.mean()) / X.std()
    other = CNNBinaryClassifier(**fast_params, random_state=0).fit(standardized, y)
    assert other.pixel_range_ is None
    # Neither scale: not checked at predict.
    other.predict(standardized * 0.001)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function"])
def test_floats_in_0_1_refused_by_a_uint8_model(uint8_cnn, digits, method):
    X, _ = digits
    with pytest.raises(ValueError) as info:
        getattr(uint8_cnn, method)(X.astype("float32") / 255)
    message = str(info.value)
    assert "trained on pixels in [0, 255]" in message
    assert "float32 pixels in [0, 1]" in message
    # The same images in the trained scale are accepted, as floats too.
    getattr(uint8_cnn, method)(X.astype("float32"))
    # An all-black image is the same in both scales.
    getattr(uint8_cnn, method)(np.zeros((2, 8, 8, 1), dtype="float32"))


def test_0_255_refused_by_a_0_1_model(digits, fast_params, tmp_path):
    from PIL import Image

    X, y = digits
    unit = CNNBinaryClassifier(**fast_params, random_state=0).fit(X / 255.0, y)
    unit.predict(X[:4] / 255.0)
    for pixels in (X[:4], X[:4].astype("float64")):
        with pytest.raises(ValueError, match=r"trained on pixels in \[0, 1\].*up to"):
            unit.predict(pixels)
    path = tmp_path / "seven.png"
    Image.fromarray(X[0, ..., 0]).save(path)
    unit = CNNBinaryClassifier(**fast_params, image_shape=(8, 8, 1), random_state=0)
    unit.fit(X / 255.0, y)
    with pytest.raises(ValueError, match="X holds image files"):
        unit.predict([str(path)])


# ---------------------------------------------------- errors, short and exact
def test_one_image_for_a_batch_is_named(uint8_cnn, digits):
    X, y = digits
    with pytest.raises(
        ValueError,
        match=r"X is one image of shape \(8, 8, 1\).*"
        r"X\[np.newaxis\]",
    ):
        uint8_cnn.predict(X[0])
    gray = CNNBinaryClassifier(augment=None, filters=(2,), epochs=1, random_state=0)
    gray.fit(X[..., 0], y)
    with pytest.raises(ValueError, match=r"X is one image of shape \(8, 8\)"):
        gray.predict(X[0, ..., 0])
    # One flattened image is a batch of one, as fitted.
    flat = CNNBinaryClassifier(augment=None, filters=(2,), epochs=1, random_state=0)
    flat.fit(X.reshape(len(X), -1), y)
    assert flat.predict(X[:1].reshape(1, -1)).shape == (1,)


def test_paths_in_a_dataframe_column(digits, tmp_path):
    pd = pytest.importorskip("pandas")

    X, y = digits
    paths = list(write_pngs(tmp_path, X[:40], name="{}.png"))
    df = pd.DataFrame({"path": paths, "other": range(40)})
    params = {"filters": (2,), "epochs": 1, "image_shape": (8, 8, 1), "random_state": 0}
    from_column = CNNBinaryClassifier(**params).fit(df[["path"]], y[:40])
    from_paths = CNNBinaryClassifier(**params).fit(np.array(paths), y[:40])
    np.testing.assert_array_equal(
        from_column.predict_proba(df[["path"]]), from_paths.predict_proba(paths)
    )
    with pytest.raises(
        TypeError,
        match=r"2-D array of shape \(40, 2\) holding "
        "strings.*1-D array or a single column",
    ):
        CNNBinaryClassifier(**params).fit(df[["path", "other"]], y[:40])


@pytest.mark.parametrize(
    "X, match",
    [
        (np.full((10, 8, 8), 1 + 2j), "^Complex data not supported$"),
        (np.zeros(64), "^Expected 2D array, got 1D array instead: Reshape"),
    ],
)
def test_errors_do_not_print_the_pixels(uint8_cnn, X, match):
    with pytest.raises(ValueError, match=match) as info:
        uint8_cnn.predict(X)
    assert len(str(info.value)) < 300


def test_balanced_class_weight_equals_explicit_weights(digits, fast_params):
    X, y = digits
    keep = np.r_[np.flatnonzero(y == 7), np.flatnonzero(y == 8)[:60]]
    X, y = X[keep], y[keep]
    n7, n8 = np.sum(y == 7), np.sum(y == 8)
    balanced = CNNBinaryClassifier(
        **fast_params, class_weight="balanced", random_state=0
    ).fit(X, y)
    explicit = CNNBinaryClassifier(
        **fast_params,
        class_weight={7: len(y) / (2 * n7), 8: len(y) / (2 * n8)},
        random_state=0,
    ).fit(X, y)
    plain = CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y)
    np.testing.assert_allclose(
        balanced.predict_proba(X), explicit.predict_proba(X), rtol=1e-5
    )
    # Upweighting the minority class raises its predicted probability.
    assert balanced.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


def test_sample_weight_of_ones_changes_nothing(digits, fast_params):
    X, y = digits
    a = CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y)
    b = CNNBinaryClassifier(**fast_params, random_state=0).fit(
        X, y, sample_weight=np.ones(len(y))
    )
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_callbacks_are_passed_to_keras(digits, fast_params):
    X, y = digits
    epochs = []
    callback = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: epochs.append(epoch)
    )
    CNNBinaryClassifier(**fast_params, callbacks=[callback]).fit(X, y)
    assert epochs == [0, 1, 2]


def test_optimizer_and_learning_rate(digits, fast_params):
    X, y = digits
    clf = CNNBinaryClassifier(**{**fast_params, "learning_rate": 0.05}, optimizer="sgd")
    clf.fit(X, y)
    assert isinstance(clf.model_.optimizer, keras.optimizers.SGD)
    assert np.isclose(float(clf.model_.optimizer.learning_rate), 0.05)
    template = keras.optimizers.RMSprop(rho=0.8)
    clf = CNNBinaryClassifier(**fast_params, optimizer=template)
    clf.fit(X, y)
    assert isinstance(clf.model_.optimizer, keras.optimizers.RMSprop)
    assert clf.model_.optimizer is not template
    assert np.isclose(clf.model_.optimizer.rho, 0.8)
    with pytest.raises(ValueError, match="optimizer.*'adamm'"):
        CNNBinaryClassifier(**fast_params, optimizer="adamm").fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"dropout": 1.5}, "dropout"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"class_weight": "auto"}, "class_weight"),
        ({"filters": (4, 4, 4, 4), "padding": "valid"}, "below 1 pixel"),
    ],
)
def test_bad_parameters(digits, params, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        CNNBinaryClassifier(verbose=0, **params).fit(X, y)


def test_nan_pixels_are_rejected(digits):
    X, y = digits
    X = X.astype(np.float32)
    X[3, 2, 2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        CNNBinaryClassifier(verbose=0).fit(X, y)


# ------------------------------------------------ reproducible and clean
def test_same_random_state_same_model(digits, fast_params):
    X, y = digits
    params = {**fast_params, "filters": (4, 8), "dropout": 0.3, "early_stopping": True}
    a = CNNBinaryClassifier(**params, random_state=7).fit(X, y)
    b = CNNBinaryClassifier(**params, random_state=7).fit(X, y)
    c = CNNBinaryClassifier(**params, random_state=8).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_fit_leaves_global_state_unchanged(digits, fast_params):
    X, y = digits
    np.random.seed(123)
    random.seed(123)
    before = (
        is_op_determinism_enabled(),
        keras.config.dtype_policy().name,
        keras.config.floatx(),
        random.getstate(),
    )
    numpy_before = np.random.get_state()
    CNNBinaryClassifier(**{**fast_params, "dropout": 0.2}, random_state=0).fit(
        X, y
    ).predict(X)
    after = (
        is_op_determinism_enabled(),
        keras.config.dtype_policy().name,
        keras.config.floatx(),
        random.getstate(),
    )
    assert after == before
    for a, b in zip(np.random.get_state(), numpy_before, strict=True):
        np.testing.assert_array_equal(a, b)
    # An unseeded model afterwards still trains (no "Random ops require a seed").
    tf.random.uniform((2,))
    CNNBinaryClassifier(**fast_params).fit(X, y)


def test_params_are_not_mutated(digits, fast_params):
    X, y = digits
    callbacks = [keras.callbacks.History()]
    filters = [4]
    clf = CNNBinaryClassifier(
        **{**fast_params, "filters": filters}, callbacks=callbacks, early_stopping=True
    )
    clf.fit(X, y)
    assert clf.callbacks is callbacks and len(callbacks) == 1
    assert clf.filters is filters and filters == [4]


def test_fit_on_paths_names_every_missing_file(digits, tmp_path):
    """Streaming from paths with early stopping: missing files of the training and
    of the validation part are named in one error, before training."""

    X, y = digits
    paths = list(write_pngs(tmp_path, X[:40], name="{:02d}.png"))
    missing = [paths[i] for i in range(0, 40, 5)]  # in both parts of the split
    for path in missing:
        (tmp_path / path).unlink()
    clf = CNNBinaryClassifier(
        augment=None,
        filters=(2,),
        epochs=1,
        image_shape=(8, 8, 1),
        early_stopping=True,
        validation_fraction=0.25,
        random_state=0,
    )
    with pytest.raises(ValueError) as info:
        clf.fit(paths, y[:40])
    assert sorted(info.value.filenames) == sorted(missing)
    for path in missing:
        assert path in str(info.value)
    assert "find_bad_images" in str(info.value)


def test_weight_decay_shrinks_the_weights(digits, fast_params):
    X, y = digits

    def kernel_norm(clf):
        return sum(float(np.sum(w**2)) for w in clf.model_.get_weights())

    plain = CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y)
    decayed = CNNBinaryClassifier(**fast_params, weight_decay=1.0, random_state=0)
    decayed.fit(X, y)
    assert decayed.model_.optimizer.weight_decay == 1.0
    assert kernel_norm(decayed) < 0.8 * kernel_norm(plain)


class _LearningRates(keras.callbacks.Callback):
    """The optimizer's learning rate and step count at the end of each epoch."""

    def on_train_begin(self, logs=None):
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        optimizer = self.model.optimizer
        self.seen.append((int(optimizer.iterations), float(optimizer.learning_rate)))


def test_cosine_learning_rate_schedule(digits, fast_params):
    X, y = digits
    rates = _LearningRates()
    params = {**fast_params, "epochs": 4, "batch_size": 50, "learning_rate": 0.01}
    params["learning_rate_schedule"] = "cosine"
    clf = CNNBinaryClassifier(**params, callbacks=[rates]).fit(X, y)
    steps = 4 * 8  # 353 images in batches of 50: 8 steps per epoch
    assert [step for step, _ in rates.seen] == [8, 16, 24, 32]
    expected = [
        0.5 * 0.01 * (1 + np.cos(np.pi * step / steps)) for step, _ in rates.seen
    ]
    np.testing.assert_allclose([rate for _, rate in rates.seen], expected, atol=1e-8)
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_plateau_learning_rate_schedule(
    digits, fast_params, early_stopping, monkeypatch
):
    # A learning rate so small that the loss stays flat: ReduceLROnPlateau halves the
    # rate after every max(1, n_iter_no_change // 2) = 2 epochs without improvement.
    X, y = digits
    monitors = []

    class Recording(keras.callbacks.ReduceLROnPlateau):
        def __init__(self, **kwargs):
            monitors.append(kwargs["monitor"])
            super().__init__(**kwargs)

    monkeypatch.setattr(keras.callbacks, "ReduceLROnPlateau", Recording)
    clf = CNNBinaryClassifier(
        **{
            **fast_params,
            "epochs": 7,
            "learning_rate": 1e-9,
            "dropout": 0.0,
            "learning_rate_schedule": "plateau",
        },
        n_iter_no_change=5,
        early_stopping=early_stopping,
        random_state=0,
    ).fit(X, y)
    halvings = [0, 0, 0, 1, 1, 2, 2][: clf.n_iter_]  # early stopping: 6 epochs
    assert clf.n_iter_ >= 6
    assert monitors == ["val_loss" if early_stopping else "loss"]
    np.testing.assert_allclose(
        clf.history_["learning_rate"], [1e-9 * 0.5**k for k in halvings], rtol=1e-6
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"weight_decay": "big"}, "weight_decay"),
        ({"learning_rate_schedule": "step"}, "learning_rate_schedule"),
    ],
)
def test_bad_training_parameters(digits, params, match):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        CNNBinaryClassifier(verbose=0, **params).fit(X, y)


def test_batch_norm_predicts_well_after_a_short_fit(digits, fast_params):
    # 36 training steps: BatchNormalization's moving statistics must follow the
    # batches quickly (momentum 0.9). With Keras' default 0.99 the moving variance
    # stays near its initial 1 and inference-mode predictions are near chance
    # (0.507 measured).
    X, y = digits
    params = {**fast_params, "global_pooling": "average", "batch_norm": True}
    clf = CNNBinaryClassifier(**params, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.85


# --------------------------------------------------- test-time augmentation
def _logit(p):
    return np.log(p) - np.log1p(-p)


def test_test_time_flip_averages_the_mirror_images(mirror_cnn, patches, tmp_path):
    X, _ = patches
    assert mirror_cnn.test_time_augmentation == "auto"  # resolved to "flip"
    plain = mirror_cnn.model_.predict(X, verbose=0)[:, 0]
    mirrored = mirror_cnn.model_.predict(X[:, :, ::-1], verbose=0)[:, 0]
    proba = mirror_cnn.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], (plain + mirrored) / 2, rtol=1e-6)
    assert np.abs(proba[:, 1] - plain).max() > 1e-3  # not the image alone
    np.testing.assert_allclose(proba[:, 0], 1 - proba[:, 1])
    np.testing.assert_allclose(
        mirror_cnn.decision_function(X), _logit(proba[:, 1]), rtol=1e-6
    )
    expected = mirror_cnn.classes_[(proba[:, 1] > 0.5).astype(int)]
    np.testing.assert_array_equal(mirror_cnn.predict(X), expected)
    # Streamed from image files: the same mirror images, the same predictions.
    paths = write_pngs(tmp_path, X)
    np.testing.assert_allclose(mirror_cnn.predict_proba(paths), proba, atol=1e-6)


def test_test_time_augmentation_is_read_when_predicting(mirror_cnn, patches):
    X, _ = patches
    plain = mirror_cnn.model_.predict(X, verbose=0)[:, 0]
    mirrored = mirror_cnn.model_.predict(X[:, :, ::-1], verbose=0)[:, 0]
    try:
        mirror_cnn.set_params(test_time_augmentation=None)
        np.testing.assert_allclose(mirror_cnn.predict_proba(X)[:, 1], plain, rtol=1e-6)
        # "flip" whatever the images and the augmentation.
        mirror_cnn.set_params(test_time_augmentation="flip", augment=None)
        got = mirror_cnn.predict_proba(X)[:, 1]
        np.testing.assert_allclose(got, (plain + mirrored) / 2, rtol=1e-6)
    finally:
        mirror_cnn.set_params(
            test_time_augmentation="auto", augment={"flip": "horizontal"}
        )


def test_test_time_augmentation_auto_is_off_for_grayscale(digits):
    X, y = digits
    params = {
        **MINIMAL,
        "filters": (4,),
        "epochs": 1,
        "augment": {"flip": "horizontal"},
    }
    cnn = CNNBinaryClassifier(**params, random_state=0).fit(X, y)
    plain = cnn.model_.predict(X, verbose=0)[:, 0]
    np.testing.assert_allclose(cnn.predict_proba(X)[:, 1], plain, rtol=1e-6)
    cnn.set_params(test_time_augmentation="flip")
    assert np.abs(cnn.predict_proba(X)[:, 1] - plain).max() > 1e-4
