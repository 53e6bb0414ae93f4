"""ImageLoader, load_image_folder and find_bad_images: the public image API (the
decoding itself is skcnn._decode's)."""

import numbers
import os
import warnings

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from PIL import Image, ImageFile
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Bunch

from ._decode import (
    _BadImageError,
    _decode,
    _quoted_set,
    _read_into,
    _reason,
    decode_settings,
)
from ._groups import _with_groups
from ._threads import size_thread_pools
from ._versioning import _VersionedPickleMixin
from .utils._sklearn_compat import Interval, StrOptions, _fit_context

# Format names accepted by `formats`, with the file extensions each stands for.
_EXTENSIONS = {
    "jpeg": (".jpg", ".jpeg"),
    "png": (".png",),
    "bmp": (".bmp",),
    "gif": (".gif",),
    "webp": (".webp",),
    "tiff": (".tif", ".tiff"),
}
_FORMAT_ALIASES = {"jpg": "jpeg", "tif": "tiff"}
# Folder names of dataset splits (compared in lower case), not of classes.
_SPLIT_NAMES = frozenset(
    {"train", "training", "test", "testing", "val", "valid", "validation"}
)


def _check_formats(formats):
    """The tuple of lower-case file extensions that ``formats`` stands for."""
    if isinstance(formats, str):
        formats = (formats,)
    extensions = []
    for name in formats:
        key = str(name).lower().lstrip(".")
        key = _FORMAT_ALIASES.get(key, key)
        if key not in _EXTENSIONS:
            raise ValueError(
                f"`formats` must be a subset of {_quoted_set(_EXTENSIONS)}. "
                f"Received: formats={formats!r}"
            )
        extensions.extend(_EXTENSIONS[key])
    return tuple(extensions)


def _check_root(root):
    path = os.fspath(root)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such directory: {path!r}")
    if not os.path.isdir(path):
        raise NotADirectoryError(f"Not a directory: {path!r}; expected a folder.")
    return path


def _class_folders(root):
    """The class folders of ``root``, sorted: its subfolders not starting with "."."""
    root = _check_root(root)
    return [
        name
        for name in sorted(os.listdir(root))
        if os.path.isdir(os.path.join(root, name)) and not name.startswith(".")
    ]


def _check_not_splits(root, names, guessed):
    """Refuse (or warn about) class folders ``names`` of ``root`` named like the
    splits of a dataset (train, test, ...): pointing at a dataset's root instead
    of one split trains, say, "test" versus "train".

    When the folders were ``guessed`` (not given as ``class_names``), raise a
    ValueError if one of them holds subfolders (the classes of a split).
    Else, for the two class folders finally loaded, warn (the task may be
    meant, for folders of images that happen to be so named)."""
    if not names or any(name.lower() not in _SPLIT_NAMES for name in names):
        return
    inside = {name: _class_folders(os.path.join(root, name)) for name in names}
    nested = [name for name in names if inside[name]]
    if nested:
        trains = [name for name in nested if name.lower().startswith("train")]
        example = (trains or nested)[0]
        message = (
            f"{root!r} holds split folders {names}, not class folders: point at "
            f"one split, e.g. {os.path.join(root, example)!r} (whose class folders "
            f"are {inside[example]})."
        )
        if guessed:
            raise ValueError(message)
        warnings.warn(
            f"{message} Loading them as class folders, as `class_names` asks.",
            UserWarning,
            stacklevel=3,
        )
    elif not guessed:
        warnings.warn(
            f"The class folders of {root!r}, {names}, are named like dataset "
            "splits: each image is labelled by its folder, so the task is "
            f"{names[0]!r} versus {names[1]!r}. If they are splits, put each "
            "split's images into one subfolder per class and point at one split.",
            UserWarning,
            stacklevel=3,
        )


