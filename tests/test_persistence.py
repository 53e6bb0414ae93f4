"""skcnn.save / skcnn.load (skops + .keras safe mode), version records in
pickles, atomic writes, tampered and corrupted files, export of the network."""

import json
import os
import pickle
import subprocess
import sys
import warnings
import zipfile

import joblib
import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skcnn
from skcnn import CNNBinaryClassifier, ImageLoader, make_baseline


@pytest.fixture(scope="module")
def path_pipeline(tmp_path_factory, digits):
    """An ImageLoader + CNN pipeline fitted on PNG files, and the paths."""
    X, y = digits
    folder = tmp_path_factory.mktemp("pngs")
    paths = []
    for i, image in enumerate(X[:60]):
        path = folder / f"{i}.png"
        Image.fromarray(image[..., 0]).save(path)
        paths.append(str(path))
    model = make_pipeline(
        ImageLoader((8, 8), color_mode="grayscale"),
        CNNBinaryClassifier(filters=(4,), epochs=2, verbose=0, random_state=0),
    )
    return model.fit(paths, y[:60]), np.array(paths)


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


def test_unfitted_estimator_round_trip(tmp_path):
    cnn = CNNBinaryClassifier(filters=(3, 5), dropout=0.25, augment={"flip": True})
    skcnn.save(cnn, tmp_path / "unfitted.skcnn")
    loaded = skcnn.load(tmp_path / "unfitted.skcnn")
    assert loaded.get_params() == cnn.get_params()
    assert not hasattr(loaded, "model_")


def test_what_cannot_be_saved_safely_is_refused(tmp_path, digits):
    X, y = digits
    cnn = CNNBinaryClassifier(filters=(2,), epochs=1, verbose=0)
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
    with pytest.warns(skcnn.InconsistentVersionWarning) as record:
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
    with pytest.warns(skcnn.InconsistentVersionWarning, match="tensorflow 2.15.1"):
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
