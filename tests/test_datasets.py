import numpy as np
import pytest
from sklearn.datasets import load_digits

from skcnn.datasets import load_digits_pair, make_shifted_digits


def test_digits_7v8():
    data = load_digits_pair()
    digits = load_digits()
    keep = np.isin(digits.target, (7, 8))
    assert data.images.shape == (keep.sum(), 8, 8, 1)
    assert data.images.dtype == np.uint8
    np.testing.assert_array_equal(data.target, digits.target[keep])
    # 0-16 grey levels spread over 0-255, same order of samples
    np.testing.assert_array_equal(
        data.images[..., 0], np.rint(digits.images[keep] * 255 / 16).astype(np.uint8)
    )
    assert data.images.max() == 255
    np.testing.assert_array_equal(data.target_names, [7, 8])
    X, y = load_digits_pair(return_X_y=True)
    np.testing.assert_array_equal(X, data.images)


def test_other_pair():
    X, y = load_digits_pair((0, 1), return_X_y=True)
    assert set(y) == {0, 1}


@pytest.mark.parametrize("pair", [(7, 7), (7,), (3, 10)])
def test_bad_pair(pair):
    with pytest.raises(ValueError, match="pair"):
        load_digits_pair(pair)


def test_shifted_digits_place_each_digit_whole_at_its_position():
    digits, target = load_digits_pair(return_X_y=True)
    data = make_shifted_digits(canvas_size=12, n_copies=2, random_state=3)
    n = len(target)
    assert data.images.shape == (2 * n, 12, 12, 1)
    assert data.images.dtype == np.uint8
    np.testing.assert_array_equal(data.target, np.concatenate([target, target]))
    for i, (row, col) in enumerate(data.positions):
        expected = np.zeros((12, 12, 1), np.uint8)
        expected[row : row + 8, col : col + 8] = digits[i % n]
        np.testing.assert_array_equal(data.images[i], expected)
    # positions vary (over every possible row and column) and the seed fixes them
    assert set(data.positions[:, 0]) == set(range(5))
    assert set(data.positions[:, 1]) == set(range(5))
    again = make_shifted_digits(canvas_size=12, n_copies=2, random_state=3)
    np.testing.assert_array_equal(again.images, data.images)
    other = make_shifted_digits(canvas_size=12, n_copies=2, random_state=4)
    assert not np.array_equal(other.positions, data.positions)
    X, y = make_shifted_digits(
        canvas_size=12, n_copies=2, random_state=3, return_X_y=True
    )
    np.testing.assert_array_equal(X, data.images)


def test_shifted_digits_at_canvas_size_8_are_the_digits():
    X, y = make_shifted_digits(canvas_size=8, return_X_y=True)
    np.testing.assert_array_equal(X, load_digits_pair(return_X_y=True)[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"canvas_size": 7}, "canvas_size"),
        ({"canvas_size": 16.0}, "canvas_size"),
        ({"n_copies": 0}, "n_copies"),
        ({"pair": (7, 7)}, "pair"),
    ],
)
def test_shifted_digits_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_shifted_digits(**kwargs)
