"""Model selection on a dask.distributed cluster (``skcnn[distributed]``): the same
results as ``n_jobs=1``, image files read by the workers, and TensorFlow sized to
each worker's threads.

One local cluster for the module, on the loopback interface only, with one worker
process of two threads: two threads rather than one, so that the worker's thread
count differs from the ``OMP_NUM_THREADS=1`` Dask's nanny gives its processes.
Every test compares with ``reference``, the same 2 candidates x 2 folds fitted in
this process with ``n_jobs=1``.

In the whole suite, pytest-xdist sends these tests to one worker together (it deals
out consecutive tests in chunks); ``pytest -n 2`` on this file alone splits them, and
each xdist worker then starts its own cluster.
"""

import os

import joblib
import numpy as np
import pytest
import tensorflow as tf
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.metrics import log_loss
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    RandomizedSearchCV,
    cross_validate,
)
from sklearn.pipeline import make_pipeline

import skcnn._image
from skcnn import CNNBinaryClassifier, ImageLoader

from .conftest import MINIMAL, write_pngs

distributed = pytest.importorskip("distributed")

N_WORKERS, THREADS = 1, 2
# One small block, one epoch, no Keras metric (a third of a small fit's time): the
# candidates differ (dropout), the fits are cheap.
PARAMS = {**MINIMAL, "filters": (4,), "epochs": 1, "learning_rate": 0.01}
PARAMS |= {"metrics": (), "verbose": 0, "random_state": 0}
GRID = {"dropout": [0.0, 0.5]}
# The log loss, not a count of right answers: any change in a fit shows.
SCORING = "neg_log_loss"
RTOL = 1e-5  # TensorFlow's float32 sums may differ in the last bits


def _local_cluster():
    """N_WORKERS worker processes of THREADS threads, on the loopback interface."""
    return distributed.LocalCluster(
        n_workers=N_WORKERS,
        threads_per_worker=THREADS,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        memory_limit=0,  # no pausing or restart of workers on a busy machine
    )


@pytest.fixture(scope="module")
def client():
    with _local_cluster() as cluster, distributed.Client(cluster) as client:
        # The worker imports TensorFlow (seconds) while this process fits the
        # reference; the tests' tasks queue behind it.
        warm_up = client.submit(lambda: __import__("skcnn._classifier"), pure=False)
        yield client
        del warm_up


@pytest.fixture(scope="module")
def reference(digits):
    """cv_results_ of the 2 candidates x 2 folds, fitted in this process."""
    X, y = digits
    search = GridSearchCV(
        CNNBinaryClassifier(**PARAMS), GRID, cv=2, scoring=SCORING, refit=False
    )
    return search.fit(X, y).cv_results_


def _scores(results, index):
    """Fold and mean test scores of candidate ``index`` of ``results``."""
    keys = ["split0_test_score", "split1_test_score", "mean_test_score"]
    return [results[key][index] for key in keys]


def _reference_index(reference, dropout):
    return [params["dropout"] for params in reference["params"]].index(dropout)


def _assert_same_results(results, reference, key="dropout"):
    """Each candidate of ``results`` (whose parameter ``key`` is the dropout)
    scores as the reference candidate with that dropout."""
    assert len(results["params"]) == len(reference["params"])
    for index, params in enumerate(results["params"]):
        expected = _reference_index(reference, params[key])
        np.testing.assert_allclose(
            _scores(results, index), _scores(reference, expected), rtol=RTOL
        )


def _best_dropout(reference):
    return reference["params"][np.argmax(reference["mean_test_score"])]["dropout"]


@pytest.mark.slow
def test_grid_search_on_scattered_arrays(client, digits, reference):
    X, y = digits
    search = GridSearchCV(
        CNNBinaryClassifier(**PARAMS), GRID, cv=2, scoring=SCORING, refit=False
    )
    with joblib.parallel_config(backend="dask", scatter=[X, y]):
        search.fit(X, y)
    _assert_same_results(search.cv_results_, reference)
    assert search.best_params_ == {"dropout": _best_dropout(reference)}

    # The fits ran in the worker: its TensorFlow pools have its thread count,
    # not the OMP_NUM_THREADS=1 of Dask's nanny.
    pools = client.run(
        lambda: (
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads(),
            os.environ.get("OMP_NUM_THREADS"),
        )
    )
    assert list(pools.values()) == [(THREADS, THREADS, "1")] * N_WORKERS


