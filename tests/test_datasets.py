import numpy as np
import pytest
from sklearn.datasets import load_digits

from skcnn.datasets import load_digits_pair


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
