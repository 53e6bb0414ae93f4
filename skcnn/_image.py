"""ImageLoader and load_image_folder: image files to uint8 arrays, the Keras way."""

import numbers
import os
import warnings

import numpy as np
from joblib import Parallel, delayed
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Bunch

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
# The Pillow decoders allowed; "JPEG" also opens the MPO files of phone cameras.
_PIL_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF")

# Keras' interpolation names (and Pillow's own) mapped to Pillow resampling filters.
# Keras' "lanczos5", "gaussian" and "mitchellcubic" have no Pillow counterpart.
_RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "area": Image.Resampling.BOX,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
    "lanczos": Image.Resampling.LANCZOS,
    "lanczos3": Image.Resampling.LANCZOS,
}
_COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
_EXIF_ORIENTATION = 0x0112
# Images read by one joblib task in ImageLoader.transform.
_CHUNK_SIZE = 16


def _quoted_set(names):
    return "{" + ", ".join(f'"{name}"' for name in names) + "}"


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
        does not pick two), if ``class_names`` names a missing folder, or if a
        class folder (or the unlabelled folder) holds no image.

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
        return Bunch(
            filenames=np.array(filenames, dtype=str),
            target=None,
            target_names=np.array([], dtype=str),
            DESCR=f"{len(filenames)} unlabelled image files under {root!r}.",
        )
    if not (isinstance(labels, str) and labels == "inferred"):
        raise ValueError(
            '`labels` must be "inferred" (labels from the class folders) or None '
            f"(no labels). Received: labels={labels!r}"
        )

    found = _class_folders(root)
    if class_names is None:
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
    return Bunch(
        filenames=np.array(filenames, dtype=str),
        target=np.array(target, dtype=str),
        target_names=np.array(class_names, dtype=str),
        DESCR=(
            f"{len(filenames)} image files in the class folders of {root!r}: {counts}."
        ),
    )


class _BadImageError(ValueError):
    """A file that exists but cannot be decoded as an image."""

    def __init__(self, filename, reason):
        super().__init__(f"Cannot read image file {filename!r}: {reason}")
        self.filename = filename
        self.reason = reason


def _to_8bit_gray(img):
    """Integer or float single-channel images ("I;16", "I", "F") as mode "L"."""
    values = np.asarray(img)
    if img.mode == "F":
        # Floating-point TIFFs: values taken as 0-255.
        values = np.clip(values, 0, 255)
    else:
        # 16-bit samples (PNG, TIFF), scaled down rather than clipped.
        values = np.clip(values.astype(np.float64), 0, 65535) / 257
    return Image.fromarray(np.rint(values).astype(np.uint8))


def _decode(path, size=None, allow_draft=True):
    """Open, decode and orient one image file; return a loaded 8-bit PIL image.

    ``size`` is the (width, height) the image will be resized to: a JPEG may then
    be decoded at a reduced scale that keeps it at least that large.
    Raises FileNotFoundError/IsADirectoryError/PermissionError from ``open`` (which
    name the file) and _BadImageError for anything that is not a readable image.
    """
    filename = os.fspath(path)
    with open(filename, "rb") as fp:
        if os.fstat(fp.fileno()).st_size == 0:
            raise _BadImageError(filename, "the file is empty (0 bytes).")
        try:
            img = Image.open(fp, formats=_PIL_FORMATS)
            # Refuse decompression bombs whatever the warning filters say.
            limit = Image.MAX_IMAGE_PIXELS
            if limit and img.width * img.height > limit:
                raise Image.DecompressionBombError(
                    f"Image size ({img.width * img.height} pixels) exceeds the "
                    f"limit of {limit} pixels (PIL.Image.MAX_IMAGE_PIXELS), "
                    "which could be a decompression bomb DOS attack."
                )
            if img.format == "PNG":
                # Check the chunks' CRCs to the end: Pillow's decoder alone stops
                # once it has the pixels and misses a file truncated after them.
                img.verify()
                fp.seek(0)
                img = Image.open(fp, formats=("PNG",))
            img.seek(0)  # first frame of animations
            if allow_draft and size is not None and img.format in ("JPEG", "MPO"):
                orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
                draft_size = size[::-1] if orientation in (5, 6, 7, 8) else size
                img.draft(None, draft_size)
            img.load()
            # In place: without an orientation to apply, exif_transpose would
            # otherwise return a copy of the whole image.
            ImageOps.exif_transpose(img, in_place=True)
            if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
                img = _to_8bit_gray(img)
            elif img.mode == "PA" or (img.mode == "P" and "transparency" in img.info):
                img = img.convert("RGBA")
            elif img.mode in ("P", "CMYK", "YCbCr", "LAB", "HSV"):
                img = img.convert("RGB")
            return img
        except UnidentifiedImageError as exc:
            raise _BadImageError(
                filename,
                "Pillow cannot identify it as a JPEG, PNG, BMP, GIF, WebP or TIFF "
                "image (it is another format, or corrupt).",
            ) from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _BadImageError(filename, f"{exc}") from exc
        except Exception as exc:  # truncated or corrupt data: any decoder error
            raise _BadImageError(filename, f"{type(exc).__name__}: {exc}") from exc