def _iter_image_files(directory, extensions, follow_links):
    """Image files under ``directory``, recursively, in Keras' order."""
    walk = os.walk(directory, followlinks=follow_links)
    for dirpath, _, files in sorted(walk, key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(extensions):
                yield os.path.join(dirpath, name)


def load_image_folder(
    root,
    *,
    class_names=None,
    follow_links=False,
    formats=("jpeg", "png", "bmp", "gif", "webp", "tiff"),
    labels="inferred",
    groups=None,
):
    """List the image files of a class-per-subfolder directory, with their labels.

    Reads the layout of :func:`keras.utils.image_dataset_from_directory`: ``root``
    holds one subfolder per class, each holding that class's images (subfolders
    of a class folder are searched too). Only the file names are listed; pass them
    to :class:`ImageLoader` to read the pixels, for instance as the first step of
    a pipeline.

    Parameters
    ----------
    root : str or os.PathLike
        The folder holding the class folders (or, with ``labels=None``, the
        images themselves, at any depth).

    class_names : list of str or None, default=None
        The two class folders to load, in this order. When None, ``root`` must
        hold exactly two class folders, taken in alphanumeric order. Folders whose
        name starts with "." are never class folders.

    follow_links : bool, default=False
        Whether to visit subfolders that are symbolic links.

    formats : tuple of str, default=("jpeg", "png", "bmp", "gif", "webp", "tiff")
        The image formats to list, recognized by their file extensions, in any
        case: "jpeg" is ``.jpg`` and ``.jpeg``, "tiff" is ``.tif`` and ``.tiff``,
        the others are their own name. Other files are ignored.

    labels : "inferred" or None, default="inferred"
        "inferred" labels each image by its class folder. None lists the images
        of an unlabelled folder (for instance images to predict), searched
        recursively, whatever its subfolders.

    groups : str, callable or None, default=None
        Adds ``groups`` to the result: the group of each file, such as the
        patient of a chest X-ray, for group-aware cross-validation
        (:class:`~sklearn.model_selection.StratifiedGroupKFold`) so that no
        patient has images on both sides of a split. A str is a regular
        expression searched in each file name (not its folders): the group is its
        first parenthesized group that matched, or the whole match if none did; a
        file name it does not match is an error naming it. For instance
        ``r"(person\\d+)_"`` for ``person1_bacteria_1.jpeg``. A callable is
        called with each file's path and returns its group.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        filenames : ndarray of str of shape (n_samples,)
            The paths of the image files (``root`` joined with the path inside
            it): the classes in order, the files of a class sorted as Keras sorts
            them (folder by folder, in alphanumeric order).
        target : ndarray of str of shape (n_samples,) or None
            The class name of each file; None when ``labels=None``.
        target_names : ndarray of str of shape (2,) or (0,)
            The class names, sorted or in ``class_names`` order; empty when
            ``labels=None``.
        groups : ndarray of shape (n_samples,)
            The group of each file, only when ``groups`` is given.
        DESCR : str
            A description of what was found.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    NotADirectoryError
        If ``root`` is not a folder.
    ValueError
        If ``root`` does not hold exactly two class folders (and ``class_names``
        does not pick two), if ``class_names`` names a missing folder, if a
        class folder (or the unlabelled folder) holds no image, or if ``root``
        is the root of a dataset split into folders (see the notes).

    Warns
    -----
    UserWarning
        If the two class folders are named like splits (see the notes) yet are
        loaded as classes.

    See Also
    --------
    ImageLoader : Reads the listed files as an array of images.
    find_bad_images : Lists the files that cannot be read, with the reason.

    Notes
    -----
    Unlike Keras, the files are never shuffled: shuffle at split time (scikit-learn's
    cross-validation splitters) instead. As in Keras, files whose name starts with
    "." (such as macOS's ``._photo.jpg``) are listed if their extension matches;
    :func:`find_bad_images` finds them if they are not images.

    Class folders named like the splits of a dataset ("train", "training",
    "test", "testing", "val", "valid", "validation", in any case) usually mean
    that ``root`` is the dataset's root, such as ``data/`` holding
    ``data/train/cat``, ``data/train/dog``, ``data/test/cat``...: loading it
    would learn "test" versus "train". So when ``class_names`` is None and the
    folders of ``root`` are all named like splits, one of them holding
    subfolders (the classes of that split), a ``ValueError`` asks to point at
    one split, such as ``data/train``. Split-named folders that hold images but
    no subfolders, or that ``class_names`` names, are loaded as classes, with a
    ``UserWarning``.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from skcnn import load_image_folder
    >>> with tempfile.TemporaryDirectory() as root:
    ...     for name in ["cat", "dog"]:
    ...         os.mkdir(os.path.join(root, name))
    ...         for i in range(2):
    ...             Image.new("RGB", (8, 8)).save(os.path.join(root, name, f"{i}.png"))
    ...     data = load_image_folder(root)
    ...     print(data.target.tolist(), data.target_names.tolist())
    ...     print([os.path.relpath(f, root) for f in data.filenames][:2])
    ['cat', 'cat', 'dog', 'dog'] ['cat', 'dog']
    ['cat/0.png', 'cat/1.png']
    """
    root = _check_root(root)
    extensions = _check_formats(formats)
    if labels is None:
        if class_names is not None:
            raise ValueError(
                "When `labels=None` (no labels), argument `class_names` "
                f"cannot be specified. Received: class_names={class_names!r}"
            )
        filenames = list(_iter_image_files(root, extensions, follow_links))
        if not filenames:
            raise ValueError(
                f"No image file found in {root!r} (searched recursively for the "
                f"extensions {list(extensions)})."
            )
        data = Bunch(
            filenames=np.array(filenames, dtype=str),
            target=None,
            target_names=np.array([], dtype=str),
            DESCR=f"{len(filenames)} unlabelled image files under {root!r}.",
        )
        return _with_groups(data, groups)
    if not (isinstance(labels, str) and labels == "inferred"):
        raise ValueError(
            '`labels` must be "inferred" (labels from the class folders) or None '
            f"(no labels). Received: labels={labels!r}"
        )

    found = _class_folders(root)
    if class_names is None:
        _check_not_splits(root, found, guessed=True)
        if len(found) != 2:
            hint = (
                "Pick two of them with class_names=[...]."
                if len(found) > 2
                else "A binary task needs two class folders, one per class "
                "(or pass labels=None to load unlabelled images)."
            )
            raise ValueError(
                f"load_image_folder loads a binary task: {root!r} must hold exactly "
                f"two class folders, but it holds {len(found)}: {found}. {hint}"
            )
        class_names = found
    else:
        if isinstance(class_names, str):
            class_names = [class_names]
        class_names = [os.fspath(name) for name in class_names]
        missing = [name for name in class_names if name not in found]
        if missing:
            raise ValueError(
                "The `class_names` passed did not match the names of the "
                f"subdirectories of {root!r}. Expected two of: {found}, but "
                f"received: class_names={class_names} ({missing} not found)."
            )
        if len(class_names) != 2 or class_names[0] == class_names[1]:
            raise ValueError(
                "load_image_folder loads a binary task: `class_names` must name two "
                f"different class folders of {root!r} (found {found}). "
                f"Received: class_names={class_names}"
            )
    _check_not_splits(root, class_names, guessed=False)

    filenames, target = [], []
    for name in class_names:
        files = list(
            _iter_image_files(os.path.join(root, name), extensions, follow_links)
        )
        if not files:
            raise ValueError(
                f"Class folder {os.path.join(root, name)!r} holds no image file "
                f"(extensions {list(extensions)}). Class folders found in "
                f"{root!r}: {found}. Add images to it, or pick two other folders "
                "with class_names=[...]."
            )
        filenames.extend(files)
        target.extend([name] * len(files))
    counts = ", ".join(f"{target.count(name)} {name!r}" for name in class_names)
    data = Bunch(
        filenames=np.array(filenames, dtype=str),
        target=np.array(target, dtype=str),
        target_names=np.array(class_names, dtype=str),
        DESCR=(
            f"{len(filenames)} image files in the class folders of {root!r}: {counts}."
        ),
    )
    return _with_groups(data, groups)


def _check_paths(X):
    """X as a 1-D object array of paths (str or os.PathLike)."""
    if isinstance(X, (str, bytes, os.PathLike)):
        raise ValueError(
            "Iterable over file paths expected, a single path received: "
            f"{X!r}. Wrap it in a list."
        )
    paths = np.asarray(X, dtype=object)
    if paths.ndim == 2 and paths.shape[1] == 1:
        paths = paths[:, 0]
    if paths.ndim != 1:
        raise ValueError(
            "X must be a 1-D array-like of image file paths. "
            f"Got an array of shape {paths.shape}."
        )
    for i, path in enumerate(paths):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                "X must hold image file paths (str or os.PathLike). "
                f"Got {type(path).__name__} at index {i}: {path!r}."
            )
    return paths


