"""skcnn.save / skcnn.load (skops + .keras safe mode) of a CNN and of every
composition scikit-learn offers, the types trusted by default, version records
in pickles, atomic writes (save, export, `skcnn train --out`), tampered,
corrupted and other files, export of the network and its metadata."""

import copy
import importlib
import inspect
import json
import os
import pathlib
import pickle
import subprocess
import sys
import warnings
import zipfile

import joblib
import keras
import numpy as np
import pytest
import sklearn
import tensorflow as tf
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, TunedThresholdClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skcnn
from skcnn import CNNBinaryClassifier, ImageLoader, make_baseline
from skcnn._persist import _cnns, save_model_file
from skcnn._trust import _SKLEARN_TYPES

from .conftest import write_pngs

DATA = pathlib.Path(__file__).parent / "data"


def _digit_pngs(folder, X):
    """The first 60 images of ``X`` as grayscale PNG files; their paths."""
    return write_pngs(folder, X[:60], name="{}.png").astype(str)


@pytest.fixture(scope="module")
def path_pipeline(tmp_path_factory, digits):
    """An ImageLoader + CNN pipeline fitted on PNG files, and the paths."""
    X, y = digits
    paths = _digit_pngs(tmp_path_factory.mktemp("pngs"), X)
    model = make_pipeline(
        ImageLoader((8, 8), color_mode="grayscale"),
        CNNBinaryClassifier(
            augment=None, filters=(4,), epochs=2, verbose=0, random_state=0
        ),
    )
    return model.fit(paths, y[:60]), paths


def _rewrite(path, member, data):
    """Replace one member of the zip archive at ``path``."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[member] = data
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def test_save_load_cnn_bit_identical(tmp_path, fitted_cnn, digits):
    X, y = digits
    path = tmp_path / "cnn.skcnn"
    skcnn.save(fitted_cnn, path)
    loaded = skcnn.load(path)
    assert isinstance(loaded, CNNBinaryClassifier)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted_cnn.predict_proba(X))
    assert loaded.get_params() == fitted_cnn.get_params()
    np.testing.assert_array_equal(loaded.classes_, fitted_cnn.classes_)
    assert loaded.history_ == fitted_cnn.history_
    # the original still has its network
    assert isinstance(fitted_cnn.model_, keras.Model)


def test_save_load_pipelines_in_a_new_process(tmp_path, path_pipeline, digits):
    X, y = digits
    pipeline, paths = path_pipeline
    baseline = make_baseline().fit(X, y)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "paths.npy", paths)
    for name, model, data in [("pipe", pipeline, paths), ("base", baseline, X)]:
        skcnn.save(model, tmp_path / f"{name}.skcnn")
        np.save(tmp_path / f"{name}_expected.npy", model.predict_proba(data))
    code = f"""
import numpy as np, skcnn
folder = {str(tmp_path)!r}
for name, data in [("pipe", "paths"), ("base", "X")]:
    model = skcnn.load(f"{{folder}}/{{name}}.skcnn")
    data = np.load(f"{{folder}}/{{data}}.npy")
    expected = np.load(f"{{folder}}/{{name}}_expected.npy")
    assert np.array_equal(model.predict_proba(data), expected), name
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


