"""Safe persistence: skops for the scikit-learn parts, the ``.keras`` format for
the networks; no pickle."""

import contextlib
import json
import os
import tempfile
import warnings
import zipfile

_FORMAT = "skcnn-model"
_FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_ESTIMATOR = "estimator.skops"
# skcnn's own types, trusted when loading: classes and functions of this package.
_OWN_TYPES = (
    "skcnn._classifier.CNNBinaryClassifier",
    "skcnn._image.ImageLoader",
    "skcnn._baseline.OneThreadLogisticRegression",
    "skcnn._baseline.flatten_images",
)
_PLACEHOLDER = "skcnn:keras-model:"


class InconsistentVersionWarning(UserWarning):
    """A model saved under other major.minor versions of skcnn, Keras,
    TensorFlow or scikit-learn than those installed."""


def _versions():
    import keras
    import sklearn
    import tensorflow as tf

    from . import __version__

    return {
        "skcnn": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "scikit-learn": sklearn.__version__,
    }


def _major_minor(version):
    return tuple(str(version).split(".")[:2])


def _check_versions(saved, what):
    """Warn, naming them, if ``saved`` versions differ from the installed ones in
    their major or minor number."""
    if not isinstance(saved, dict):
        return
    installed = _versions()
    different = [
        f"{name} {saved[name]} (installed: {installed[name]})"
        for name in installed
        if name in saved and _major_minor(saved[name]) != _major_minor(installed[name])
    ]
    if different:
        warnings.warn(
            f"{what} was saved with {', '.join(different)}. It may not load or "
            "predict as it did; refit it or install the versions it was saved with.",
            InconsistentVersionWarning,
            stacklevel=3,
        )


class _VersionedPickleMixin:
    """Records the versions of skcnn, Keras, TensorFlow and scikit-learn in the
    pickled state (joblib.dump), and warns, naming them, when the object is
    loaded under other major.minor versions."""

    def __getstate__(self):
        state = super().__getstate__()
        return {**state, "_skcnn_versions": _versions()}

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop("_skcnn_versions", None)
        _check_versions(saved, f"This {type(self).__name__}")
        super().__setstate__(state)


