"""Sizing TensorFlow's thread pools to a joblib worker's share of the cores.

joblib's default ("loky") backend starts its worker processes with
``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ... set to the
worker's share of the cores, ``cpu_count() // n_jobs`` (or ``inner_max_num_threads``,
or the value the parent process already had), so that the BLAS and OpenMP pools of
``n_jobs`` workers add up to the machine. TensorFlow ignores these variables: each
worker would size its intra-op and inter-op pools to all the cores, and
``GridSearchCV(n_jobs=2)`` would run twice as many busy threads as cores.

TensorFlow's pools can only be sized before its runtime starts (the first
TensorFlow operation), so ``size_thread_pools`` is called at the start of
``CNNBinaryClassifier.fit`` and of its predictions. It acts once per process, only
inside a joblib loky worker, and never raises.
"""

import os
import sys

_LOKY_EXECUTOR = "joblib.externals.loky.process_executor"
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


def size_thread_pools():
    """In a joblib loky worker, size TensorFlow's intra-op and inter-op thread
    pools to the worker's share of the cores, once per process.

    Does nothing outside such a worker, when a pool was already sized (by the
    user), or when TensorFlow's runtime is already initialized (its pools can no
    longer change then). Never raises.
    """
    global _done
    if _done:
        return
    _done = True
    try:
        n_threads = _joblib_worker_threads()
        if n_threads is None:
            return
        import tensorflow as tf

        threading = tf.config.threading
        if threading.get_intra_op_parallelism_threads() == 0:
            threading.set_intra_op_parallelism_threads(n_threads)
        if threading.get_inter_op_parallelism_threads() == 0:
            threading.set_inter_op_parallelism_threads(n_threads)
    except Exception:  # TensorFlow already initialized, or anything unforeseen
        pass