def _resize(img, size, resample, crop_to_aspect_ratio, pad_to_aspect_ratio):
    """Resize a PIL image to ``size`` (width, height), as Keras does."""
    width, height = img.size
    target_width, target_height = size
    box = None
    if crop_to_aspect_ratio:
        crop_height = int(width * target_height / target_width)
        crop_height = max(min(height, crop_height), 1)
        crop_width = int(height * target_width / target_height)
        crop_width = max(min(width, crop_width), 1)
        top = int((height - crop_height) / 2)
        left = int((width - crop_width) / 2)
        box = (left, top, left + crop_width, top + crop_height)
    elif pad_to_aspect_ratio:
        pad_height = max(height, int(width * target_height / target_width))
        pad_width = max(width, int(height * target_width / target_height))
        if (pad_width, pad_height) != (width, height):
            padded = Image.new(img.mode, (pad_width, pad_height), 0)
            top = int((pad_height - height) / 2)
            left = int((pad_width - width) / 2)
            padded.paste(img, (left, top))
            img = padded
    if img.size == tuple(size) and box is None:
        return img
    return img.resize(tuple(size), resample=resample, box=box)


def _read_into(out, index, path, params):
    size, mode, resample, crop, pad = params
    img = _decode(path, size, allow_draft=resample != Image.Resampling.NEAREST)
    if img.mode != mode:
        img = img.convert(mode)
    img = _resize(img, size, resample, crop, pad)
    pixels = np.asarray(img)
    out[index] = pixels[..., None] if pixels.ndim == 2 else pixels


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


def _parallel(n_jobs, tasks):
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        warnings.warn(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True, so Pillow decodes truncated "
            "image files partially (filling the missing pixels) instead of raising an "
            "error: they cannot be detected. Set it to False (Pillow's default) for "
            "truncated files to be errors.",
            UserWarning,
            stacklevel=3,
        )
    # Pillow decodes outside the GIL, so threads scale; they also share the output
    # array, hence require="sharedmem" even under a process-based joblib backend.
    # Decompression-bomb warnings are errors in every thread: the filters are set
    # before the threads start.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Parallel(n_jobs=n_jobs, prefer="threads", require="sharedmem")(tasks)


