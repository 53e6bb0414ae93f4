import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch


def load_digits_pair(pair=(7, 8), *, return_X_y=False):
    """Two classes of scikit-learn's bundled handwritten digits, as uint8 images.

    The 8x8 digits ship with scikit-learn, so this needs no download. Their 17 grey
    levels (0-16) are spread over 0-255, so the images look like any other
    8-bit grayscale picture. The default pair, 7 versus 8, is the task of the
    MNIST 7-vs-8 tutorial.

    Parameters
    ----------
    pair : tuple of two int, default=(7, 8)
        The two digits to keep, in 0-9.

    return_X_y : bool, default=False
        If True, return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``images``, uint8 array of shape (n_samples, 8, 8, 1); ``target``, the
        digit of each image (ints from ``pair``); ``target_names``, the two digits
        as an array; ``DESCR``, a description.

    (images, target) : tuple
        When ``return_X_y`` is True.

    Examples
    --------
    >>> from skcnn.datasets import load_digits_pair
    >>> data = load_digits_pair()
    >>> data.images.shape, data.images.dtype, data.target_names.tolist()
    ((353, 8, 8, 1), dtype('uint8'), [7, 8])
    """
    pair = tuple(pair)
    if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(range(10)):
        raise ValueError(
            f"`pair` must be two different digits in 0-9. Received: pair={pair!r}"
        )
    digits = load_digits()
    keep = np.isin(digits.target, pair)
    images = np.rint(digits.images[keep] * (255 / 16)).astype(np.uint8)[..., None]
    target = digits.target[keep]
    if return_X_y:
        return images, target
    return Bunch(
        images=images,
        target=target,
        target_names=np.array(pair),
        DESCR=(
            f"Handwritten digits {pair[0]} and {pair[1]} from scikit-learn's bundled "
            f"digits dataset (UCI ML hand-written digits): {len(target)} grayscale "
            "8x8 images, 17 grey levels scaled to 0-255."
        ),
    )