def _write_atomically(path, write):
    """Call ``write(temp_path)``, then move the temporary file to ``path``.

    The temporary file is in the folder of ``path``, so the move is atomic: a
    reader never sees a half-written file, and a failure (or an interruption)
    at any point leaves ``path`` as it was.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    os.close(fd)
    try:
        write(temp)
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        # mkstemp creates the file readable by its owner only: give it the
        # permissions a new file would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temp)
        raise


def _cnns(obj):
    """The CNNBinaryClassifiers in ``obj``: itself, the steps of a pipeline, and
    any estimator held in an attribute, list, tuple or dict, at any depth."""
    from sklearn.base import BaseEstimator

    from ._classifier import CNNBinaryClassifier

    found, seen, stack = [], set(), [obj]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CNNBinaryClassifier):
            found.append(node)
        if isinstance(node, BaseEstimator):
            children = vars(node).values()
        elif isinstance(node, (list, tuple)):
            children = node
        elif isinstance(node, dict):
            children = node.values()
        else:
            continue
        stack.extend(
            child
            for child in children
            if isinstance(child, (BaseEstimator, list, tuple, dict))
        )
    return found


def save(estimator, path):
    """Save an estimator or pipeline in skcnn's safe format.

    The file is a zip archive holding the scikit-learn objects serialized by
    :mod:`skops.io` (no pickle), each fitted network in Keras' ``.keras``
    format, and a manifest with the versions of skcnn, Keras, TensorFlow and
    scikit-learn. Loading it with :func:`load` runs no code from the file. The
    write is atomic: the file appears complete or not at all, and an existing
    file is replaced only once the new one is written.

    Parameters
    ----------
    estimator : estimator
        A :class:`CNNBinaryClassifier`, an :class:`ImageLoader` + CNN pipeline,
        :func:`make_baseline`'s pipeline, or any scikit-learn estimator skops can
        serialize, fitted or not.

    path : str or os.PathLike
        The file to write (by convention ``.skcnn``).

    Raises
    ------
    TypeError
        If the estimator holds an object the safe format cannot store, such as
        a Keras optimizer instance or callbacks as parameters (give the
        optimizer by name).

    See Also
    --------
    load : Loads the file, refusing untrusted types.
    export_keras : Writes the bare Keras network of a fitted CNN.

    Examples
    --------
    >>> import os, tempfile
    >>> import skcnn
    >>> from skcnn import make_baseline
    >>> from skcnn.datasets import load_digits_pair
    >>> X, y = load_digits_pair(return_X_y=True)
    >>> model = make_baseline().fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "baseline.skcnn")
    ...     skcnn.save(model, path)
    ...     loaded = skcnn.load(path)
    >>> bool((loaded.predict_proba(X) == model.predict_proba(X)).all())
    True
    """
    import keras
    import skops.io as sio

    cnns = [cnn for cnn in _cnns(estimator) if hasattr(cnn, "model_")]
    for i, cnn in enumerate(cnns):
        for name in ("optimizer", "callbacks"):
            value = getattr(cnn, name)
            if name == "optimizer" and isinstance(value, keras.optimizers.Optimizer):
                raise TypeError(
                    "skcnn.save cannot store a Keras optimizer instance as the "
                    f"`optimizer` parameter (CNN #{i}); give it by name (e.g. "
                    "optimizer='adam', with learning_rate=...), or use joblib."
                )
            if name == "callbacks" and value:
                raise TypeError(
                    "skcnn.save cannot store Keras callbacks as the `callbacks` "
                    f"parameter (CNN #{i}): set callbacks=None before saving, or "
                    "use joblib."
                )
    models = {}
    try:
        for i, cnn in enumerate(cnns):
            models[i] = cnn.model_
            cnn.model_ = f"{_PLACEHOLDER}{i}"
        try:
            payload = sio.dumps(estimator)
        except TypeError as exc:
            raise TypeError(
                f"skcnn.save cannot store this estimator safely: {exc}"
            ) from exc
    finally:
        for i, cnn in enumerate(cnns):
            if i in models:
                cnn.model_ = models[i]

    manifest = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "versions": _versions(),
        "estimator": type(estimator).__name__,
        "keras_models": [f"models/{i}.keras" for i in models],
    }

    def write(temp):
        with (
            tempfile.TemporaryDirectory() as folder,
            zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            archive.writestr(_MANIFEST, json.dumps(manifest, indent=2))
            archive.writestr(_ESTIMATOR, payload)
            for i, model in models.items():
                keras_path = os.path.join(folder, f"{i}.keras")
                model.save(keras_path)
                archive.write(keras_path, f"models/{i}.keras")

    _write_atomically(path, write)


def _open(path):
    """The archive and its manifest; clear errors for anything else."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a folder, not a skcnn model file.")
    try:
        archive = zipfile.ZipFile(path)
        manifest = json.loads(archive.read(_MANIFEST))
        if archive.testzip() is not None:
            raise zipfile.BadZipFile(f"corrupt member {archive.testzip()!r}")
    except FileNotFoundError:
        raise FileNotFoundError(f"No such model file: {path!r}") from None
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError) as exc:
        raise ValueError(
            f"{path!r} is not a skcnn model file, or it is truncated or corrupted "
            f"({type(exc).__name__}: {exc}). Files written by skcnn.save are zip "
            "archives holding a manifest.json."
        ) from exc
    if not (isinstance(manifest, dict) and manifest.get("format") == _FORMAT):
        raise ValueError(f"{path!r} is not a skcnn model file (no skcnn manifest).")
    if manifest.get("format_version") != _FORMAT_VERSION:
        raise ValueError(
            f"{path!r} is in skcnn model format version "
            f"{manifest.get('format_version')!r}; this skcnn reads version "
            f"{_FORMAT_VERSION}."
        )
    return archive, manifest


def get_untrusted_types(path):
    """The types in a model file that :func:`load` would refuse.

    skcnn's own classes and the scikit-learn, NumPy and Python types skops
    trusts by default are not listed. Read the list, and pass the names you
    trust to ``load(path, trusted=[...])``.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    types : list of str
        Fully qualified names of the untrusted types (empty if none).
    """
    import skops.io as sio

    archive, _ = _open(path)
    with archive:
        payload = archive.read(_ESTIMATOR)
    untrusted = sio.get_untrusted_types(data=payload)
    return [name for name in untrusted if name not in _OWN_TYPES]


