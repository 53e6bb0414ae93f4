"""Reading the tensors of a PyTorch ``.pth`` file without PyTorch, and without
letting the file run code.

A ``.pth`` file is a pickle, and unpickling runs whatever callables the file
names. :func:`read_state_dict` reads the legacy format that ``torch.save`` wrote
before PyTorch 1.6 (and still writes with ``_use_new_zipfile_serialization=False``)
with an unpickler that resolves only the few globals a state dict needs and
refuses every other one before it is imported, let alone called.

The legacy format, as read by ``torch.serialization._legacy_load``, is a sequence
of pickles followed by raw data:

1. the magic number ``0x1950A86A20F9469CFC6C``;
2. the protocol version, ``1001``;
3. system information: a dict of ``little_endian`` and type sizes;
4. the object itself. Globals: ``collections.OrderedDict``, the typed storage
   classes (``torch.FloatStorage``, ``torch.LongStorage``, ...) and
   ``torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
   requires_grad, backward_hooks)``. Storages come through ``persistent_load`` as
   ``('storage', storage_type, key, location, numel, view_metadata)``, where
   ``view_metadata`` is None or ``(view_key, offset, size)``, a view into the
   storage ``key``;
5. the list of storage keys;
6. per key, in that order, an int64 element count and the elements, in the byte
   order of the machine that wrote the file (little-endian everywhere in practice).

Since PyTorch 1.6 ``torch.save`` writes a zip archive instead; such files are
refused with a clear error.
"""

import collections
import os
import pickle
import sys
from pathlib import Path

import numpy as np

_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
_PROTOCOL_VERSION = 1001
_ZIP_SIGNATURE = b"PK\x03\x04"

# Typed storages of the legacy format and the numpy dtype of their elements.
_STORAGE_DTYPES = {
    "FloatStorage": np.dtype("float32"),
    "DoubleStorage": np.dtype("float64"),
    "HalfStorage": np.dtype("float16"),
    "LongStorage": np.dtype("int64"),
    "IntStorage": np.dtype("int32"),
    "ShortStorage": np.dtype("int16"),
    "CharStorage": np.dtype("int8"),
    "ByteStorage": np.dtype("uint8"),
    "BoolStorage": np.dtype("bool"),
}


class _RefusedGlobal(pickle.UnpicklingError):
    """A global the file may not use."""


class _StorageType:
    """What ``torch.<Type>Storage`` resolves to: a name and a dtype, not callable."""

    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype


class _StorageRef:
    """A storage named in the pickle, whose elements come after it in the file."""

    __slots__ = ("key", "dtype", "numel", "offset")

    def __init__(self, key, dtype, numel, offset=0):
        self.key = key
        self.dtype = dtype
        self.numel = numel
        self.offset = offset


class _TensorRef:
    """A tensor to build once its storage has been read."""

    __slots__ = ("storage", "storage_offset", "size", "stride")

    def __init__(self, storage, storage_offset, size, stride):
        self.storage = storage
        self.storage_offset = storage_offset
        self.size = size
        self.stride = stride


def _is_int_tuple(value):
    return isinstance(value, tuple) and all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    )


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad, backward_hooks, *metadata
):
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: checks and records."""
    if not (
        isinstance(storage, _StorageRef)
        and isinstance(storage_offset, int)
        and _is_int_tuple(size)
        and _is_int_tuple(stride)
        and len(size) == len(stride)
    ):
        raise pickle.UnpicklingError(
            "_rebuild_tensor_v2 called with unexpected arguments: "
            f"{type(storage).__name__}, {storage_offset!r}, {size!r}, {stride!r}"
        )
    return _TensorRef(storage, storage_offset, size, stride)


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles a state dict; refuses every global but the few it needs."""

    def __init__(self, file, path):
        super().__init__(file)
        self._path = path
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name, _STORAGE_DTYPES[name])
        raise _RefusedGlobal(
            f"{self._path} refers to the global {module}.{name}, which a PyTorch "
            "state dict does not need; refusing to load it. Only "
            "collections.OrderedDict, torch._utils._rebuild_tensor_v2 and the "
            "torch.*Storage types are allowed."
        )

    def persistent_load(self, pid):
        if not (
            isinstance(pid, tuple)
            and len(pid) == 6
            and pid[0] == "storage"
            and isinstance(pid[1], _StorageType)
            and isinstance(pid[2], str)
            and isinstance(pid[4], int)
            and pid[4] >= 0
        ):
            raise pickle.UnpicklingError(
                f"{self._path} holds an unexpected persistent id: {pid!r}"
            )
        _, storage_type, key, _location, numel, view = pid
        root = self.storages.setdefault(
            key, _StorageRef(key, storage_type.dtype, numel)
        )
        if root.dtype != storage_type.dtype or root.numel != numel:
            raise pickle.UnpicklingError(
                f"{self._path} names the storage {key!r} with two types or sizes."
            )
        if view is None:
            return root
        if not (
            isinstance(view, tuple)
            and len(view) == 3
            and _is_int_tuple(view[1:])
            and 0 <= view[1]
            and 0 <= view[2]
            and view[1] + view[2] <= numel
        ):
            raise pickle.UnpicklingError(
                f"{self._path} holds an unexpected storage view: {view!r}"
            )
        return _StorageRef(key, root.dtype, view[2], offset=view[1])


