"""Version stamps: the versions of skcnn, Keras, TensorFlow and scikit-learn that
a model was saved with, and the warning when it is loaded under others.

A leaf: it imports nothing else of skcnn. Used by the estimators' pickles
(``_VersionedPickleMixin``) and by the manifest of skcnn's model files.
"""

import inspect
import warnings


class VersionMismatchWarning(UserWarning):
    """A model saved under other major.minor versions of skcnn, Keras,
    TensorFlow or scikit-learn than those installed.

    Not scikit-learn's ``InconsistentVersionWarning``, which scikit-learn raises
    for its own version only, and whose constructor takes its own arguments.

    Loading a joblib pickle of skcnn's estimators, or a file of
    :func:`skcnn.load`, warns with it, naming the versions that differ.

    See Also
    --------
    skcnn.load : Loads a model file of skcnn's safe format.

    Examples
    --------
    Make such a file an error rather than a warning:

    >>> import warnings
    >>> from skcnn import VersionMismatchWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", VersionMismatchWarning)
    ...     pass  # joblib.load(...) or skcnn.load(...) of such a file raises here
    >>> issubclass(VersionMismatchWarning, UserWarning)
    True
    """


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
            VersionMismatchWarning,
            stacklevel=3,
        )


class _VersionedPickleMixin:
    """Records the versions of skcnn, Keras, TensorFlow and scikit-learn in the
    pickled state (joblib.dump), and warns, naming them, when the object is
    loaded under other major.minor versions.

    An object saved before one of its parameters existed gets, on loading, the
    value that class's ``_SAVED_WITHOUT`` maps it to (the behaviour it was
    fitted with), else the parameter's default: ``get_params``, ``repr`` and
    ``clone`` then work on it. skops' files (``skcnn.load``) come through here
    too.
    """

    _SAVED_WITHOUT = {}

    def __getstate__(self):
        state = super().__getstate__()
        return {**state, "_skcnn_versions": _versions()}

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop("_skcnn_versions", None)
        _check_versions(saved, f"This {type(self).__name__}")
        signature = inspect.signature(type(self).__init__)
        for name, parameter in signature.parameters.items():
            if name not in state and parameter.default is not inspect.Parameter.empty:
                state[name] = self._SAVED_WITHOUT.get(name, parameter.default)
        super().__setstate__(state)
