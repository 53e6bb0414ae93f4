"""TensorFlow's thread pools in joblib workers, sized to the worker's share."""

import os

import joblib
import pytest
import tensorflow as tf

from skcnn import CNNBinaryClassifier

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
        joblib.delayed(fit_in_worker)(seed) for seed in range(4)
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