def _warn_load_truncated(stacklevel=3):
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        warnings.warn(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True, so Pillow decodes truncated "
            "image files partially (filling the missing pixels) instead of raising an "
            "error: they cannot be detected. Set it to False (Pillow's default) for "
            "truncated files to be errors.",
            UserWarning,
            stacklevel=stacklevel,
        )


def _parallel(n_jobs, tasks):
    _warn_load_truncated(stacklevel=4)
    # Pillow decodes outside the GIL, so threads scale; they also share the output
    # array, hence require="sharedmem" even under a process-based joblib backend.
    # Decompression-bomb warnings are errors in every thread: the filters are set
    # before the threads start.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Parallel(n_jobs=n_jobs, prefer="threads", require="sharedmem")(tasks)


class ImageLoader(_VersionedPickleMixin, TransformerMixin, BaseEstimator):
    """Read image files into an array of images of one size.

    A stateless transformer (like
    :class:`~sklearn.feature_extraction.text.HashingVectorizer`): it turns a
    1-D array of image file paths into uint8 images of shape
    ``(n_samples, height, width, channels)``, which :class:`CNNBinaryClassifier`
    and :func:`make_baseline` take. Put it first in
    a pipeline to fit and predict from file names (see :func:`load_image_folder`),
    and tune ``image_size`` with a grid search.

    Parameters
    ----------
    image_size : tuple of (int, int) or int, default=(256, 256)
        ``(height, width)`` to resize the images to; an int is a square. The
        defaults of ``image_size`` and ``color_mode`` are Keras'
        (``image_dataset_from_directory``); ``skcnn train`` and ``skcnn compare``
        infer both from the training folder instead.

    color_mode : {"grayscale", "rgb", "rgba"}, default="rgb"
        Whether the images have 1, 3 or 4 channels. Alpha is dropped for "rgb"
        and "grayscale" (and is opaque for images without one, for "rgba").

    interpolation : str, default="bilinear"
        The resampling method of :func:`tf.image.resize` (Keras' names):
        "bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
        "gaussian" or "mitchellcubic"; "box" is "area" and "lanczos" is
        "lanczos3". Case-insensitive.

    crop_to_aspect_ratio : bool, default=False
        If True, take the largest centred window of the image that has the target
        aspect ratio, then resize it, so that images are not distorted.

    pad_to_aspect_ratio : bool, default=False
        If True, pad the image with zeros (black, transparent for "rgba") on both
        sides, centred, to the target aspect ratio, then resize it.

    dtype : {"uint8", "float32"}, default="uint8"
        The type of the returned pixels, which are whole numbers in 0-255 in
        both cases.

    antialias : bool, default=False
        Whether downscaling filters the image first, which avoids aliasing when
        shrinking by a large factor but is several times slower. False, as in
        Keras, samples the image (JPEGs are decoded at a reduced scale first,
        see the notes, which averages their pixels).

    n_jobs : int or None, default=-1
        Number of images decoded in parallel (TensorFlow threads). ``-1`` means
        using all processors; ``None`` means 1 unless in a
        :obj:`joblib.parallel_config` context.

    See Also
    --------
    load_image_folder : Lists the image files of a class-per-subfolder folder.
    find_bad_images : Lists the files that cannot be read, with the reason.
    CNNBinaryClassifier : The classifier that takes the images.

    Notes
    -----
    JPEG files, and 8-bit PNG files without palette or transparency key, are
    decoded by TensorFlow's decoders, in a ``tf.data`` pipeline of ``n_jobs``
    parallel calls, as :func:`keras.utils.image_dataset_from_directory` decodes
    them; all files are resized by :func:`tf.image.resize`. Without
    antialiasing, with "bilinear" interpolation and no JPEG scaling (see below),
    the pixels are those of ``image_dataset_from_directory`` rounded to whole
    numbers. Other files (BMP, GIF, WebP, TIFF, palette, 16-bit and transparency-key
    PNGs, CMYK JPEGs) are decoded by Pillow, then converted and resized by the same
    TensorFlow code.

    The EXIF orientation of JPEGs is applied (Keras ignores it); animated GIF,
    PNG and WebP files give their first frame; palette images become RGB (RGBA if
    they have transparency), CMYK JPEGs RGB, 16-bit grayscale images are scaled to
    8 bits (``value / 257``). Colour images are converted to grey with Pillow's
    formula (``L = (19595 R + 38470 G + 7471 B + 32768) >> 16``), not by the JPEG
    or PNG decoder. JPEGs at least twice as large as ``image_size`` are decoded at
    1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling, as Pillow's ``Image.draft``)
    keeping them at least ``image_size`` large, which is faster and averages the
    pixels, except with "nearest" interpolation.

    Files that cannot be read raise one error naming every one of them, after
    all the files were read. No file is ever skipped, so the images stay
    aligned with their labels; :func:`find_bad_images` lists the bad files up
    front, with the reason for each. A single bad file raises its own error:
    ``FileNotFoundError``, ``IsADirectoryError`` or ``PermissionError`` from
    the operating system, or ``ValueError`` for an empty, truncated or corrupt
    file, a format other than JPEG, PNG, BMP, GIF, WebP and TIFF, or an image
    of more than ``PIL.Image.MAX_IMAGE_PIXELS`` pixels (a possible
    decompression bomb). Several bad files raise a ``ValueError`` whose message
    names the first ten (and how many more there are) with their reasons, and
    whose attributes ``filenames`` and ``reasons`` list them all, and
    ``errors`` holds each file's own error (a ``FileNotFoundError`` for a
    missing file, say). Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` is left
    as it is: keep it False (Pillow's default) for truncated files to be
    errors; ImageLoader warns when it is True.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skcnn import ImageLoader
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "red.png")
    ...     Image.new("RGB", (40, 30), (255, 0, 0)).save(path)
    ...     X = ImageLoader(image_size=(16, 16)).transform([path, path])
    >>> X.shape, X.dtype, X[0, 0, 0].tolist()
    ((2, 16, 16, 3), dtype('uint8'), [255, 0, 0])
    """

    _parameter_constraints = {
        "image_size": [
            "array-like",
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "color_mode": [str],
        "interpolation": [str],
        "crop_to_aspect_ratio": ["boolean"],
        "pad_to_aspect_ratio": ["boolean"],
        "dtype": [StrOptions({"uint8", "float32"})],
        "antialias": ["boolean"],
        "n_jobs": [numbers.Integral, None],
    }

    def __init__(
        self,
        image_size=(256, 256),
        *,
        color_mode="rgb",
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        dtype="uint8",
        antialias=False,
        n_jobs=-1,
    ):
        self.image_size = image_size
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.antialias = antialias
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.dtype = dtype
        self.n_jobs = n_jobs

    def _check_params(self):
        """The decoder's settings (a DecodeSettings): (height, width), channels,
        tf.image.resize method, antialias, crop, pad."""
        self._validate_params()
        return decode_settings(
            self.image_size,
            self.color_mode,
            interpolation=self.interpolation,
            antialias=self.antialias,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and X; ImageLoader learns nothing.

        Parameters
        ----------
        X : array-like of shape (n_samples,)
            Paths of image files (str or os.PathLike). They are not read.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The ImageLoader.
        """
        self._check_params()
        _check_paths(X)
        return self

    def transform(self, X):
        """Read the image files into an array of images.

        Parameters
        ----------
        X : array-like of shape (n_samples,)
            Paths of image files (str or os.PathLike): a list, a 1-D ndarray, a
            pandas Series or a single-column array.

        Returns
        -------
        images : ndarray of shape (n_samples, height, width, channels)
            The images in the order of X, with 1, 3 or 4 channels for
            ``color_mode`` "grayscale", "rgb" or "rgba", of type ``dtype``,
            with values in 0-255.

        Raises
        ------
        FileNotFoundError, IsADirectoryError, PermissionError or ValueError
            If a file cannot be read as an image: one error naming every bad
            file (see the notes of :class:`ImageLoader`).
        """
        # Decoding may be the first TensorFlow operation of a joblib worker
        # (a Pipeline's ImageLoader runs before its CNNBinaryClassifier).
        size_thread_pools()
        paths = _check_paths(X)
        settings = self._check_params()
        (height, width), channels = settings.size, settings.channels
        out = np.empty((len(paths), height, width, channels), dtype=self.dtype)
        if not len(paths):
            return out
        _warn_load_truncated()
        names = [os.fspath(path) for path in paths]
        _read_into(out, names, settings, effective_n_jobs(self.n_jobs), False)
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


def _check_one(path):
    """(path, reason) if ``path`` cannot be read as an image, else None."""
    try:
        # A JPEG is decoded at 1/8 scale (Image.draft), twice as fast: libjpeg
        # still reads all of its data, so a truncated or corrupt file is found.
        _decode(path, (1, 1))
    except (_BadImageError, OSError) as exc:
        return (os.fspath(path), _reason(exc))
    return None


def find_bad_images(
    paths_or_root,
    *,
    follow_links=False,
    formats=("jpeg", "png", "bmp", "gif", "webp", "tiff"),
    n_jobs=None,
):
    """List the files that cannot be read as images, with the reason for each.

    Every file is decoded in full by Pillow (JPEGs at 1/8 scale, which still
    reads all of their data), so that all the bad files of a dataset are found
    up front, before a fit that would fail on them. Given the same files,
    :class:`ImageLoader` raises an error naming the same bad files.

    Parameters
    ----------
    paths_or_root : str, os.PathLike or array-like of shape (n_samples,)
        A folder, searched recursively for files with an extension of ``formats``
        (as :func:`load_image_folder` lists them, whatever the folder layout), the
        file paths to check, or a single file.

    follow_links : bool, default=False
        Whether to visit subfolders that are symbolic links, for a folder.

    formats : tuple of str, default=("jpeg", "png", "bmp", "gif", "webp", "tiff")
        The image formats to look for, for a folder; see
        :func:`load_image_folder`.

    n_jobs : int or None, default=None
        Number of threads decoding images. ``None`` means 1 unless in a
        :obj:`joblib.parallel_config` context; ``-1`` means using all
        processors.

    Returns
    -------
    bad : list of tuple of (str, str)
        ``(path, reason)`` for each file that cannot be read (missing, empty,
        truncated, corrupt, of another format, a folder, too large), in the
        order of the files; empty if all are readable.

    See Also
    --------
    ImageLoader : Reads image files, raising an error naming every bad one.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from skcnn import find_bad_images
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     Image.new("L", (8, 8)).save(os.path.join(folder, "good.png"))
    ...     with open(os.path.join(folder, "bad.png"), "w") as f:
    ...         _ = f.write("not an image")
    ...     bad = find_bad_images(folder)
    ...     print([os.path.basename(path) for path, reason in bad])
    ['bad.png']
    """
    if isinstance(paths_or_root, (str, os.PathLike)):
        root = os.fspath(paths_or_root)
        if os.path.isdir(root):
            extensions = _check_formats(formats)
            paths = list(_iter_image_files(root, extensions, follow_links))
        elif os.path.exists(root):
            paths = [root]
        else:
            raise FileNotFoundError(f"No such file or directory: {root!r}")
    else:
        paths = _check_paths(paths_or_root)
    results = _parallel(n_jobs, (delayed(_check_one)(path) for path in paths))
    return [result for result in results if result is not None]
