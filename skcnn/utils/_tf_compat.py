"""Where skcnn depends on how TensorFlow behaves rather than on its documented API.

``silence_retracing_warnings``: TensorFlow warns "N out of the last M calls to
<function ...> triggered tf.function retracing" when a ``tf.function`` whose Python
code is shared is traced often (``polymorphic_function._FrequentTracingDetector``,
keyed by the function's ``__code__``). Keras makes one such function per model for
``predict`` (``TensorFlowTrainer.make_predict_function``), so scikit-learn
meta-estimators that fit and predict several ``CNNBinaryClassifier`` in one process
(``GridSearchCV``, ``TunedThresholdClassifierCV``, ...) trace the "same" function
once per model, as they must, and TensorFlow blames the user for it. Nothing is
traced more than needed: the warning is wrong here.

The fix touches no process-wide setting: one ``logging.Filter`` on the
``tensorflow`` logger drops that message only while the calling thread is inside
one of skcnn's fits or predictions (a thread-local flag); every other message, and
the same message from any other code, passes. Written against TensorFlow 2.20-2.21,
whose message starts "... triggered tf.function retracing"; tests/test_tf_compat.py
fails if TensorFlow stops emitting that text (then this filter would silently do
nothing and should be updated or removed).
"""

import contextlib
import logging
import threading

RETRACING_MESSAGE = "triggered tf.function retracing"

_state = threading.local()
_install_lock = threading.Lock()
_installed = False


class _RetracingFilter(logging.Filter):
    """Drops TensorFlow's retracing warning inside skcnn's own calls."""

    def filter(self, record):
        if not getattr(_state, "depth", 0):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format
            return True
        return RETRACING_MESSAGE not in message


def _install():
    global _installed
    with _install_lock:
        if not _installed:
            logging.getLogger("tensorflow").addFilter(_RetracingFilter())
            _installed = True


@contextlib.contextmanager
def silence_retracing_warnings():
    """Inside this block, in this thread, TensorFlow's retracing warning is
    dropped. Re-entrant and thread-safe; never raises."""
    _install()
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    finally:
        _state.depth -= 1
