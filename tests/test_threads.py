"""TensorFlow in joblib and Dask workers: thread pools sized to the worker's
share, GPU memory allocated as needed."""

import os
import types
import weakref

import joblib
import pytest
import tensorflow as tf

from skcnn import CNNBinaryClassifier, _threads

from .conftest import FAST, write_pngs


# ------------------------------------------------- thread pools in joblib workers
@pytest.mark.slow
@pytest.mark.parametrize("data", ["arrays", "files"])
def test_tensorflow_pools_sized_to_the_joblib_worker_share(digits, data, tmp_path):
    X, y = digits
    params = dict(FAST, epochs=1)
    if data == "files":  # ImageLoader then runs TensorFlow first, in a Pipeline
        X = list(write_pngs(tmp_path, X, name="{}.png"))

    def fit_in_worker(seed):
        import os

        import tensorflow as tf
        from sklearn.pipeline import make_pipeline

        from skcnn import CNNBinaryClassifier, ImageLoader

        clf = CNNBinaryClassifier(**params, random_state=seed)
        if data == "files":
            loader = ImageLoader(image_size=(8, 8), color_mode="grayscale")
            clf = make_pipeline(loader, clf)
        clf.fit(X, y)
        threading = tf.config.threading
        return (
            os.getpid(),
            os.environ.get("OMP_NUM_THREADS"),
            threading.get_intra_op_parallelism_threads(),
            threading.get_inter_op_parallelism_threads(),
        )

    # Fresh workers: reused ones may have started TensorFlow in an earlier test.
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)
    results = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(fit_in_worker)(seed) for seed in range(2)
    )
    # The share joblib gives each of 2 workers (unless OMP_NUM_THREADS is set).
    share = int(os.environ.get("OMP_NUM_THREADS", max(joblib.cpu_count() // 2, 1)))
    for _, omp, intra, inter in results:
        assert omp == str(share)
        assert (intra, inter) == (share, share)


def test_main_process_pools_are_left_alone(digits):
    X, y = digits
    threading = tf.config.threading
    before = (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
    CNNBinaryClassifier(**FAST, random_state=0).fit(X, y).predict(X)
    after = (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
    assert after == before == (0, 0)  # 0: TensorFlow's default, all the cores


def test_loky_still_marks_its_workers():
    """Fails when joblib's vendored loky no longer has the marker skcnn reads to
    tell it runs in a loky worker: the pools would then silently stay unsized."""
    from joblib.externals.loky import process_executor

    assert process_executor._CURRENT_DEPTH == 0  # 0 in the main process


def test_dask_still_keeps_track_of_its_workers():
    """Fails when distributed no longer keeps the set of a process's workers
    where skcnn finds its worker outside a task (unpickling a task's arguments):
    the pools of a worker sent a fitted estimator would then stay unsized."""
    distributed = pytest.importorskip("distributed")

    instances = distributed.Worker._instances
    assert isinstance(instances, weakref.WeakSet)
    assert not [w for w in instances if w.nanny is not None]  # none here


# ------------------------------------------------- which process is a worker
@pytest.fixture
def first_call(monkeypatch):
    """size_thread_pools as if never called in this process (restored after)."""
    monkeypatch.setattr(_threads, "_done", False)


def _fake_worker(nthreads, nanny="tcp://127.0.0.1:40000"):
    return types.SimpleNamespace(
        nanny=nanny, state=types.SimpleNamespace(nthreads=nthreads)
    )


def test_dask_worker_threads(monkeypatch):
    distributed = pytest.importorskip("distributed")
    assert _threads._dask_worker_threads() is None  # not in a task of a worker
    monkeypatch.setattr(distributed, "get_worker", lambda: _fake_worker(3))
    assert _threads._dask_worker_threads() == 3
    assert _threads._worker_threads() == 3
    # The workers of LocalCluster(processes=False) share the user's process.
    monkeypatch.setattr(distributed, "get_worker", lambda: _fake_worker(3, None))
    assert _threads._dask_worker_threads() is None


def test_never_raises_and_acts_once(monkeypatch, first_call):
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("unforeseen")

    monkeypatch.setattr(_threads, "_worker_threads", broken)
    _threads.size_thread_pools()
    _threads.size_thread_pools()
    assert calls == [1]


# ------------------------------------------------- GPU memory in workers
GPUS = [
    tf.config.PhysicalDevice(name=f"/physical_device:GPU:{i}", device_type="GPU")
    for i in range(2)
]


@pytest.fixture
def fake_gpus(monkeypatch, first_call):
    """Two GPUs, a worker with 2 threads, and TensorFlow's setters recording what
    they are asked (the real ones cannot act here: no GPU, runtime started)."""
    calls = {"growth": [], "intra": [], "inter": [], "listed": 0}
    memory_limits = {}

    def list_physical_devices(device_type=None):
        calls["listed"] += 1
        return list(GPUS) if device_type == "GPU" else []

    def set_memory_growth(device, enable):
        if calls.get("initialized"):
            raise RuntimeError(
                "Physical devices cannot be modified after being initialized"
            )
        calls["growth"].append((device.name, enable))

    config, threading = tf.config, tf.config.threading
    monkeypatch.setattr(config, "list_physical_devices", list_physical_devices)
    monkeypatch.setattr(config, "get_logical_device_configuration", memory_limits.get)
    monkeypatch.setattr(config.experimental, "set_memory_growth", set_memory_growth)
    monkeypatch.setattr(threading, "get_intra_op_parallelism_threads", lambda: 0)
    monkeypatch.setattr(threading, "get_inter_op_parallelism_threads", lambda: 0)
    monkeypatch.setattr(
        threading, "set_intra_op_parallelism_threads", calls["intra"].append
    )
    monkeypatch.setattr(
        threading, "set_inter_op_parallelism_threads", calls["inter"].append
    )
    monkeypatch.setattr(_threads, "_worker_threads", lambda: 2)
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    calls["memory_limits"] = memory_limits
    return calls


def test_gpu_memory_grows_in_workers(fake_gpus):
    _threads.size_thread_pools()
    assert fake_gpus["growth"] == [(gpu.name, True) for gpu in GPUS]
    assert (fake_gpus["intra"], fake_gpus["inter"]) == ([2], [2])
    _threads.size_thread_pools()  # once per process
    assert len(fake_gpus["growth"]) == 2 and fake_gpus["intra"] == [2]


@pytest.mark.parametrize("setting", ["TF_FORCE_GPU_ALLOW_GROWTH", "memory_limit"])
def test_gpu_memory_settings_of_the_user_are_kept(fake_gpus, monkeypatch, setting):
    if setting == "memory_limit":
        fake_gpus["memory_limits"][GPUS[1]] = [
            tf.config.LogicalDeviceConfiguration(1024)
        ]
    else:
        monkeypatch.setenv("TF_FORCE_GPU_ALLOW_GROWTH", "false")
    _threads.size_thread_pools()
    assert fake_gpus["growth"] == []
    assert (fake_gpus["intra"], fake_gpus["inter"]) == ([2], [2])


def test_gpu_after_tensorflow_started_still_sizes_the_pools(fake_gpus):
    fake_gpus["initialized"] = True  # set_memory_growth raises RuntimeError
    _threads.size_thread_pools()
    assert fake_gpus["growth"] == []
    assert (fake_gpus["intra"], fake_gpus["inter"]) == ([2], [2])


def test_gpus_left_alone_outside_workers(fake_gpus, monkeypatch):
    monkeypatch.setattr(_threads, "_worker_threads", lambda: None)
    _threads.size_thread_pools()
    assert fake_gpus["listed"] == 0
    assert fake_gpus["growth"] == fake_gpus["intra"] == fake_gpus["inter"] == []
