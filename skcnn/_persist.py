"""Safe persistence: skops for the scikit-learn parts, the ``.keras`` format for
the networks; no pickle.

Every decision about model files lives here: skcnn's own format (:func:`save`,
:func:`load`, :func:`get_untrusted_types`), the bare Keras network
(:func:`export_keras`), and which of skcnn's format and joblib a file of the
command line is (:func:`read_model_file`, :func:`save_model_file`). What a file
may make skcnn run (the trusted types, pickle recognition) is in ``_trust``.
"""

import contextlib
import json
import os
import tempfile
import warnings
import zipfile

from ._trust import _TRUSTED_TYPES, _looks_like_pickle
from ._versioning import VersionMismatchWarning, _check_versions, _versions

_FORMAT = "skcnn-model"
_FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_ESTIMATOR = "estimator.skops"
_PLACEHOLDER = "skcnn:keras-model:"
# The member export_keras adds to a .keras file: what the network's input and
# output mean.
_EXPORT_METADATA = "skcnn.json"


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
    """The CNNBinaryClassifiers in ``obj``, at any depth and each once.

    Searched: estimators (any ``BaseEstimator``) and the other objects of
    scikit-learn and skcnn (such as the ``_CalibratedClassifier`` objects of
    ``CalibratedClassifierCV.calibrated_classifiers_``) by their attributes,
    and lists, tuples and dicts (``Bunch`` too) by their items. Nothing else is
    entered: not arrays, strings or Keras models.
    """
    from sklearn.base import BaseEstimator

    from ._classifier import CNNBinaryClassifier

    def searched(node):
        if isinstance(node, (list, tuple, dict, BaseEstimator)):
            return True
        module = getattr(type(node), "__module__", None) or ""
        return module.split(".")[0] in ("sklearn", "skcnn") and hasattr(
            node, "__dict__"
        )

    found, seen, stack = [], set(), [obj] if searched(obj) else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CNNBinaryClassifier):
            found.append(node)
        if isinstance(node, (list, tuple)):
            children = node
        elif isinstance(node, dict):
            children = node.values()
        else:
            children = vars(node).values()
        # Reversed: the stack then visits children in their order.
        stack.extend(child for child in reversed(list(children)) if searched(child))
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
        except RecursionError:
            # skops walks into an object graph without end, such as a Keras
            # network held where _cnns does not look: its 1,000-frame
            # traceback would name nothing useful.
            raise TypeError(
                "skcnn.save cannot store this estimator safely: serializing it "
                "recursed without end. It may hold a Keras network that is not "
                "the model_ of a CNNBinaryClassifier skcnn finds (it searches "
                "estimators, scikit-learn and skcnn objects, lists, tuples and "
                "dicts); use joblib."
            ) from None
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
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: {path!r}")
    # Before trying it as a zip archive: a joblib file of a CNN holds the .keras
    # zip archive of its network, which zipfile finds and opens.
    if _looks_like_pickle(path):
        raise ValueError(
            f"{path!r} is not a skcnn model file: it looks like a joblib or "
            "pickle file. Load it with joblib.load only if you trust it: "
            "loading a pickle can run code. skcnn.load reads the files "
            "skcnn.save writes."
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise _corrupted(path, exc) from exc
    names = set(archive.namelist())
    if _MANIFEST not in names:
        archive.close()
        if {"config.json", "model.weights.h5"} <= names:
            raise ValueError(
                f"{path!r} is not a skcnn model file: it looks like a Keras "
                "model (.keras); load it with keras.saving.load_model."
            )
        raise ValueError(
            f"{path!r} is not a skcnn model file: it is a zip archive without "
            f"the {_MANIFEST} that skcnn.save writes."
        )
    try:
        manifest = json.loads(archive.read(_MANIFEST))
        if archive.testzip() is not None:
            raise zipfile.BadZipFile(f"corrupt member {archive.testzip()!r}")
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError) as exc:
        archive.close()
        raise _corrupted(path, exc) from exc
    if not (isinstance(manifest, dict) and manifest.get("format") == _FORMAT):
        archive.close()
        raise ValueError(f"{path!r} is not a skcnn model file (no skcnn manifest).")
    if manifest.get("format_version") != _FORMAT_VERSION:
        archive.close()
        raise ValueError(
            f"{path!r} is in skcnn model format version "
            f"{manifest.get('format_version')!r}; this skcnn reads version "
            f"{_FORMAT_VERSION}."
        )
    return archive, manifest


