"""Data-parallel training (``strategy``) and mixed precision (``dtype_policy``)."""

import io
import json
import os
import socket
import subprocess
import sys
import textwrap

import joblib
import keras
import numpy as np
import pytest

from skcnn import CNNBinaryClassifier

from .conftest import FAST


@pytest.fixture(scope="module")
def float32_and_mixed(digits):
    X, y = digits
    params = {**FAST, "epochs": 3, "random_state": 0}
    plain = CNNBinaryClassifier(**params).fit(X, y)
    mixed = CNNBinaryClassifier(**params, dtype_policy="mixed_bfloat16").fit(X, y)
    return plain, mixed


def test_mixed_precision_is_this_models_only(float32_and_mixed, digits):
    X, _ = digits
    plain, mixed = float32_and_mixed
    layers = [
        layer
        for layer in mixed.model_.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    assert [layer.dtype_policy.name for layer in layers[:-1]] == (
        ["mixed_bfloat16"] * (len(layers) - 1)
    )
    assert layers[-1].dtype_policy.name == "float32"  # the output layer
    # Variables stay float32; the convolution computes in bfloat16.
    assert {v.dtype for v in mixed.model_.weights} == {"float32"}
    conv = next(layer for layer in layers if isinstance(layer, keras.layers.Conv2D))
    assert conv(np.zeros((1, 8, 8, 1), np.float32)).dtype == "bfloat16"
    assert mixed.model_(X[:2]).dtype == "float32"
    # Never global: Keras' policy and another estimator's network stay float32.
    assert keras.config.dtype_policy().name == "float32"
    assert {layer.dtype_policy.name for layer in plain.model_.layers} == {"float32"}
    # bfloat16 changes the numbers, not what was learned.
    p_plain, p_mixed = plain.predict_proba(X)[:, 1], mixed.predict_proba(X)[:, 1]
    assert np.abs(p_plain - p_mixed).max() > 1e-4
    assert np.mean((p_plain > 0.5) == (p_mixed > 0.5)) > 0.95
    assert mixed.score(*digits) > 0.9


def test_mixed_precision_survives_a_joblib_round_trip(float32_and_mixed, digits):
    X, _ = digits
    _, mixed = float32_and_mixed
    buffer = io.BytesIO()
    joblib.dump(mixed, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    assert loaded.model_.layers[1].dtype_policy.name == "mixed_bfloat16"
    np.testing.assert_array_equal(loaded.predict_proba(X), mixed.predict_proba(X))


def test_mixed_float16_scales_the_loss(digits):
    X, y = digits
    est = CNNBinaryClassifier(
        **{**FAST, "epochs": 1}, dtype_policy="mixed_float16", random_state=0
    ).fit(X[:64], y[:64])
    assert isinstance(est.model_.optimizer, keras.optimizers.LossScaleOptimizer)
    assert est.model_.layers[1].dtype_policy.name == "mixed_float16"
    plain = CNNBinaryClassifier(**{**FAST, "epochs": 1}, dtype_policy="float32")
    plain.fit(X[:64], y[:64])
    assert not isinstance(plain.model_.optimizer, keras.optimizers.LossScaleOptimizer)


def test_mixed_precision_with_a_backbone(digits):
    X, y = digits
    images = np.repeat(np.repeat(X[:32], 4, axis=1), 4, axis=2)  # 32x32
    est = CNNBinaryClassifier(
        backbone="mobilenet_v3_small",
        weights=None,
        epochs=1,
        dtype_policy="mixed_bfloat16",
        random_state=0,
    ).fit(images, y[:32])
    convs = [
        layer
        for layer in est.model_.get_layer("mobilenet_v3_small").layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    assert {layer.dtype_policy.name for layer in convs} == {"mixed_bfloat16"}
    assert est.model_.layers[-1].dtype_policy.name == "float32"
    assert est.predict_proba(images).shape == (32, 2)


# Two logical CPU devices can only be made before TensorFlow starts: a new process.
_DATA_PARALLEL = textwrap.dedent(
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import io, joblib
    import numpy as np
    from tensorflow.python.framework import ops
    from skcnn import CNNBinaryClassifier
    from skcnn.datasets import load_digits_pair

    X, y = load_digits_pair(return_X_y=True)
    X, y = X[:64], y[:64]
    # One batch of all the samples per epoch: the gradient does not depend on
    # the order of the samples, so one device and two replicas train alike.
    params = dict(filters=(4,), epochs=2, batch_size=64, learning_rate=0.01,
                  augment=None, dropout=0, metrics=(), random_state=0)
    single = CNNBinaryClassifier(**params).fit(X, y)
    registry = ops._gradient_registry._registry
    before = len(registry)
    mirrored = CNNBinaryClassifier(**params, strategy="mirrored").fit(X, y)
    assert mirrored.model_.distribute_strategy.num_replicas_in_sync == 2
    assert len(registry) == before, (before, len(registry))  # released
    for a, b in zip(single.model_.get_weights(), mirrored.model_.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(
        single.predict_proba(X), mirrored.predict_proba(X), atol=1e-6
    )
    # Batches of 16 (8 per replica), early stopping on 16 held-out samples:
    # reproducible.
    params.update(batch_size=16, early_stopping=True, validation_fraction=0.25)
    first = CNNBinaryClassifier(**params, strategy="mirrored").fit(X, y)
    again = CNNBinaryClassifier(**params, strategy="mirrored").fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    # Inside the user's strategy scope.
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    before = len(registry)
    with strategy.scope():
        scoped = CNNBinaryClassifier(**params).fit(X, y)
        assert len(registry) == before, (before, len(registry))  # released
        try:
            CNNBinaryClassifier(**params, strategy="mirrored").fit(X, y)
        except ValueError as exc:
            print("NESTED:", exc)
    assert scoped.model_.distribute_strategy is strategy
    for bad in [dict(batch_size=15), dict(validation_fraction=0.1)]:
        try:
            CNNBinaryClassifier(**{**params, **bad}, strategy="mirrored").fit(X, y)
        except ValueError as exc:
            print("UNEVEN:", exc)
    buffer = io.BytesIO()
    joblib.dump(mirrored, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    np.testing.assert_array_equal(loaded.predict_proba(X), mirrored.predict_proba(X))
    print("OK")
    """
)


@pytest.mark.slow
def test_data_parallel_training_on_two_logical_devices():
    result = subprocess.run(
        [sys.executable, "-c", _DATA_PARALLEL],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[-1] == "OK"
    nested = [line for line in lines if line.startswith("NESTED:")]
    assert len(nested) == 1
    assert "cannot be used inside the scope of another" in nested[0]
    uneven = [line for line in lines if line.startswith("UNEVEN:")]
    assert len(uneven) == 2
    assert "batch_size=15 must be a multiple of the 2 replicas" in uneven[0]
    assert "7 validation samples" in uneven[1]


# One worker of a MultiWorkerMirroredStrategy of two processes over loopback (its
# TF_CONFIG set by the test), which creates the strategy before any other
# TensorFlow call, as TensorFlow requires, then fits inside its scope.
_WORKER = textwrap.dedent(
    """
    import json
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    import numpy as np
    from keras.src.backend.tensorflow import trainer
    from tensorflow.python.framework import ops
    from skcnn import CNNBinaryClassifier
    from skcnn.datasets import load_digits_pair

    X, y = load_digits_pair(return_X_y=True)
    X, y = X[:320], y[:320]
    params = dict(filters=(4,), epochs=3, batch_size=32, learning_rate=0.01,
                  augment=None, global_pooling=None, metrics=(), random_state=0)
    reduce_per_replica = trainer.reduce_per_replica
    registry = ops._gradient_registry._registry
    with strategy.scope():
        first = CNNBinaryClassifier(**params).fit(X, y)
        before = len(registry)
        # Early stopping: the validation step is averaged over the workers too.
        stopped = CNNBinaryClassifier(
            **params, early_stopping=True, validation_fraction=0.2
        ).fit(X, y)
    print(json.dumps({
        "replicas": first.model_.distribute_strategy.num_replicas_in_sync,
        "accuracy": first.score(X, y),
        "proba": first.predict_proba(X[:8])[:, 1].tolist(),
        "history": first.history_,
        "val_loss": stopped.history_["val_loss"],
        "registry_growth": len(registry) - before,
        "restored": trainer.reduce_per_replica is reduce_per_replica
        and "_maybe_symbolic_build" not in vars(first.model_),
    }))
    """
)


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_training_on_two_local_processes():
    """MultiWorkerMirroredStrategy over two worker processes on loopback: Keras
    3.15 alone cannot fit under it (see skcnn/utils/_tf_compat.py)."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER],
            env={
                **os.environ,
                "TF_CONFIG": json.dumps(
                    {"cluster": cluster, "task": {"type": "worker", "index": i}}
                ),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    results = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=600)
            assert worker.returncode == 0, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:  # one failed: the other would wait for it
            worker.kill()
            worker.communicate()
    first, second = results
    assert first["replicas"] == 2
    # It learnt, as one process does with these settings (accuracy 0.86 after 3
    # epochs, loss 0.73 -> 0.63).
    assert first["accuracy"] > 0.75
    losses = first["history"]["loss"]
    assert len(losses) == 3 and losses[-1] < losses[0] - 0.05
    # One network, trained in step on both workers.
    assert first["proba"] == second["proba"]
    assert first["history"] == second["history"]
    assert first["val_loss"] == second["val_loss"]
    assert first["registry_growth"] == 0  # traced graphs released
    assert first["restored"] and second["restored"]