@pytest.mark.slow
def test_randomized_search_of_a_pipeline_on_file_paths(
    client, digits, reference, tmp_path, monkeypatch
):
    images, y = digits
    X = write_pngs(tmp_path, images)
    assert X.shape == (len(y),) and isinstance(X[0], str)  # paths, not pixels
    loader = ImageLoader(image_size=(8, 8), color_mode="grayscale")
    np.testing.assert_array_equal(loader.transform(X), images)  # the reference's

    def count_decoded_files():
        import skcnn._image

        read = skcnn._image._read_into

        def counting(out, paths, *args):
            counting.n_files += len(paths)
            return read(out, paths, *args)

        counting.n_files, counting.read = 0, read
        skcnn._image._read_into = counting

    def decoded_files():
        import skcnn._image

        counting = skcnn._image._read_into
        skcnn._image._read_into = counting.read
        return counting.n_files

    monkeypatch.setattr(skcnn._image, "_read_into", skcnn._image._read_into)
    count_decoded_files()  # in this process, restored by monkeypatch
    client.run(count_decoded_files)
    search = RandomizedSearchCV(
        make_pipeline(loader, CNNBinaryClassifier(**PARAMS)),
        {"cnnbinaryclassifier__dropout": GRID["dropout"]},
        n_iter=2,
        cv=2,
        scoring=SCORING,
        refit=False,
        random_state=0,
    )
    try:
        with joblib.parallel_config(backend="dask"):
            search.fit(X, y)
    finally:
        in_workers = client.run(decoded_files)
    _assert_same_results(search.cv_results_, reference, "cnnbinaryclassifier__dropout")
    assert search.best_params_ == {
        "cnnbinaryclassifier__dropout": _best_dropout(reference)
    }
    # Each of the 2 x 2 fits read its training and test files, in the workers.
    assert sum(in_workers.values()) == 2 * 2 * len(X)
    assert skcnn._image._read_into.n_files == 0


@pytest.mark.slow
def test_fitted_search_refitted_on_a_new_worker(digits):
    """scikit-learn sends the search object, fitted best_estimator_ included,
    with each fit: unpickled first in a new worker, its network would start
    TensorFlow before skcnn could size the pools."""
    X, y = digits
    search = GridSearchCV(
        CNNBinaryClassifier(**PARAMS), {"dropout": [0.5]}, cv=2, scoring=SCORING
    ).fit(X, y)  # in this process: best_estimator_ is a fitted network
    with (
        _local_cluster() as cluster,
        distributed.Client(cluster) as client,
        joblib.parallel_config(backend="dask"),
    ):
        search.fit(X, y)
        pools = client.run(
            lambda: (
                tf.config.threading.get_intra_op_parallelism_threads(),
                tf.config.threading.get_inter_op_parallelism_threads(),
            )
        )
    assert list(pools.values()) == [(THREADS, THREADS)] * N_WORKERS


@pytest.mark.slow
def test_halving_grid_search_over_epochs(client, digits, reference):
    X, y = digits
    search = HalvingGridSearchCV(
        CNNBinaryClassifier(**PARAMS),
        GRID,
        resource="epochs",
        min_resources=1,
        max_resources=2,
        factor=2,
        cv=2,
        scoring=SCORING,
        refit=False,
    )
    with joblib.parallel_config(backend="dask"):
        search.fit(X, y)
    results = search.cv_results_
    assert search.n_resources_ == [1, 2]
    np.testing.assert_array_equal(results["iter"], [0, 0, 1])
    # Iteration 0, both candidates for 1 epoch, is the reference.
    first = {key: values[:2] for key, values in results.items()}
    _assert_same_results(first, reference)
    # Iteration 1: the better one, for 2 epochs, as in this process on the same
    # folds, and trained further than for 1 epoch.
    best = _best_dropout(reference)
    assert search.best_params_ == {"dropout": best, "epochs": 2}
    assert results["params"][2] == {"dropout": best, "epochs": 2}
    twice = cross_validate(
        CNNBinaryClassifier(**{**PARAMS, "dropout": best, "epochs": 2}),
        X,
        y,
        cv=2,
        scoring=SCORING,
    )["test_score"]
    expected = [*twice, twice.mean()]
    np.testing.assert_allclose(_scores(results, 2), expected, rtol=RTOL)
    once = _scores(reference, _reference_index(reference, best))
    assert np.all(np.array(expected) > np.array(once) + 0.01)


@pytest.mark.slow
def test_cross_validate_returns_the_fitted_estimators(client, digits, reference):
    X, y = digits
    clf = CNNBinaryClassifier(**PARAMS)  # dropout 0.5
    with joblib.parallel_config(backend="dask"):
        result = cross_validate(
            clf,
            X,
            y,
            cv=2,
            scoring=SCORING,
            return_estimator=True,
            return_indices=True,
        )
    expected = _scores(reference, _reference_index(reference, clf.dropout))
    np.testing.assert_allclose(result["test_score"], expected[:2], rtol=RTOL)
    # The networks fitted in the worker predict here as they scored there.
    for estimator, test, score in zip(
        result["estimator"],
        result["indices"]["test"],
        result["test_score"],
        strict=True,
    ):
        proba = estimator.predict_proba(X[test])
        np.testing.assert_allclose(
            -log_loss(y[test], proba, labels=estimator.classes_), score, rtol=RTOL
        )
