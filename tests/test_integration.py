"""CNNBinaryClassifier in scikit-learn tools, in new processes, beside scikeras."""

import json
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    check_cv,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skcnn import CNNBinaryClassifier, build_cnn, make_baseline


def _run_python(code, *args):
    """Run code in a fresh interpreter and return its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_is_a_classifier_with_stratified_folds_and_real_roc_auc(digits, fast_params):
    """The three things scikeras 0.13 gets wrong under scikit-learn 1.9."""
    X, y = digits
    clf = CNNBinaryClassifier(**fast_params, random_state=0)
    assert is_classifier(clf)
    assert isinstance(check_cv(3, y, classifier=is_classifier(clf)), StratifiedKFold)
    scores = cross_val_score(clf, X, y, cv=3, scoring="roc_auc")
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores)) and np.all(scores > 0.9)


def test_clone_keeps_params_and_drops_fit(fitted_cnn):
    copy = clone(fitted_cnn)
    assert copy.get_params() == fitted_cnn.get_params()
    assert not hasattr(copy, "model_")


def test_pipeline_and_cross_validate(digits, fast_params):
    X, y = digits
    pipe = make_pipeline(
        FunctionTransformer(lambda X: X.reshape(len(X), -1)),
        CNNBinaryClassifier(**fast_params, image_shape=(8, 8), random_state=0),
    )
    result = cross_validate(pipe, X, y, cv=2, scoring=["accuracy", "roc_auc"])
    assert np.all(np.isfinite(result["test_roc_auc"]))
    assert result["fit_time"].shape == (2,)


@pytest.mark.slow
def test_grid_search_over_filters_and_dropout(digits):
    # n_jobs=2 is test_grid_search_results_do_not_depend_on_n_jobs's.
    X, y = digits
    n_jobs = 1
    search = GridSearchCV(
        CNNBinaryClassifier(augment=None, epochs=2, random_state=0, verbose=0),
        {"filters": [(2,), (4,)], "dropout": [0.0, 0.5]},
        cv=2,
        scoring="roc_auc",
        n_jobs=n_jobs,
    )
    search.fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["filters"] in [(2,), (4,)]
    assert search.best_estimator_.filters == search.best_params_["filters"]
    assert search.predict(X).shape == (len(X),)


def test_grid_search_results_do_not_depend_on_n_jobs(digits):
    """Seeded fits in loky workers score exactly as in this process."""
    X, y = digits
    scores = []
    for n_jobs in (1, 2):
        search = GridSearchCV(
            CNNBinaryClassifier(
                augment=None, filters=(2,), epochs=1, random_state=0, verbose=0
            ),
            {"dropout": [0.0, 0.5]},
            cv=2,
            scoring="roc_auc",
            n_jobs=n_jobs,
        ).fit(X, y)
        scores.append(search.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(scores[0], scores[1])


def test_calibration(digits, fast_params):
    X, y = digits
    calibrated = CalibratedClassifierCV(
        CNNBinaryClassifier(**fast_params, random_state=0), cv=2
    ).fit(X, y)
    proba = calibrated.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_threshold_tuning(digits, fast_params):
    X, y = digits
    tuned = TunedThresholdClassifierCV(
        CNNBinaryClassifier(**fast_params, random_state=0),
        scoring="balanced_accuracy",
        cv=2,
    ).fit(X, y)
    assert 0.0 < tuned.best_threshold_ < 1.0
    assert set(tuned.predict(X)) <= {7, 8}


# Loads each joblib file of argv[1::2] and saves its probabilities on the digits
# in the .npy file that follows it: one interpreter for several models.
_PREDICT_SAVED = """
    import sys, joblib, numpy as np
    from skcnn.datasets import load_digits_pair
    X, _ = load_digits_pair(return_X_y=True)
    for path, out in zip(sys.argv[1::2], sys.argv[2::2]):
        np.save(out, joblib.load(path).predict_proba(X))