def load(path, *, trusted=None):
    """Load a model written by :func:`save`, running no code from the file.

    The scikit-learn objects are rebuilt by :mod:`skops.io`, which refuses any
    type that is not trusted (skcnn's own types, and those skops trusts by
    default, are); the networks are loaded by :func:`keras.saving.load_model`
    with ``safe_mode=True``, which refuses Python code stored in the file (such
    as ``Lambda`` layers).

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    trusted : list of str or None, default=None
        Further type names to trust, after checking them with
        :func:`get_untrusted_types`.

    Returns
    -------
    estimator : estimator
        The saved estimator or pipeline.

    Raises
    ------
    ValueError
        If the file is not a skcnn model file, is truncated or corrupted, holds
        untrusted types (they are named) or unsafe Keras content.

    Warns
    -----
    InconsistentVersionWarning
        If the file was saved under other major.minor versions of skcnn, Keras,
        TensorFlow or scikit-learn (they are named).
    """
    import keras
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    path = os.fspath(path)
    archive, manifest = _open(path)
    with archive:
        _check_versions(manifest.get("versions"), f"The model file {path!r}")
        payload = archive.read(_ESTIMATOR)
        try:
            with warnings.catch_warnings():
                # The manifest's versions were checked above: skcnn's estimators
                # would warn again, each, from the versions in their state.
                warnings.simplefilter("ignore", InconsistentVersionWarning)
                estimator = sio.loads(payload, trusted=[*_OWN_TYPES, *(trusted or [])])
        except UntrustedTypesFoundException as exc:
            untrusted = [
                name
                for name in sio.get_untrusted_types(data=payload)
                if name not in _OWN_TYPES and name not in (trusted or [])
            ]
            raise ValueError(
                f"Refusing to load {path!r}: it holds types that are not trusted, "
                f"{untrusted}. Nothing in the file was run. If you trust them, "
                "check skcnn.get_untrusted_types(path) and pass them as "
                "skcnn.load(path, trusted=[...])."
            ) from exc
        except Exception as exc:
            raise ValueError(
                f"Cannot load {path!r}: its estimator data is corrupted or not "
                f"skcnn's ({type(exc).__name__}: {exc})."
            ) from exc
        cnns = [
            cnn
            for cnn in _cnns(estimator)
            if isinstance(getattr(cnn, "model_", None), str)
            and cnn.model_.startswith(_PLACEHOLDER)
        ]
        members = set(archive.namelist())
        with tempfile.TemporaryDirectory() as folder:
            for cnn in cnns:
                index = int(cnn.model_[len(_PLACEHOLDER) :])
                member = f"models/{index}.keras"
                if member not in members:
                    raise ValueError(f"Cannot load {path!r}: {member} is missing.")
                keras_path = os.path.join(folder, f"{index}.keras")
                with open(keras_path, "wb") as f:
                    f.write(archive.read(member))
                try:
                    cnn.model_ = keras.saving.load_model(keras_path, safe_mode=True)
                except Exception as exc:
                    raise ValueError(
                        f"Refusing to load the network {member} of {path!r}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
    return estimator


def export_keras(estimator, path):
    """Write the Keras network of a fitted CNN as a ``.keras`` file.

    For serving outside scikit-learn (TensorFlow Serving after conversion, or
    ``keras.saving.load_model``). The network takes images of the fitted
    ``image_shape_`` (uint8 or float 0-255, rescaled inside) and outputs the
    probability of ``classes_[1]``; the label names are not in the file.

    Parameters
    ----------
    estimator : CNNBinaryClassifier or Pipeline
        A fitted CNN, or a pipeline whose last step is one.

    path : str or os.PathLike
        The file to write; it must end with ``.keras``. Written atomically.
    """
    from sklearn.utils.validation import check_is_fitted

    from ._classifier import CNNBinaryClassifier

    cnn = estimator
    if hasattr(estimator, "steps"):
        cnn = estimator.steps[-1][1]
    if not isinstance(cnn, CNNBinaryClassifier):
        raise TypeError(
            "export_keras needs a CNNBinaryClassifier or a pipeline ending with one. "
            f"Got {type(estimator).__name__}."
        )
    check_is_fitted(cnn)
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"The file name must end with .keras. Received: {path!r}")

    def write(temp):
        # Keras insists on the .keras extension: save beside, then move.
        with tempfile.TemporaryDirectory(dir=os.path.dirname(temp)) as folder:
            keras_path = os.path.join(folder, "model.keras")
            cnn.model_.save(keras_path)
            os.replace(keras_path, temp)

    _write_atomically(path, write)
