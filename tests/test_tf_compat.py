"""skcnn/utils/_tf_compat.py: what it expects of TensorFlow and Keras still holds
(each test of that kind FAILS when the installed version no longer has what a
workaround expects: the workaround would then silently do nothing), and it changes
nothing outside skcnn's own calls."""

import logging
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import skcnn._training
from skcnn import CNNBinaryClassifier
from skcnn.utils._tf_compat import (
    RETRACING_MESSAGE,
    RandomShear,
    release_gradient_registrations,
    silence_retracing_warnings,
    traced_graph,
)

from .conftest import FAST, TINY


def test_tensorflow_still_warns_as_the_filter_expects():
    """Fails when TensorFlow no longer emits the message the filter drops: the
    filter would then do nothing, and should be updated or removed.

    In a new process: TensorFlow warns at most twice per traced Python function
    and process, and the suite's other tests may have used those up."""
    script = textwrap.dedent(
        f"""
        import logging
        import keras
        import numpy as np

        records = []
        handler = logging.Handler()
        handler.emit = records.append
        logging.getLogger("tensorflow").addHandler(handler)
        x = np.zeros((4, 3), dtype="float32")
        for _ in range(8):
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
            model.predict(x, verbose=0)
        print(sum({RETRACING_MESSAGE!r} in r.getMessage() for r in records))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) >= 1


def test_only_inside_skcnn_calls(caplog):
    logger = logging.getLogger("tensorflow")
    message = "5 out of the last 13 calls to <function f> " + RETRACING_MESSAGE
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        with silence_retracing_warnings():
            logger.warning(message)
            logger.warning("another warning")
            with silence_retracing_warnings():  # nested
                logger.warning(message)
            logger.warning(message)
        assert [r.getMessage() for r in caplog.records] == ["another warning"]
        # The same message outside an skcnn call still reaches the user.
        logger.warning(message)
    assert [r.getMessage() for r in caplog.records] == ["another warning", message]


# ------------------------------------------------- gradient registrations
def test_tensorflow_still_registers_what_fit_releases(digits, monkeypatch):
    """Fails when TensorFlow no longer keeps a "CustomGradient-<n>" entry, holding
    the traced training step, in its gradient registry (a dict) for each fit, or
    when our release no longer finds their graphs: release_gradient_registrations
    then does nothing and should be updated, or removed (if TensorFlow stopped
    keeping them)."""
    from tensorflow.python.framework import ops

    registry = ops._gradient_registry._registry
    assert isinstance(registry, dict)
    seen = []

    def spy(model):
        names = [n for n in registry if n.startswith("CustomGradient-")]
        graphs = {n: traced_graph(registry[n].get("type")) for n in names}
        released = release_gradient_registrations(model)
        seen.append((graphs, released))
        return released

    monkeypatch.setattr(skcnn._training, "_release_gradient_registrations", spy)
    X, y = digits
    CNNBinaryClassifier(**FAST, random_state=0).fit(X, y)
    ((graphs, released),) = seen
    assert len(released) > 0
    assert all(graphs[name] is not None for name in released)
    assert not set(released) & set(registry)


def test_release_touches_no_other_model_and_never_raises():
    assert release_gradient_registrations(object()) == []
    assert traced_graph(None) is None
    assert traced_graph(lambda: 0) is None


# ----------------------------------------------------------- RandomShear
def test_keras_random_shear_still_writes_a_config_it_refuses():
    """Fails when Keras' RandomShear loads its own configuration back: then
    skcnn's RandomShear subclass can go (while "skcnn>RandomShear", the name the
    models saved with it record, stays loadable)."""
    config = keras.layers.RandomShear(0.2, 0.2).get_config()
    with pytest.raises((TypeError, ValueError), match="factor"):
        keras.layers.RandomShear.from_config(config)


def test_random_shear_loads_its_config_back():
    layer = RandomShear(0.2, 0.1, seed=3, name="augment_shear")
    copy = RandomShear.from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    assert (copy.x_factor, copy.y_factor) == ((-0.2, 0.2), (-0.1, 0.1))
    assert keras.saving.get_registered_name(RandomShear) == "skcnn>RandomShear"
    assert isinstance(copy, keras.layers.RandomShear)


def test_a_shear_layer_saved_before_the_move_loads():
    # The layer's configuration as a model saved when the class lived in
    # skcnn._architecture records it.
    config = {
        "module": "skcnn._architecture",
        "class_name": "RandomShear",
        "config": {
            "name": "augment_shear",
            "trainable": True,
            "dtype": "float32",
            "data_format": "channels_last",
            "x_factor": [-0.2, 0.2],
            "y_factor": [-0.2, 0.2],
            "fill_mode": "reflect",
            "interpolation": "bilinear",
            "seed": 209652398,
            "fill_value": 0.0,
        },
        "registered_name": "skcnn>RandomShear",
    }
    layer = keras.saving.deserialize_keras_object(config)
    assert isinstance(layer, RandomShear)
    assert (layer.x_factor, layer.y_factor) == ((-0.2, 0.2), (-0.2, 0.2))
    image = np.arange(64, dtype="float32").reshape(1, 8, 8, 1)
    np.testing.assert_array_equal(layer(image, training=False), image)


def test_keras_still_has_what_multi_worker_fit_replaces(digits):
    """multi_worker_fit replaces a method of Keras 3.15's TensorFlowTrainer on the
    model and a function of its module while the model trains; it relies on
    Keras' test of a multi-worker strategy. Under any other strategy it changes
    nothing."""
    import inspect

    from keras.src.backend.tensorflow import trainer

    from skcnn.utils._tf_compat import multi_worker_fit

    assert callable(trainer._collective_all_reduce_multi_worker)
    assert list(inspect.signature(trainer.reduce_per_replica).parameters) == [
        "values",
        "strategy",
        "reduction",
    ]
    assert callable(trainer.TensorFlowTrainer._maybe_symbolic_build)
    assert callable(trainer.TensorFlowTrainer._symbolic_build)
    X, y = digits
    model = CNNBinaryClassifier(**TINY, random_state=0).fit(X, y).model_
    assert not trainer._collective_all_reduce_multi_worker(model.distribute_strategy)
    original = trainer.reduce_per_replica
    with multi_worker_fit(model):
        assert trainer.reduce_per_replica is original
        assert "_maybe_symbolic_build" not in vars(model)