class ImageLoader(TransformerMixin, BaseEstimator):
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
        ``(height, width)`` to resize the images to; an int is a square.

    color_mode : {"grayscale", "rgb", "rgba"}, default="rgb"
        Whether the images have 1, 3 or 4 channels. Alpha is dropped for "rgb"
        and "grayscale" (and is opaque for images without one, for "rgba").

    interpolation : str, default="bilinear"
        The resampling filter used to resize: "bilinear", "nearest", "bicubic",
        "area" (a box filter, as "box"), "hamming" or "lanczos" (also
        "lanczos3"). Case-insensitive.

    crop_to_aspect_ratio : bool, default=False
        If True, take the largest centred window of the image that has the target
        aspect ratio, then resize it, so that images are not distorted.

    pad_to_aspect_ratio : bool, default=False
        If True, pad the image with zeros (black, transparent for "rgba") on both
        sides, centred, to the target aspect ratio, then resize it.

    dtype : {"uint8", "float32"}, default="uint8"
        The type of the returned pixels, which are 0-255 in both cases.

    n_jobs : int or None, default=None
        Number of threads decoding images. ``None`` means 1 unless in a
        :obj:`joblib.parallel_backend` context. ``-1`` means using all
        processors.

    See Also
    --------
    load_image_folder : Lists the image files of a class-per-subfolder folder.
    find_bad_images : Lists the files that cannot be read, with the reason.
    CNNBinaryClassifier : The classifier that takes the images.

    Notes
    -----
    Images are decoded with Pillow: the EXIF orientation is applied; animated GIF,
    PNG and WebP files give their first frame; palette images become RGB (RGBA if
    they have transparency), CMYK JPEGs RGB, 16-bit grayscale images are scaled to
    8 bits (``value / 257``), and the result is converted to ``color_mode``.
    Downscaling uses Pillow's antialiased filters, as
    :func:`keras.utils.load_img` does, so pixels differ slightly from those of
    :func:`keras.utils.image_dataset_from_directory`, which resizes with
    TensorFlow. Large JPEGs are decoded at a reduced scale (``Image.draft``) that
    keeps them at least ``image_size`` large before the final resize, except with
    "nearest" interpolation.

    A file that cannot be read raises an error naming it: ``FileNotFoundError``,
    ``IsADirectoryError`` or ``PermissionError`` from the operating system, and
    ``ValueError`` for an empty, truncated or corrupt file, a format other than
    JPEG, PNG, BMP, GIF, WebP and TIFF, or an image of more than
    ``PIL.Image.MAX_IMAGE_PIXELS`` pixels (a possible decompression bomb). No file
    is ever skipped, so the images stay aligned with their labels; use
    :func:`find_bad_images` to list every bad file at once. Pillow's
    ``ImageFile.LOAD_TRUNCATED_IMAGES`` is left as it is: keep it False (Pillow's
    default) for truncated files to be errors; ImageLoader warns when it is True.

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
        n_jobs=None,
    ):
        self.image_size = image_size
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.dtype = dtype
        self.n_jobs = n_jobs

    def _check_params(self):
        """Validated (height, width), Pillow mode and resampling filter."""
        self._validate_params()
        image_size = self.image_size
        if isinstance(image_size, numbers.Integral):
            image_size = (image_size, image_size)
        image_size = tuple(image_size)
        if len(image_size) != 2 or not all(
            isinstance(side, numbers.Integral)
            and not isinstance(side, bool)
            and side >= 1
            for side in image_size
        ):
            raise ValueError(
                "`image_size` must be a tuple of two positive integers "
                f"(height, width). Received: image_size={self.image_size!r}"
            )
        if self.color_mode not in _COLOR_MODES:
            raise ValueError(
                f"`color_mode` must be one of {_quoted_set(_COLOR_MODES)}. "
                f"Received: color_mode={self.color_mode!r}"
            )
        interpolation = self.interpolation.lower()
        if interpolation not in _RESAMPLING:
            raise ValueError(
                f"`interpolation` must be one of {_quoted_set(_RESAMPLING)}. "
                f"Received: interpolation={self.interpolation!r}"
            )
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError(
                "Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be "
                "True. Received: crop_to_aspect_ratio=True, pad_to_aspect_ratio=True"
            )
        height, width = (int(side) for side in image_size)
        return (
            (height, width),
            _COLOR_MODES[self.color_mode],
            _RESAMPLING[interpolation],
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
        """
        paths = _check_paths(X)
        read_into, shape = self._reader()
        out = np.zeros((len(paths), *shape), dtype=self.dtype)

        def read_chunk(start, stop):
            for i in range(start, stop):
                read_into(out, i, paths[i])

        # One task per chunk of images rather than per image: the per-task cost
        # of joblib is then paid a few times per thread, not once per image.
        chunk = min(_CHUNK_SIZE, max(1, len(paths) // 8))
        _parallel(
            self.n_jobs,
            (
                delayed(read_chunk)(start, min(start + chunk, len(paths)))
                for start in range(0, len(paths), chunk)
            ),
        )
        return out

    def _reader(self):
        """``read_into(out, index, path)``, writing one decoded image into ``out``,
        and the (height, width, channels) of the images: the decoding of
        ``transform``, shared with CNNBinaryClassifier's streaming of paths."""
        (height, width), mode, resample = self._check_params()
        params = ((width, height), mode, resample, bool(self.crop_to_aspect_ratio))
        params = (*params, bool(self.pad_to_aspect_ratio))

        def read_into(out, index, path):
            _read_into(out, index, path, params)

        return read_into, (height, width, len(mode))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags


def _check_one(path):
    try:
        _decode(path)
    except _BadImageError as exc:
        return (os.fspath(path), exc.reason)
    except OSError as exc:
        return (os.fspath(path), f"{type(exc).__name__}: {exc.strerror or exc}")
    return None


def find_bad_images(
    paths_or_root,
    *,
    follow_links=False,
    formats=("jpeg", "png", "bmp", "gif", "webp", "tiff"),
    n_jobs=None,
):
    """List the files that cannot be read as images, with the reason for each.

    Every file is decoded in full, as :class:`ImageLoader` decodes it, so that all
    the bad files of a dataset are found at once rather than one per failed fit.

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
        Number of threads decoding images. ``None`` means 1.

    Returns
    -------
    bad : list of tuple of (str, str)
        ``(path, reason)`` for each file that cannot be read (missing, empty,
        truncated, corrupt, of another format, a folder, too large), in the
        order of the files; empty if all are readable.

    See Also
    --------
    ImageLoader : Reads image files, raising an error for the first bad one.

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
