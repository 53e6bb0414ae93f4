"""TensorFlow in joblib's and Dask's worker processes: thread pools sized to the
worker's threads, and GPU memory allocated as needed.

joblib's default ("loky") backend starts its worker processes with
``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ... set to the
worker's share of the cores, ``cpu_count() // n_jobs`` (or ``inner_max_num_threads``,
or the value the parent process already had), so that the BLAS and OpenMP pools of
``n_jobs`` workers add up to the machine. TensorFlow ignores these variables: each
worker would size its intra-op and inter-op pools to all the cores, and
``GridSearchCV(n_jobs=2)`` would run twice as many busy threads as cores.

A worker of a ``dask.distributed`` cluster (``joblib.parallel_config(backend="dask")``)
runs ``nthreads`` tasks at once (``dask worker --nthreads``, or
``LocalCluster(threads_per_worker=...)``). Dask's nanny starts worker processes with
``OMP_NUM_THREADS=1`` (its ``distributed.nanny.pre-spawn-environ`` setting), whatever
their thread count, and TensorFlow ignores it too; its pools are sized to the
worker's thread count, read from ``distributed.get_worker().state.nthreads`` (public
API; ``get_worker`` raises ValueError outside a task). Only workers started by a
nanny (``worker.nanny`` set), each in a process of its own, are sized: the workers of
``LocalCluster(processes=False)`` run in the user's process, which is never changed
(nor are those of ``dask worker --no-nanny``).

In such a worker (loky or Dask), each GPU TensorFlow sees is also set to allocate
its memory as needed (``tf.config.experimental.set_memory_growth``), instead of
TensorFlow's default of taking all of it at start: workers sharing a GPU, or a
worker beside other programs, would otherwise fail for lack of memory. This is left
alone when the user configured it: ``TF_FORCE_GPU_ALLOW_GROWTH`` set (to "false"
for TensorFlow's default), or a memory limit (virtual devices) on a GPU.

TensorFlow's pools and GPU options can only be set before its runtime starts (the
first TensorFlow operation), so ``size_thread_pools`` is called at the start of
``CNNBinaryClassifier.fit``, of its predictions and of ``ImageLoader.transform``. It
acts once per process (a lock makes a second thread wait for the first), only inside
a worker, changes no setting the user made, and never raises.

The internals relied on: joblib's vendored loky (``_CURRENT_DEPTH``, below),
written against joblib 1.3-1.6, and the set of a process's Dask workers
(``distributed.Worker._instances``, distributed 2024-2026), where a worker is
found while a task's arguments are unpickled, outside the task (see
``unpickled``); tests/test_threads.py fails if either is gone. Can go
when TensorFlow sizes its pools from ``OMP_NUM_THREADS`` (and joblib's loky workers
set it) or joblib exposes whether the process is one of its workers.
"""

import os
import sys
import threading

_LOKY_EXECUTOR = "joblib.externals.loky.process_executor"
_lock = threading.Lock()
_done = False


def _joblib_worker_threads():
    """Threads joblib gives this process if it is one of its loky workers, else None.

    A loky worker runs ``_process_worker`` of joblib's vendored loky, which sets
    that module's ``_CURRENT_DEPTH`` (0 in the main process) to its nesting depth,
    the marker joblib itself reads to tell it runs inside a loky worker. The share
    is then the ``OMP_NUM_THREADS`` joblib passed to the worker.
    """
    executor = sys.modules.get(_LOKY_EXECUTOR)
    if executor is None or getattr(executor, "_CURRENT_DEPTH", 0) < 1:
        return None
    try:
        n_threads = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return None
    return n_threads if n_threads >= 1 else None


def _dask_worker_threads():
    """Threads of the Dask worker running the current task, if that worker has a
    process of its own (started by a nanny), else None."""
    distributed = sys.modules.get("distributed")
    if distributed is None:  # imported in every Dask worker
        return None
    try:
        worker = distributed.get_worker()
    except ValueError:  # not in a task: unpickling a task's arguments, say
        # The worker of this process, found among the workers Dask keeps
        # track of (``Worker._instances``, a WeakSet): only when there is one.
        workers = list(getattr(distributed.Worker, "_instances", ()))
        if len(workers) != 1:
            return None
        worker = workers[0]
    if worker.nanny is None:  # in-process worker: the user's process
        return None
    n_threads = worker.state.nthreads
    return n_threads if n_threads >= 1 else None


def _worker_threads():
    """The thread count of the joblib or Dask worker this process is, else None."""
    n_threads = _joblib_worker_threads()
    return n_threads if n_threads is not None else _dask_worker_threads()


def _allow_gpu_memory_growth(tf):
    """Make every GPU allocate memory as needed, unless the user configured it."""
    if "TF_FORCE_GPU_ALLOW_GROWTH" in os.environ:
        return
    gpus = tf.config.list_physical_devices("GPU")
    # A memory limit is the user's choice (and TensorFlow refuses memory growth
    # beside it); all GPUs must have the same setting, so then none is changed.
    if any(tf.config.get_logical_device_configuration(gpu) for gpu in gpus):
        return
    for gpu in gpus:  # no-op for a GPU already set to grow
        tf.config.experimental.set_memory_growth(gpu, True)


def _size_pools(tf, n_threads):
    """Size the pools the user left at TensorFlow's default (0: all the cores)."""
    pools = tf.config.threading
    if pools.get_intra_op_parallelism_threads() == 0:
        pools.set_intra_op_parallelism_threads(n_threads)
    if pools.get_inter_op_parallelism_threads() == 0:
        pools.set_inter_op_parallelism_threads(n_threads)


def _configure_worker():
    """Size the pools and set the GPUs' memory growth, if in a worker; each step
    on its own, so that one failing does not skip the other."""
    try:
        n_threads = _worker_threads()
        if n_threads is None:
            return
        import tensorflow as tf
    except Exception:  # anything unforeseen
        return
    try:
        _allow_gpu_memory_growth(tf)
    except Exception:  # TensorFlow already initialized, or anything unforeseen
        pass
    try:
        _size_pools(tf, n_threads)
    except Exception:  # TensorFlow already initialized, or anything unforeseen
        pass


def size_thread_pools():
    """In a joblib loky worker or a Dask worker process, size TensorFlow's intra-op
    and inter-op thread pools to the worker's threads, and let TensorFlow allocate
    GPU memory as needed, once per process.

    Does nothing outside such a worker, for what the user already configured, or
    when TensorFlow's runtime is already initialized (nothing can change then).
    Never raises.
    """
    global _done
    if _done:
        return
    with _lock:  # a second thread waits until the first is done
        if _done:
            return
        try:
            _configure_worker()
        finally:
            _done = True


def unpickled(reconstruct, args):
    """``reconstruct(*args)``, what pickle calls to rebuild an estimator, after
    ``size_thread_pools``.

    Pickle then unpickles the estimator's state, whose fitted network starts
    TensorFlow's runtime: in a fresh worker, the pools would be fixed at
    TensorFlow's defaults before any fit could size them. A fitted estimator
    can arrive first: scikit-learn 1.9 sends the search object itself (its
    ``best_estimator_`` too, when refitting a fitted search) with each of the
    search's fits.
    """
    size_thread_pools()
    return reconstruct(*args)
