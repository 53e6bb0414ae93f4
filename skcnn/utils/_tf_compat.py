"""Every place where skcnn depends on TensorFlow's or Keras' internals, or on how they
behave rather than on their documented API.

Each workaround below says what problem it solves, which versions it was written
for, and when it can go. None of them ever makes a user's fit fail, and
tests/test_tf_compat.py FAILS when the installed TensorFlow or Keras no longer has
what a workaround expects (a workaround that silently stops working is worse than
none). They were written for TensorFlow 2.21 and Keras 3.15 (some earlier, as
said). This module imports neither at import time: ``import skcnn._image`` (the
command line's light commands) must not start TensorFlow.

``release_iterators``: a tf.data iterator stopped by an error (or a Ctrl-C) stays
alive in the frames of the exception's traceback, locals of TensorFlow's and Keras'
frames. Kept alive there, it can outlive the program: its threads, calling Python
(the Pillow decoder in a ``numpy_function``), cannot take the GIL during interpreter
shutdown, and deleting it then waits for them forever (a hang at exit, seen with
TensorFlow 2.20-2.21). Clearing the finished frames frees it at once. Uses only
``traceback.clear_frames``; can go when TensorFlow's iterator no longer waits at
shutdown.

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

``release_gradient_registrations`` (with ``traced_graph``): Keras sums the gradients
over replicas (``all_reduce``, even with one replica) inside a
``tf.custom_gradient``. Traced in a graph, each such call registers a
``"CustomGradient-<n>"`` gradient function in TensorFlow's process-wide gradient
registry (``tensorflow.python.framework.ops._gradient_registry._registry``, a dict),
which is never emptied, and that function's closure holds the tensors, hence the
whole traced graph, of the training step, for the life of the process (see
benchmarks/bench_memory.py for the size). The registered function would only be
looked up by ``tf.gradients`` over the traced step, which nothing does once it is
traced (a second-order gradient through the optimizer update). After each fit,
the entries whose graph (found through the closure cells of
``ops/custom_gradient.py``'s ``_graph_mode_decorator``: ``tape_grad_fn``, then
``result``) uses one of the model's variables are removed. Written for TensorFlow
2.21 with Keras 3.15; can go when TensorFlow stops registering these functions
globally, or empties its registry itself (tests/test_tf_compat.py then finds no
entry to release, and fails).

``multi_worker_fit``: Keras 3.15 cannot ``fit`` under
``tf.distribute.MultiWorkerMirroredStrategy`` with more than one worker, not even a
plain ``Sequential`` model (keras-team/keras#20585, tensorflow/tensorflow#72388),
in two places of ``keras/src/backend/tensorflow/trainer.py``:
``TensorFlowTrainer._maybe_symbolic_build`` passes the whole first ``(x, y)`` batch
to ``Strategy.reduce``, which a multi-worker strategy cannot reduce as one value
("Attempt to convert a value (PerReplica...)"); and ``reduce_per_replica``
averages each replica's loss and metrics with ``reduce("MEAN", v, axis=0)``,
which fails on their scalars ("Invalid reduction dimension 0 for input with 0
dimensions"). While one of skcnn's networks trains under such a strategy (Keras'
own test ``_collective_all_reduce_multi_worker``), that model builds its
optimizer, metrics and loss from the first batch's local values (the symbolic
build only needs their shapes), and the module's ``reduce_per_replica`` averages
over the replicas with ``axis=None``; both as Keras does for every other
strategy. Nothing changes for any other strategy, nor for other models. Written
for Keras 3.15; can go when Keras fits under the strategy itself.

``RandomShear``: Keras' ``RandomShear`` writes a shear factor ``f`` into the
layer's configuration as ``[-f, f]``, which its own constructor then refuses
("The `factor` argument should be a number ... Received: input_number=-0.2"), so a
saved or pickled model holding it cannot be loaded. This subclass, registered
with Keras as ``"skcnn>RandomShear"`` (the name saved models record: keep it),
reads ``[-f, f]`` back as ``f``; it changes nothing else. Written for Keras
3.15; can go when Keras' own configuration loads back (tests/test_tf_compat.py
then fails), but the registered name must stay loadable for the models saved
with it. The class is made on first use (``from skcnn.utils._tf_compat import
RandomShear``), as it needs Keras.
"""

import contextlib
import logging
import threading
import traceback
import types

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


def release_iterators(exc):
    """Clear the finished frames of ``exc``'s traceback, so that a tf.data iterator
    stopped by the error is freed now (see the module's docstring). Never raises."""
    try:
        traceback.clear_frames(exc.__traceback__)
    except Exception:  # a frame still running: nothing more to free
        pass