def _corrupted(path, exc):
    return ValueError(
        f"{path!r} is not a skcnn model file, or it is truncated or corrupted "
        f"({type(exc).__name__}: {exc}). Files written by skcnn.save are zip "
        "archives holding a manifest.json."
    )


def get_untrusted_types(path):
    """The types in a model file that :func:`load` would refuse.

    The types :func:`load` trusts by default are not listed (see its Notes).
    Read the list, and pass the names you trust to ``load(path, trusted=[...])``.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    types : list of str
        Fully qualified names of the untrusted types (empty if none).

    See Also
    --------
    load : Loads the file, refusing the types listed here unless trusted.

    Examples
    --------
    A pipeline whose ``FunctionTransformer`` calls a function skops does not
    trust:

    >>> import operator, os, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> import skcnn
    >>> model = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression())
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.skcnn")
    ...     skcnn.save(model, path)
    ...     skcnn.get_untrusted_types(path)
    ['_operator.neg']
    """
    import skops.io as sio

    archive, _ = _open(path)
    with archive:
        payload = archive.read(_ESTIMATOR)
    untrusted = sio.get_untrusted_types(data=payload)
    return [name for name in untrusted if name not in _TRUSTED_TYPES]


def load(path, *, trusted=None):
    """Load a model written by :func:`save`, running no code from the file.

    The scikit-learn objects are rebuilt by :mod:`skops.io`, which refuses any
    type that is not trusted (see Notes); the networks are loaded by
    :func:`keras.saving.load_model` with ``safe_mode=True``, which refuses
    Python code stored in the file (such as ``Lambda`` layers).

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
    VersionMismatchWarning
        If the file was saved under other major.minor versions of skcnn, Keras,
        TensorFlow or scikit-learn (they are named).

    See Also
    --------
    get_untrusted_types : The types of a file that would be refused.

    Notes
    -----
    Trusted by default, so that the compositions of a classifier that
    scikit-learn offers (``Pipeline``, ``GridSearchCV``,
    ``CalibratedClassifierCV``, ``FrozenEstimator``,
    ``TunedThresholdClassifierCV``, stacking and voting ensembles) load as
    they are:

    - skcnn's own classes and functions;
    - what skops trusts by default: Python's and NumPy's plain types and
      scikit-learn's public estimators;
    - a fixed list of scikit-learn's other types that these compositions
      store: cross-validation splitters, scorers, the calibrators and
      ``_CalibratedClassifier``, metadata-routing records and ``Bunch``,
      classes that skops rebuilds without running their constructor and whose
      methods only compute on the data and call the objects they hold; and the
      metric functions behind the classifier ``scoring`` names (such as
      ``roc_auc_score``), which compute a number from labels and scores.

    Everything else is refused, scikit-learn's other functions and classes
    included (a model file naming a function runs it when the model is used),
    until given in ``trusted``.

    Examples
    --------
    >>> import operator, os, tempfile
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> import skcnn
    >>> model = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression())
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.skcnn")
    ...     skcnn.save(model, path)
    ...     try:
    ...         skcnn.load(path)
    ...     except ValueError as error:
    ...         print(error)  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    ...     loaded = skcnn.load(path, trusted=["_operator.neg"])
    Refusing to load '...model.skcnn': it holds types that are not trusted,
    ['_operator.neg']. Nothing in the file was run. ...
    >>> loaded.steps[0][1].func is operator.neg
    True
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
                warnings.simplefilter("ignore", VersionMismatchWarning)
                estimator = sio.loads(
                    payload, trusted=[*_TRUSTED_TYPES, *(trusted or [])]
                )
        except UntrustedTypesFoundException as exc:
            untrusted = [
                name
                for name in sio.get_untrusted_types(data=payload)
                if name not in _TRUSTED_TYPES and name not in (trusted or [])
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
                index = cnn.model_[len(_PLACEHOLDER) :]
                if not (index.isascii() and index.isdigit()):
                    raise ValueError(
                        f"Cannot load {path!r}: a network is named {index!r}, "
                        "not by a number."
                    )
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


def read_model_file(path):
    """The estimator in a model file of the command line: a ``.skcnn`` file (or
    any zip archive) read by :func:`load`, safely, else a joblib file.

    An error of joblib (but ``OSError``), or of :func:`load` (but ``OSError``
    and its ``ValueError``, which name the file), becomes a ``ValueError``
    naming the file.
    """
    import joblib

    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"The model {path!r} is a folder, not a model file.")
    with open(path, "rb") as f:
        is_zip = f.read(4) == b"PK\x03\x04"  # not is_zipfile: joblib files of
        # Keras models hold zip archives inside
    if path.endswith(".skcnn") or is_zip:
        try:
            return load(path)
        except (OSError, ValueError):
            raise
        except Exception as exc:
            raise _cannot_read(path, exc) from exc
    try:
        return joblib.load(path)
    except OSError:
        raise
    except Exception as exc:
        raise _cannot_read(path, exc) from exc


def _cannot_read(path, exc):
    return ValueError(
        f"Cannot load the model file {path!r} (is it a file saved by "
        f"`skcnn train`?): {type(exc).__name__}: {exc}"
    )


def save_model_file(model, path):
    """Save ``model`` atomically: by :func:`save` if ``path`` ends with
    ``.skcnn``, else with joblib."""
    import joblib

    if path.endswith(".skcnn"):
        save(model, path)
    else:
        _write_atomically(path, lambda temp: joblib.dump(model, temp))


def _pixel_range(cnn):
    """The ``pixel_range_`` of a fitted CNN as a list, or None.

    Estimators fitted before skcnn recorded it lack the attribute: the scale is
    then read from the network, whose first layer rescales by 1/255 when it was
    trained on uint8 pixels or image files; otherwise it is unknown.
    """
    import keras

    if hasattr(cnn, "pixel_range_"):
        value = cnn.pixel_range_
        return None if value is None else [_json_value(v) for v in value]
    for layer in cnn.model_.layers:
        if isinstance(layer, keras.layers.Rescaling) and layer.scale == 1 / 255:
            return [0, 255]
    return None


def _json_value(value):
    """``value`` as JSON can hold it: a NumPy scalar as a Python one, any other
    object as its ``str``."""
    value = value.item() if hasattr(value, "item") else value
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _describe(metadata):
    """One sentence on what the exported network takes and gives."""
    height, width, channels = metadata["input_shape"]
    scale = {
        (0, 255): "pixels in [0, 255], uint8 or float",
        (0, 1): "float pixels in [0, 1]",
    }.get(
        tuple(metadata["pixel_range"] or ()),
        "values on the scale the estimator was fitted on",
    )
    text = (
        f"Input: a batch of images of shape ({height}, {width}, {channels}), "
        f"{scale}. Output: for each image, the probability of class "
        f"{metadata['positive_class']!r} (the classes: {metadata['classes']})."
    )
    if metadata.get("test_time_augmentation") == "flip":
        text += (
            " The output is the mean of the network's output on the image and on "
            "its mirror image, as the estimator predicts."
        )
    if "decision_threshold" in metadata:
        label = metadata["decision_class"]
        of = "" if label == metadata["positive_class"] else " (1 - the output)"
        text += (
            f" The saved model predicts {label!r} when the probability of "
            f"{label!r}{of} is at least {metadata['decision_threshold']:.6g}."
        )
    return text


def export_keras(estimator, path):
    """Write the Keras network of a fitted CNN as a ``.keras`` file.

    For serving outside scikit-learn (TensorFlow Serving after conversion, or
    ``keras.saving.load_model``). The network takes a batch of images of the
    fitted ``image_shape_`` and outputs, shape ``(n, 1)``, the probability of
    ``classes_[1]``.

    The file also holds ``skcnn.json``, what the input and output mean (Keras
    ignores it when loading the network): ``classes`` (the two labels in
    ``classes_`` order), ``positive_class`` (``classes_[1]``, the class the
    output is the probability of), ``input_shape`` (``[height, width,
    channels]``), ``test_time_augmentation`` ("flip": the network averages its
    output on each image and its mirror image, as the estimator predicts with
    ``test_time_augmentation``; else null), ``pixel_range`` (the fitted
    ``pixel_range_``, the scale of the pixels the network takes: ``[0, 255]``
    after training on uint8 images, image files or float images up to 255,
    uint8 or float alike; ``[0, 1]`` for float pixels in [0, 1]; ``null`` for
    input that is neither, or a network fitted before skcnn recorded the
    scale, without the 1/255 ``Rescaling`` of uint8 input), ``description``,
    the same in a sentence, ``format`` (``"skcnn-keras-export"``) and
    ``skcnn_version``; for a ``FixedThresholdClassifier`` (as ``skcnn train
    --target-sensitivity`` saves), also ``decision_threshold`` and
    ``decision_class``, the rule it predicts by. Read it with
    ``zipfile`` and ``json``, as in the example.

    Parameters
    ----------
    estimator : CNNBinaryClassifier, Pipeline or FixedThresholdClassifier
        A fitted CNN, or a pipeline whose last step is one, or either inside a
        fitted ``FixedThresholdClassifier`` (around a ``FrozenEstimator``).

    path : str or os.PathLike
        The file to write; it must end with ``.keras``. Written atomically.

    Returns
    -------
    metadata : dict
        The content of ``skcnn.json``.

    See Also
    --------
    save : Saves the whole estimator, scikit-learn parts included.

    Examples
    --------
    >>> import json, os, tempfile, zipfile
    >>> import skcnn
    >>> from skcnn import CNNBinaryClassifier
    >>> from skcnn.datasets import load_digits_pair
    >>> X, y = load_digits_pair(return_X_y=True)
    >>> cnn = CNNBinaryClassifier(filters=(4,), epochs=1, verbose=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "net.keras")
    ...     metadata = skcnn.export_keras(cnn, path)
    ...     with zipfile.ZipFile(path) as archive:
    ...         stored = json.loads(archive.read("skcnn.json"))
    >>> stored == metadata
    True
    >>> stored["classes"], stored["positive_class"], stored["pixel_range"]
    ([7, 8], 8, [0, 255])
    """
    from sklearn.utils.validation import check_is_fitted

    from . import __version__
    from ._architecture import mirror_averaged
    from ._classifier import CNNBinaryClassifier
    from ._threshold import split_threshold
    from ._training import predicts_with_flips

    cnn, decision = split_threshold(estimator)
    if hasattr(cnn, "steps"):
        cnn = cnn.steps[-1][1]
    if not isinstance(cnn, CNNBinaryClassifier):
        raise TypeError(
            "export_keras needs a CNNBinaryClassifier or a pipeline ending with one. "
            f"Got {type(estimator).__name__}."
        )
    check_is_fitted(cnn)
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"The file name must end with .keras. Received: {path!r}")
    classes = [_json_value(label) for label in cnn.classes_]
    metadata = {
        "format": "skcnn-keras-export",
        "skcnn_version": __version__,
        "classes": classes,
        "positive_class": classes[1],
        "input_shape": [int(n) for n in cnn.image_shape_],
        "pixel_range": _pixel_range(cnn),
        "test_time_augmentation": "flip" if predicts_with_flips(cnn) else None,
    }
    if decision is not None:
        metadata["decision_threshold"] = decision[0]
        metadata["decision_class"] = _json_value(decision[1])
    metadata["description"] = _describe(metadata)

    def write(temp):
        # Keras insists on the .keras extension: save beside, then move.
        with tempfile.TemporaryDirectory(dir=os.path.dirname(temp)) as folder:
            keras_path = os.path.join(folder, "model.keras")
            network = cnn.model_
            if metadata["test_time_augmentation"] == "flip":
                network = mirror_averaged(network)
            network.save(keras_path)
            with zipfile.ZipFile(keras_path, "a") as archive:
                archive.writestr(_EXPORT_METADATA, json.dumps(metadata, indent=2))
            os.replace(keras_path, temp)

    _write_atomically(path, write)
    return metadata
