"""Ctrl-C (KeyboardInterrupt) and failures during fit: what the estimator keeps."""

import warnings

import keras
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skcnn import CNNBinaryClassifier

from .conftest import FAST


class Interrupt(keras.callbacks.Callback):
    """Simulates Ctrl-C: raises KeyboardInterrupt at the end of epoch ``epoch``, or
    after batch ``batch`` of epoch ``batch_of_epoch``. Keeps the weights at every
    epoch end and at the interruption."""

    def __init__(self, epoch=None, batch=None, batch_of_epoch=0):
        super().__init__()
        self.at_epoch, self.at_batch, self.batch_of_epoch = epoch, batch, batch_of_epoch

    def on_train_begin(self, logs=None):
        self.epoch_weights, self.weights = [], None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_weights.append(self.model.get_weights())
        if epoch == self.at_epoch:
            self.weights = self.model.get_weights()
            raise KeyboardInterrupt

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.batch_of_epoch and batch == self.at_batch:
            self.weights = self.model.get_weights()
            raise KeyboardInterrupt


def fit_interrupted(clf, X, y):
    """clf.fit(X, y), which must raise KeyboardInterrupt; the UserWarnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    return [w for w in caught if issubclass(w.category, UserWarning)]


def assert_weights_equal(model, weights):
    got = model.get_weights()
    assert len(got) == len(weights)
    for a, b in zip(got, weights, strict=True):
        np.testing.assert_array_equal(a, b)


def assert_unfitted(clf):
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    fitted = [a for a in vars(clf) if a.endswith("_") and not a.startswith("__")]
    assert fitted == []


# --------------------------------------------------------------- Ctrl-C in fit
def test_interrupt_after_epochs_keeps_the_weights_so_far(digits):
    X, y = digits
    stop = Interrupt(epoch=1)
    clf = CNNBinaryClassifier(
        **{**FAST, "epochs": 5, "metrics": ("accuracy",)},
        callbacks=[stop],
        random_state=0,
    )
    caught = fit_interrupted(clf, X, y)

    assert len(caught) == 1
    message = str(caught[0].message)
    assert "interrupted (KeyboardInterrupt) after 2 completed epochs of 5" in message
    assert "weights so far" in message
    check_is_fitted(clf)
    assert clf.n_iter_ == 2
    assert sorted(clf.history_) == ["accuracy", "loss"]
    assert all(len(v) == 2 for v in clf.history_.values())
    assert all(isinstance(v, float) for v in clf.history_["loss"])
    assert clf.best_epoch_ == 2
    np.testing.assert_array_equal(clf.classes_, [7, 8])
    assert_weights_equal(clf.model_, stop.weights)
    # The estimator predicts with that model.
    expected = clf.model_.predict(X, batch_size=clf.batch_size, verbose=0)[:, 0]
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], expected, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(expected > 0.5) * 1])


def test_interrupt_in_first_epoch_leaves_the_estimator_unfitted(digits):
    X, y = digits
    clf = CNNBinaryClassifier(**FAST, callbacks=[Interrupt(batch=2)], random_state=0)
    assert fit_interrupted(clf, X, y) == []
    assert_unfitted(clf)


def test_interrupted_refit_does_not_mix_old_model_and_new_classes(digits):
    X, y = digits
    clf = CNNBinaryClassifier(**FAST, random_state=0).fit(X, y)
    check_is_fitted(clf)
    clf.set_params(callbacks=[Interrupt(batch=0)])
    assert fit_interrupted(clf, X, np.where(y == 7, "seven", "eight")) == []
    assert_unfitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict(X)

    # Interrupted after an epoch: the new classes with the new model.
    old = CNNBinaryClassifier(**FAST, random_state=0).fit(X, y)
    old_model = old.model_
    old.set_params(callbacks=[Interrupt(epoch=0)])
    (warning,) = fit_interrupted(old, X, np.where(y == 7, "seven", "eight"))
    assert "after 1 completed epoch of 3" in str(warning.message)
    assert old.model_ is not old_model
    np.testing.assert_array_equal(old.classes_, ["eight", "seven"])
    assert old.n_iter_ == 1
    assert set(old.predict(X)) <= {"eight", "seven"}


def test_a_failed_fit_leaves_no_attributes_of_a_previous_fit(digits):
    X, y = digits
    clf = CNNBinaryClassifier(**FAST, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        clf.set_params(class_weight={"nine": 2.0}).fit(X, y)
    assert_unfitted(clf)


def test_interrupt_with_early_stopping_restores_the_best_weights(digits):
    X, y = digits
    # Ctrl-C after the first batch of the 4th epoch (index 3); patience beyond
    # the epochs, so early stopping never stops the fit itself.
    stop = Interrupt(batch=0, batch_of_epoch=3)
    clf = CNNBinaryClassifier(
        **{**FAST, "epochs": 8, "metrics": ("accuracy",)},
        early_stopping=True,
        n_iter_no_change=8,
        callbacks=[stop],
        random_state=0,
    )
    (warning,) = fit_interrupted(clf, X, y)
    assert clf.n_iter_ == 3
    assert sorted(clf.history_) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(clf.history_["val_loss"]) == 3
    best = int(np.argmin(clf.history_["val_loss"]))
    assert clf.best_epoch_ == best + 1
    assert f"best epoch early stopping had checked (epoch {best + 1})" in str(
        warning.message
    )
    assert_weights_equal(clf.model_, stop.epoch_weights[best])
    # Not the weights at the interruption, one batch further.
    assert not all(
        np.array_equal(a, b)
        for a, b in zip(clf.model_.get_weights(), stop.weights, strict=True)
    )