def _load_pickle(file, path, what):
    """One pickle of plain data (no globals at all)."""

    class _NoGlobals(pickle.Unpickler):
        def find_class(self, module, name):
            raise _RefusedGlobal(
                f"{path} refers to the global {module}.{name} in its {what}; "
                "refusing to load it."
            )

    try:
        return _NoGlobals(file).load()
    except EOFError as exc:
        raise ValueError(f"{path} ends before its {what}.") from exc


def _read_storage(file, storage, path):
    """The elements of ``storage``, read from ``file`` at its current position."""
    count = np.frombuffer(file.read(8), dtype="<i8")
    if count.size != 1 or int(count[0]) != storage.numel:
        got = "the end of the file" if count.size != 1 else f"{int(count[0])}"
        raise ValueError(
            f"{path}: storage {storage.key!r} should hold {storage.numel} "
            f"elements; got {got}."
        )
    nbytes = storage.numel * storage.dtype.itemsize
    # Checked before reading: read(n) allocates n bytes up front, and a crafted
    # element count could ask for terabytes.
    here = file.tell()
    left = file.seek(0, os.SEEK_END) - here
    file.seek(here)
    if nbytes > left:
        raise ValueError(f"{path} ends inside the data of storage {storage.key!r}.")
    data = file.read(nbytes)
    if len(data) != nbytes:
        raise ValueError(f"{path} ends inside the data of storage {storage.key!r}.")
    return np.frombuffer(data, dtype=storage.dtype)  # native = little-endian


def _build_tensor(ref, data, name, path):
    """The C-ordered array of ``ref``, its elements taken from ``data``."""
    start = ref.storage.offset + ref.storage_offset
    size, stride = ref.size, ref.stride
    if any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise ValueError(f"{path}: tensor {name!r} has a negative size or stride.")
    if 0 in size:
        return np.zeros(size, dtype=data.dtype)
    last = start + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if start < 0 or last >= ref.storage.offset + ref.storage.numel:
        raise ValueError(
            f"{path}: tensor {name!r} (offset {ref.storage_offset}, size {size}, "
            f"stride {stride}) reaches beyond its storage of "
            f"{ref.storage.numel} elements."
        )
    itemsize = data.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        data[start:],
        shape=size,
        strides=tuple(s * itemsize for s in stride),
        writeable=False,
    )
    # np.array, not np.ascontiguousarray, which makes 0-d tensors 1-d.
    return np.array(view, order="C")


def read_state_dict(path):
    """Read a PyTorch state dict saved in the legacy ``torch.save`` format.

    Only ``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` and the
    ``torch.*Storage`` types may appear in the file; any other global is refused
    before it is imported. PyTorch is not needed.

    Parameters
    ----------
    path : str or path-like
        A ``.pth`` file written by ``torch.save(model.state_dict(), path)``
        in the legacy (non-zip) format.

    Returns
    -------
    state_dict : dict of str to ndarray
        The tensors by name, in file order, as C-ordered arrays of the
        tensors' dtypes (float32 for ``FloatStorage``, int64 for
        ``LongStorage``, ...).

    Raises
    ------
    pickle.UnpicklingError
        If the file refers to any other global, or its pickles are malformed.
    ValueError
        If the file is in the zip format, or is not a legacy torch file, or
        does not hold a mapping of names to tensors, or its data is truncated.
    """
    path = Path(path)
    if sys.byteorder != "little":  # pragma: no cover
        raise ValueError("Reading torch files needs a little-endian machine.")
    with open(path, "rb") as file:
        if file.read(4) == _ZIP_SIGNATURE:
            raise ValueError(
                f"{path} is a zip-format torch file; only the legacy format is "
                "supported. Save it again with "
                "torch.save(..., _use_new_zipfile_serialization=False)."
            )
        file.seek(0)
        try:
            magic = _load_pickle(file, path, "magic number")
        except _RefusedGlobal:
            raise
        except (pickle.UnpicklingError, ValueError) as exc:
            raise ValueError(f"{path} is not a legacy torch file.") from exc
        if magic != _MAGIC_NUMBER:
            raise ValueError(
                f"{path} is not a legacy torch file: its magic number is {magic!r}."
            )
        protocol = _load_pickle(file, path, "protocol version")
        if protocol != _PROTOCOL_VERSION:
            raise ValueError(
                f"{path} has torch protocol version {protocol!r}; only "
                f"{_PROTOCOL_VERSION} is supported."
            )
        sys_info = _load_pickle(file, path, "system information")
        if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
            raise ValueError(f"{path} was written by a big-endian machine.")

        unpickler = _RestrictedUnpickler(file, path)
        try:
            result = unpickler.load()
        except EOFError as exc:
            raise ValueError(f"{path} ends inside its state dict.") from exc
        keys = _load_pickle(file, path, "list of storage keys")
        if not isinstance(keys, list) or set(keys) != set(unpickler.storages):
            raise ValueError(
                f"{path}: the list of storage keys does not match the storages "
                "its state dict refers to."
            )
        data = {key: _read_storage(file, unpickler.storages[key], path) for key in keys}

    if not isinstance(result, dict) or not all(
        isinstance(name, str) and isinstance(ref, _TensorRef)
        for name, ref in result.items()
    ):
        raise ValueError(
            f"{path} does not hold a state dict (a mapping of names to tensors); "
            f"got {type(result).__name__}."
        )
    return {
        name: _build_tensor(ref, data[ref.storage.key], name, path)
        for name, ref in result.items()
    }