@pytest.mark.parametrize("suffix", ["skcnn", "pkl"])  # pkl: joblib.dump
@pytest.mark.parametrize("name", ["pipeline", "baseline"])
# 460cafb: skcnn as landed before issues 10 and 11 (no `metrics` parameter yet);
# 0fbd84e: after issue 10, before the restructure of issue 11.
@pytest.mark.parametrize("saved_by", ["460cafb", "0fbd84e"])
def test_models_saved_before_load_and_predict_the_same(
    tmp_path, digits, name, suffix, saved_by
):
    # tests/data/make_saved_models.py wrote the files with the code of that
    # commit: an ImageLoader + CNN pipeline fitted on 60 PNG files of digits,
    # and make_baseline() fitted on the digits' arrays.
    X, _ = digits
    folder = DATA / saved_by
    with zipfile.ZipFile(folder / f"{name}.skcnn") as archive:
        saved = json.loads(archive.read("manifest.json"))["versions"]
    installed = {
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "scikit-learn": sklearn.__version__,
    }
    different = {
        library: (saved[library], version)
        for library, version in installed.items()
        if saved[library].split(".")[:2] != version.split(".")[:2]
    }
    if different:
        pytest.skip(f"saved under other versions (saved, installed): {different}")
    path = folder / f"{name}.{suffix}"
    with warnings.catch_warnings():
        # skcnn's own version may have moved on since the files were written.
        warnings.simplefilter("ignore", skcnn.VersionMismatchWarning)
        model = skcnn.load(path) if suffix == "skcnn" else joblib.load(path)
    data = _digit_pngs(tmp_path, X) if name == "pipeline" else X
    expected = np.load(folder / f"{name}_proba.npy")
    # Bit-identical on the machine that wrote the files; on another CPU oneDNN may
    # pick other kernels: 1.2e-7 apart (a float32 rounding) seen on an AMD EPYC
    # without AVX-512. A wrong network or preprocessing is far more than 1e-6 off.
    np.testing.assert_allclose(model.predict_proba(data), expected, rtol=0, atol=1e-6)
    # Parameters added since take the value the model was fitted with.
    params = clone(model).get_params()
    if name == "pipeline":
        assert params["cnnbinaryclassifier__metrics"] == (
            None if saved_by == "460cafb" else ("accuracy",)
        )
        # Saved before it existed: predicting on the images alone, as then.
        assert params["cnnbinaryclassifier__test_time_augmentation"] is None
    assert repr(model)


def test_unfitted_estimator_round_trip(tmp_path):
    cnn = CNNBinaryClassifier(filters=(3, 5), dropout=0.25, augment={"flip": True})
    skcnn.save(cnn, tmp_path / "unfitted.skcnn")
    loaded = skcnn.load(tmp_path / "unfitted.skcnn")
    assert loaded.get_params() == cnn.get_params()
    assert not hasattr(loaded, "model_")


def test_what_cannot_be_saved_safely_is_refused(tmp_path, digits):
    X, y = digits
    cnn = CNNBinaryClassifier(augment=None, filters=(2,), epochs=1, verbose=0)
    cnn.set_params(optimizer=keras.optimizers.SGD()).fit(X[:40], y[:40])
    with pytest.raises(TypeError, match="optimizer instance"):
        skcnn.save(cnn, tmp_path / "x.skcnn")
    assert not os.path.exists(tmp_path / "x.skcnn")


def test_untrusted_type_is_refused_and_can_be_trusted(tmp_path, digits):
    # A function of the os module in a pipeline: skops stores it by name; load
    # refuses it, names it, and runs nothing. Trusting it explicitly loads it.
    X, y = digits
    model = make_pipeline(FunctionTransformer(os.getcwd), make_baseline())
    path = tmp_path / "untrusted.skcnn"
    skcnn.save(model, path)
    untrusted = skcnn.get_untrusted_types(path)
    assert untrusted == ["posix.getcwd"] or untrusted == ["nt.getcwd"]
    with pytest.raises(ValueError, match=r"not trusted.*getcwd.*trusted=\[\.\.\.\]"):
        skcnn.load(path)
    loaded = skcnn.load(path, trusted=untrusted)
    assert loaded.steps[0][1].func is os.getcwd