"""


@pytest.mark.slow
def test_joblib_round_trip_in_a_new_process(digits, fast_params, tmp_path):
    X, y = digits
    estimators = {
        "cnn": CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y),
        "baseline": make_baseline().fit(X, y),
        "pipe": make_pipeline(
            FunctionTransformer(np.ascontiguousarray),
            CNNBinaryClassifier(**fast_params, random_state=0),
        ).fit(X, y),
    }
    files = []
    for name, estimator in estimators.items():
        joblib.dump(estimator, tmp_path / f"{name}.joblib")
        files += [tmp_path / f"{name}.joblib", tmp_path / f"{name}.npy"]
    _run_python(_PREDICT_SAVED, *files)
    for name, estimator in estimators.items():
        expected = estimator.predict_proba(X)
        np.testing.assert_array_equal(np.load(tmp_path / f"{name}.npy"), expected)
        # and in this process
        loaded = joblib.load(tmp_path / f"{name}.joblib")
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)


@pytest.mark.slow
def test_same_random_state_same_predictions_across_processes(digits, tmp_path):
    code = """
        import sys, numpy as np
        from skcnn import CNNBinaryClassifier
        from skcnn.datasets import load_digits_pair
        X, y = load_digits_pair(return_X_y=True)
        clf = CNNBinaryClassifier(augment=None, filters=(4, 8), epochs=3, dropout=0.3,
                                  random_state=11, verbose=0).fit(X, y)
        np.save(sys.argv[1], clf.predict_proba(X))
    """
    # Another interpreter (its own TensorFlow state and hash seed) and this one,
    # after the fits of other tests, train the same network.
    _run_python(code, tmp_path / "there.npy")
    X, y = digits
    here = CNNBinaryClassifier(
        augment=None, filters=(4, 8), epochs=3, dropout=0.3, random_state=11, verbose=0
    ).fit(X, y)
    np.testing.assert_array_equal(
        np.load(tmp_path / "there.npy"), here.predict_proba(X)
    )


@pytest.mark.slow
def test_build_cnn_is_a_scikeras_model_function():
    """scikeras' KerasClassifier takes build_cnn as its model=.

    Run in a fresh interpreter: importing scikeras replaces keras.Model.__reduce__
    for the whole process, which must not leak into the other tests.
    """
    code = """
        import json
        import numpy as np
        from scikeras.wrappers import KerasClassifier
        from skcnn import build_cnn
        from skcnn.datasets import load_digits_pair
        X, y = load_digits_pair(return_X_y=True)
        clf = KerasClassifier(
            model=build_cnn, model__input_shape=(8, 8, 1), model__filters=(8, 16),
            model__rescale=1 / 255, model__seed=0, model__augment=None,
            model__global_pooling=None, loss="binary_crossentropy",
            optimizer="adam", epochs=15, random_state=0, verbose=0,
        ).fit(X, y)
        print(json.dumps({
            "classes": clf.classes_.tolist(),
            "predicted": sorted(set(clf.predict(X).tolist())),
            "proba_shape": list(clf.predict_proba(X).shape),
            "n_params": clf.model_.count_params(),
            "score": clf.score(X, y),
        }))
    """
    result = json.loads(_run_python(code))
    assert result["classes"] == [7, 8]
    assert set(result["predicted"]) <= {7, 8}
    assert result["proba_shape"] == [353, 2]
    flat = build_cnn((8, 8, 1), filters=(8, 16), global_pooling=None)
    assert result["n_params"] == flat.count_params()
    assert result["score"] > 0.9


def test_predict_from_several_threads_at_once(digits, fast_params):
    """Concurrent predictions on one fitted model equal serial ones."""
    from concurrent.futures import ThreadPoolExecutor

    X, y = digits
    reference = CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y)
    serial = reference.predict_proba(X)
    # A model not used yet: its first predictions happen in the threads.
    clf = CNNBinaryClassifier(**fast_params, random_state=0).fit(X, y)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda k: clf.predict_proba(X[k % 3 :]), range(12)))
    for k, proba in enumerate(results):
        np.testing.assert_array_equal(proba, serial[k % 3 :])