def release_gradient_registrations(model):
    """Unregister the gradient functions TensorFlow registered, globally and for
    good, while tracing ``model``'s training step (see the module's docstring).

    Only the entries whose graph uses one of ``model``'s variables are removed:
    another model, being fitted in another thread, keeps its own.

    Returns
    -------
    released : list of str
        The names of the registry entries removed (empty if this TensorFlow has no
        registry we know of). Never raises.
    """
    released = []
    try:  # memory hygiene, never a reason for a fit to fail
        from tensorflow.python.framework import ops

        registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
        if not isinstance(registry, dict):
            return released  # another TensorFlow: nothing we know how to release
        import tensorflow as tf

        # A traced graph captures the resource handles of the variables it uses:
        # under a tf.distribute strategy, those of each replica's component (the
        # handle of the distributed variable itself cannot be read inside the
        # strategy's scope).
        variables = [*model.variables, *getattr(model.optimizer, "variables", ())]
        ours = set()
        for variable in variables:
            value = variable.value
            if isinstance(value, tf.distribute.DistributedValues):
                ours.update(id(component.handle) for component in value.values)
            else:
                ours.add(id(value.handle))
        for name in [n for n in list(registry) if n.startswith("CustomGradient-")]:
            entry = registry.get(name)
            grad_fn = entry.get("type") if isinstance(entry, dict) else None
            captured = getattr(traced_graph(grad_fn), "external_captures", ())
            if any(id(tensor) in ours for tensor in captured):
                registry.pop(name, None)
                released.append(name)
    except Exception:  # a TensorFlow or Keras whose internals differ
        pass
    return released


def traced_graph(grad_fn):
    """The graph of the tensors a registered custom gradient function holds, or
    None if it is not one of tf.custom_gradient's (see TensorFlow's
    ops/custom_gradient.py, _graph_mode_decorator)."""
    import tensorflow as tf

    def free_variables(fn):
        code, closure = getattr(fn, "__code__", None), getattr(fn, "__closure__", None)
        if code is None or closure is None:
            return {}
        try:
            return {
                k: c.cell_contents
                for k, c in zip(code.co_freevars, closure, strict=True)
            }
        except ValueError:  # an empty cell
            return {}

    tape_grad_fn = free_variables(grad_fn).get("tape_grad_fn")
    result = free_variables(tape_grad_fn).get("result")
    for tensor in tf.nest.flatten(result):
        graph = getattr(tensor, "graph", None)
        if graph is not None:
            return graph
    return None


_random_shear_lock = threading.Lock()


_multi_worker_lock = threading.Lock()


def _first_local_values(model, iterator=None, data_batch=None):
    """``_maybe_symbolic_build`` for a multi-worker strategy: the symbolic build
    from the first batch's values on this worker's first replica."""
    import tensorflow as tf

    strategy = model.distribute_strategy
    if iterator is not None:
        for _, _, it in iterator:
            data_batch = tf.nest.map_structure(
                lambda v: (
                    strategy.experimental_local_results(v)[0]
                    if isinstance(v, tf.distribute.DistributedValues)
                    else v
                ),
                next(it),
            )
            break
    with strategy.scope():
        model._symbolic_build(data_batch=data_batch)


def _mean_over_replicas(original, is_multi_worker):
    """Keras' ``reduce_per_replica``, averaging each value over the replicas of a
    multi-worker strategy with ``axis=None`` (scalars have no axis 0)."""

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and is_multi_worker(strategy):
            import tensorflow as tf

            return tf.nest.map_structure(
                lambda v: strategy.reduce("MEAN", v, axis=None), values
            )
        return original(values, strategy, reduction)

    return reduce_per_replica


@contextlib.contextmanager
def multi_worker_fit(model):
    """While ``model`` trains (``model.fit`` inside): the two fixes Keras needs to
    train it under a multi-worker strategy; nothing under any other."""
    try:
        from keras.src.backend.tensorflow import trainer

        is_multi_worker = trainer._collective_all_reduce_multi_worker
        original = trainer.reduce_per_replica
        multi_worker = is_multi_worker(model.distribute_strategy)
    except (ImportError, AttributeError):  # not Keras 3.15's internals: as is
        multi_worker = False
    if not multi_worker:
        yield
        return
    with _multi_worker_lock:
        model._maybe_symbolic_build = types.MethodType(_first_local_values, model)
        trainer.reduce_per_replica = _mean_over_replicas(original, is_multi_worker)
        try:
            yield
        finally:
            trainer.reduce_per_replica = original
            del model._maybe_symbolic_build  # the class's method again


def _random_shear_class():
    """Make and register (once) the RandomShear subclass (see the module's
    docstring)."""
    with _random_shear_lock:
        cls = globals().get("RandomShear")
        if cls is not None:
            return cls
        import keras

        def symmetric(factor):
            if (
                isinstance(factor, (list, tuple))
                and len(factor) == 2
                and factor[0] == -factor[1]
            ):
                return abs(factor[1])
            return factor

        @keras.saving.register_keras_serializable(package="skcnn")
        class RandomShear(keras.layers.RandomShear):
            """Keras' RandomShear, with a configuration that loads back.

            Keras 3 writes a shear factor ``f`` into the layer's configuration as
            ``[-f, f]``, which its own constructor then refuses, so a saved or
            pickled model holding it cannot be loaded. This subclass reads
            ``[-f, f]`` back as ``f``; it changes nothing else.
            """

            __qualname__ = "RandomShear"

            def __init__(self, x_factor=0.0, y_factor=0.0, **kwargs):
                super().__init__(symmetric(x_factor), symmetric(y_factor), **kwargs)

        globals()["RandomShear"] = RandomShear
        return RandomShear


def __getattr__(name):
    if name == "RandomShear":
        return _random_shear_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