class _Payload:
    """Unpickling this creates a marker folder: code run from the file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickle_payload_is_refused_and_not_run(tmp_path, fitted_cnn):
    path = tmp_path / "cnn.skcnn"
    skcnn.save(fitted_cnn, path)
    marker = tmp_path / "pwned"
    _rewrite(path, "estimator.skops", pickle.dumps(_Payload(str(marker))))
    with pytest.raises(ValueError, match="corrupted or not skcnn's"):
        skcnn.load(path)
    assert not marker.exists()
    # joblib.load of the same pickle would run it: the safe format is the point.
    with open(tmp_path / "payload.pkl", "wb") as f:
        pickle.dump(_Payload(str(marker)), f)
    joblib.load(tmp_path / "payload.pkl")
    assert marker.exists()


def test_keras_lambda_layer_is_refused_and_not_run(tmp_path, fitted_cnn):
    path = tmp_path / "cnn.skcnn"
    skcnn.save(fitted_cnn, path)
    marker = tmp_path / "pwned_by_lambda"
    code = (
        f"lambda x: (__import__('os').makedirs({str(marker)!r}, exist_ok=True), x)[1]"
    )
    inputs = keras.Input((8, 8, 1))
    outputs = keras.layers.Dense(1)(
        keras.layers.Flatten()(keras.layers.Lambda(eval(code))(inputs))
    )
    evil = keras.Model(inputs, outputs)
    evil.save(tmp_path / "evil.keras")
    os.rmdir(marker)  # building the model ran the lambda: the marker works
    _rewrite(path, "models/0.keras", (tmp_path / "evil.keras").read_bytes())
    with pytest.raises(ValueError, match="Refusing to load the network.*lambda"):
        skcnn.load(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda b: b[: len(b) // 2], "truncated or corrupted"),
        (lambda b: b[:100], "truncated or corrupted"),
        (lambda b: b"", "truncated or corrupted"),
        (lambda b: os.urandom(2000), "truncated or corrupted"),
        (lambda b: b[:-300] + bytes(300), "truncated or corrupted"),
    ],
    ids=["half", "100 bytes", "empty", "random bytes", "zeroed end"],
)
def test_corrupted_file_gives_a_clear_error(tmp_path, fitted_cnn, damage, match):
    path = tmp_path / "cnn.skcnn"
    skcnn.save(fitted_cnn, path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=match) as info:
        skcnn.load(path)
    assert str(path) in str(info.value)


def test_not_a_model_file(tmp_path, fitted_cnn):
    with pytest.raises(FileNotFoundError, match="No such model file"):
        skcnn.load(tmp_path / "missing.skcnn")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        skcnn.load(tmp_path)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "something"}))
    with pytest.raises(ValueError, match="not a skcnn model file"):
        skcnn.load(other)
    joblib.dump(fitted_cnn, tmp_path / "cnn.joblib")
    with pytest.raises(ValueError, match="not a skcnn model file"):
        skcnn.load(tmp_path / "cnn.joblib")


def test_version_mismatch_warns_naming_them(tmp_path, fitted_cnn):
    path = tmp_path / "cnn.skcnn"
    skcnn.save(fitted_cnn, path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["versions"]["keras"] = "2.15.0"
    manifest["versions"]["scikit-learn"] = "1.2.2"
    _rewrite(path, "manifest.json", json.dumps(manifest).encode())
    with pytest.warns(skcnn.VersionMismatchWarning) as record:
        skcnn.load(path)
    message = str(record[0].message)
    assert f"keras 2.15.0 (installed: {keras.__version__})" in message
    assert "scikit-learn 1.2.2" in message
    assert "tensorflow" not in message  # same version: not named


def test_joblib_records_versions_and_warns(tmp_path, fitted_cnn, digits):
    X, _ = digits
    state = fitted_cnn.__getstate__()
    assert set(state["_skcnn_versions"]) == {
        "skcnn",
        "keras",
        "tensorflow",
        "scikit-learn",
    }
    path = tmp_path / "cnn.joblib"
    joblib.dump(fitted_cnn, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same versions: no warning
        loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted_cnn.predict_proba(X))
    assert not hasattr(loaded, "_skcnn_versions")

    state["_skcnn_versions"] = {**state["_skcnn_versions"], "tensorflow": "2.15.1"}
    clone = CNNBinaryClassifier.__new__(CNNBinaryClassifier)
    with pytest.warns(skcnn.VersionMismatchWarning, match="tensorflow 2.15.1"):
        clone.__setstate__(state)
    for estimator in [ImageLoader(), make_baseline().fit(X, digits[1])[-1]]:
        assert "_skcnn_versions" in estimator.__getstate__()


class _Boom(Exception):
    pass


@pytest.mark.parametrize("error", [_Boom, KeyboardInterrupt])
def test_interrupted_save_leaves_the_previous_file(
    tmp_path, fitted_cnn, digits, monkeypatch, error
):
    X, _ = digits
    path = tmp_path / "cnn.skcnn"
    skcnn.save(fitted_cnn, path)
    before = path.read_bytes()

    def fail(self, *args, **kwargs):
        with open(args[0], "wb") as f:
            f.write(b"partial")  # something was written when it stopped
        raise error()

    monkeypatch.setattr(keras.Model, "save", fail)
    with pytest.raises(error):
        skcnn.save(fitted_cnn, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["cnn.skcnn"]  # no temporary left
    np.testing.assert_array_equal(
        skcnn.load(path).predict_proba(X), fitted_cnn.predict_proba(X)
    )


def test_export_keras(tmp_path, fitted_cnn, path_pipeline, digits):
    X, _ = digits
    path = tmp_path / "net.keras"
    skcnn.export_keras(fitted_cnn, path)
    network = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        network.predict(X, verbose=0)[:, 0],
        fitted_cnn.predict_proba(X)[:, 1],
        rtol=1e-6,
    )
    pipeline, _ = path_pipeline
    skcnn.export_keras(pipeline, tmp_path / "pipe.keras")
    assert keras.saving.load_model(tmp_path / "pipe.keras").input_shape == (
        None,
        8,
        8,
        1,
    )
    with pytest.raises(ValueError, match="must end with .keras"):
        skcnn.export_keras(fitted_cnn, tmp_path / "net.h5")
    with pytest.raises(TypeError, match="needs a CNNBinaryClassifier"):
        skcnn.export_keras(make_baseline(), tmp_path / "b.keras")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        skcnn.export_keras(CNNBinaryClassifier(), tmp_path / "u.keras")


# ---------------------------------------------------------------- compositions
def _cnn():
    return CNNBinaryClassifier(
        augment=None, filters=(4,), epochs=2, verbose=0, random_state=0
    )


def _pipeline_on_paths(X, y, fitted_cnn, path_pipeline):
    pipeline, paths = path_pipeline
    return pipeline, paths


def _grid_search(X, y, fitted_cnn, path_pipeline):
    grid = {"dropout": [0.25, 0.5]}
    search = GridSearchCV(_cnn(), grid, cv=2, scoring="roc_auc", refit=True)
    return search.fit(X, y), X


def _calibrated(X, y, fitted_cnn, path_pipeline):
    return CalibratedClassifierCV(_cnn(), cv=2).fit(X, y), X


def _calibrated_frozen(X, y, fitted_cnn, path_pipeline):
    return CalibratedClassifierCV(FrozenEstimator(fitted_cnn)).fit(X, y), X


def _tuned_threshold(X, y, fitted_cnn, path_pipeline):
    return TunedThresholdClassifierCV(_cnn(), cv=2).fit(X, y), X


def _stacking(X, y, fitted_cnn, path_pipeline):
    estimators = [("cnn", _cnn()), ("baseline", make_baseline())]
    return StackingClassifier(estimators, cv=2).fit(X, y), X


def _voting(X, y, fitted_cnn, path_pipeline):
    estimators = [("cnn", _cnn()), ("baseline", make_baseline())]
    return VotingClassifier(estimators, voting="soft").fit(X, y), X


@pytest.mark.parametrize(
    "build",
    [
        _pipeline_on_paths,
        pytest.param(_grid_search, marks=pytest.mark.slow),
        _calibrated,
        _calibrated_frozen,
        pytest.param(_tuned_threshold, marks=pytest.mark.slow),
        pytest.param(_stacking, marks=pytest.mark.slow),
        _voting,
    ],
    ids=lambda build: build.__name__.strip("_"),
)
def test_compositions_save_and_load(tmp_path, digits, fitted_cnn, path_pipeline, build):
    # Each composition of a CNN that scikit-learn offers: saved, reported as
    # holding nothing untrusted, loaded with its networks, predicting the same
    # probabilities bit for bit.
    X, y = digits
    model, data = build(X, y, fitted_cnn, path_pipeline)
    fitted = [cnn for cnn in _cnns(model) if hasattr(cnn, "model_")]
    assert fitted  # the search found the networks of the composition
    path = tmp_path / "model.skcnn"
    skcnn.save(model, path)
    assert all(isinstance(cnn.model_, keras.Model) for cnn in fitted)
    assert skcnn.get_untrusted_types(path) == []
    loaded = skcnn.load(path)
    assert type(loaded) is type(model)
    networks = [cnn.model_ for cnn in _cnns(loaded) if hasattr(cnn, "model_")]
    assert len(networks) == len(fitted)
    assert all(isinstance(network, keras.Model) for network in networks)
    np.testing.assert_array_equal(loaded.predict_proba(data), model.predict_proba(data))
    if hasattr(model, "named_estimators_"):  # a Bunch, rebuilt with its keys
        assert list(loaded.named_estimators_) == list(model.named_estimators_)


def test_trusted_scikit_learn_types_exist():
    # The names trusted by default are those of scikit-learn's classes and of
    # its metric functions: a renamed or moved one would be refused, silently.
    for name in _SKLEARN_TYPES:
        module, _, attribute = name.rpartition(".")
        obj = getattr(importlib.import_module(module), attribute)
        assert isinstance(obj, type) or (
            inspect.isfunction(obj) and module.startswith("sklearn.metrics.")
        ), name


def test_scikit_learn_function_is_not_trusted_by_default(tmp_path):
    # Trusting scikit-learn's types is a list, not its whole namespace: this
    # function runs Python code given as a string.
    from sklearn.utils._testing import assert_run_python_script_without_output

    model = make_pipeline(
        FunctionTransformer(assert_run_python_script_without_output), make_baseline()
    )
    path = tmp_path / "runs_code.skcnn"
    skcnn.save(model, path)
    name = "sklearn.utils._testing.assert_run_python_script_without_output"
    assert skcnn.get_untrusted_types(path) == [name]
    with pytest.raises(ValueError, match=f"not trusted.*{name}"):
        skcnn.load(path)


def test_network_the_search_cannot_find_is_a_clear_type_error(tmp_path, fitted_cnn):
    # A network held by an object that is not scikit-learn's or skcnn's: no
    # 1,000-frame RecursionError from skops.
    class Holder:
        def __init__(self, network):
            self.network = network

    model = make_pipeline(FunctionTransformer(kw_args={"h": Holder(fitted_cnn)}))
    with pytest.raises(TypeError, match="recursed without end.*use joblib"):
        skcnn.save(model, tmp_path / "x.skcnn")
    assert not os.path.exists(tmp_path / "x.skcnn")


# ------------------------------------------------------- files of other formats
@pytest.mark.parametrize(
    "compress", [0, 3, ("gzip", 3), ("bz2", 3), ("xz", 3)], ids=str
)
def test_joblib_file_is_named_as_such(tmp_path, fitted_cnn, compress):
    path = tmp_path / "model.joblib"
    joblib.dump(fitted_cnn, path, compress=compress)
    message = (
        r"'.*model\.joblib' is not a skcnn model file: it looks like a joblib or "
        r"pickle file\. Load it with joblib\.load only if you trust it"
    )
    with pytest.raises(ValueError, match=message):
        skcnn.load(path)
    if compress != ("bz2", 3):  # bz2 decodes whole blocks, of 300 kB here
        path.write_bytes(path.read_bytes()[:1000])  # truncated: still recognised
    with pytest.raises(ValueError, match=message):
        skcnn.get_untrusted_types(path)


def test_pickle_file_is_named_as_such(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="looks like a joblib or pickle file"):
        skcnn.load(path)


def test_zip_archives_that_are_not_model_files(tmp_path, fitted_cnn):
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("data.csv", "a,b\n")
    with pytest.raises(
        ValueError,
        match=r"other\.zip' is not a skcnn model file: it is a zip archive "
        r"without the manifest\.json",
    ):
        skcnn.load(other)
    skcnn.export_keras(fitted_cnn, tmp_path / "net.keras")
    with pytest.raises(
        ValueError, match=r"not a skcnn model file: it looks like a Keras model"
    ):
        skcnn.load(tmp_path / "net.keras")


# --------------------------------------------------------- export's metadata
def _export_metadata(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("skcnn.json"))


def test_export_keras_records_classes_and_input(tmp_path, fitted_cnn, digits):
    X, _ = digits
    path = tmp_path / "net.keras"
    returned = skcnn.export_keras(fitted_cnn, path)
    # Keras loads the file, extra member and all, in safe mode.
    network = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        network.predict(X, verbose=0)[:, 0],
        fitted_cnn.predict_proba(X)[:, 1],
        rtol=1e-6,
    )
    metadata = _export_metadata(path)
    assert metadata == returned
    assert metadata["classes"] == [7, 8] == fitted_cnn.classes_.tolist()
    assert metadata["positive_class"] == 8
    assert metadata["input_shape"] == [8, 8, 1]
    assert metadata["pixel_range"] == [0, 255]  # uint8 digits, rescaled inside
    assert metadata["test_time_augmentation"] is None
    assert "mirror" not in metadata["description"]
    assert "the probability of class 8" in metadata["description"]
    assert "[0, 255]" in metadata["description"]


def test_export_keras_with_test_time_flips(tmp_path, mirror_cnn, patches):
    X, _ = patches
    path = tmp_path / "net.keras"
    metadata = skcnn.export_keras(mirror_cnn, path)
    assert metadata["test_time_augmentation"] == "flip"
    assert (
        "mean of the network's output on the image and on its mirror image"
        in (metadata["description"])
    )
    network = keras.saving.load_model(path, safe_mode=True)
    expected = mirror_cnn.predict_proba(X)[:, 1]
    np.testing.assert_allclose(network.predict(X, verbose=0)[:, 0], expected, rtol=1e-6)
    # And through skcnn.save, in the estimator.
    skcnn.save(mirror_cnn, tmp_path / "m.skcnn")
    loaded = skcnn.load(tmp_path / "m.skcnn")
    np.testing.assert_array_equal(loaded.predict_proba(X)[:, 1], expected)


@pytest.mark.parametrize(
    "pixel_range, expected, words",
    [
        ((0, 1), [0, 1], "float pixels in [0, 1]"),
        ((0, 255), [0, 255], "pixels in [0, 255]"),
        (None, None, "the scale the estimator was fitted on"),
        ("missing", [0, 255], "pixels in [0, 255]"),  # older fits: the network's
    ],
)
def test_export_keras_records_pixel_range(
    tmp_path, fitted_cnn, pixel_range, expected, words
):
    cnn = copy.copy(fitted_cnn)
    if pixel_range == "missing":
        vars(cnn).pop("pixel_range_", None)
    else:
        cnn.pixel_range_ = pixel_range
    skcnn.export_keras(cnn, tmp_path / "net.keras")
    metadata = _export_metadata(tmp_path / "net.keras")
    assert metadata["pixel_range"] == expected
    assert words in metadata["description"]


# ----------------------------------------------- interrupted writes, other files
def _fail_after_partial_write(error, path_argument):
    def fail(*args, **kwargs):
        with open(args[path_argument], "wb") as f:
            f.write(b"partial")  # something was written when it stopped
        raise error()

    return fail


@pytest.mark.parametrize("error", [_Boom, KeyboardInterrupt])
def test_interrupted_export_keras_leaves_the_previous_file(
    tmp_path, fitted_cnn, monkeypatch, error
):
    path = tmp_path / "net.keras"
    skcnn.export_keras(fitted_cnn, path)
    before = path.read_bytes()
    # keras.Model.save(self, filepath): the path is the second argument.
    monkeypatch.setattr(keras.Model, "save", _fail_after_partial_write(error, 1))
    with pytest.raises(error):
        skcnn.export_keras(fitted_cnn, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["net.keras"]  # no temporary left


@pytest.mark.parametrize("error", [_Boom, KeyboardInterrupt])
@pytest.mark.parametrize("name", ["model.joblib", "model.skcnn"])
def test_interrupted_train_out_leaves_the_previous_file(
    tmp_path, path_pipeline, monkeypatch, error, name
):
    # What `skcnn train --out FILE` calls to write the model.
    pipeline, _ = path_pipeline
    path = tmp_path / name
    save_model_file(pipeline, str(path))
    before = path.read_bytes()
    if name.endswith(".joblib"):  # joblib.dump(value, filename)
        monkeypatch.setattr(joblib, "dump", _fail_after_partial_write(error, 1))
    else:
        monkeypatch.setattr(keras.Model, "save", _fail_after_partial_write(error, 1))
    with pytest.raises(error):
        save_model_file(pipeline, str(path))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary left


def test_cosine_schedule_and_weight_decay_save_and_load(tmp_path, digits):
    # The optimizer, with its CosineDecay learning rate, is compiled into the
    # .keras file of skcnn.save, and pickled by joblib.
    X, y = digits
    clf = CNNBinaryClassifier(
        augment=None,
        filters=(4,),
        epochs=2,
        learning_rate_schedule="cosine",
        weight_decay=0.01,
        batch_norm=True,
        global_pooling="max",
        verbose=0,
        random_state=0,
    ).fit(X, y)
    expected = clf.predict_proba(X)
    skcnn.save(clf, tmp_path / "cnn.skcnn")
    joblib.dump(clf, tmp_path / "cnn.pkl")
    for loaded in [
        skcnn.load(tmp_path / "cnn.skcnn"),
        joblib.load(tmp_path / "cnn.pkl"),
    ]:
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)
        assert loaded.get_params() == clf.get_params()
        optimizer = loaded.model_.optimizer
        schedule = optimizer.get_config()["learning_rate"]
        assert schedule["class_name"] == "CosineDecay"
        assert schedule["config"]["decay_steps"] == 2 * 12  # 353 images, batches of 32
        assert optimizer.weight_decay == 0.01
        assert int(optimizer.iterations) == 24
