"""ImageLoader and load_image_folder: image files to uint8 arrays, the Keras way."""

import contextlib
import numbers
import os
import struct
import traceback
import warnings

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import Bunch

from ._persist import _VersionedPickleMixin
from ._threads import size_thread_pools
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

# Keras' interpolation names (those of tf.image.resize), and two Pillow aliases.
_INTERPOLATIONS = {
    "bilinear": "bilinear",
    "nearest": "nearest",
    "bicubic": "bicubic",
    "area": "area",
    "lanczos3": "lanczos3",
    "lanczos5": "lanczos5",
    "gaussian": "gaussian",
    "mitchellcubic": "mitchellcubic",
    "box": "area",
    "lanczos": "lanczos3",
}
_COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}
# Folder names of dataset splits (compared in lower case), not of classes.
_SPLIT_NAMES = frozenset(
    {"train", "training", "test", "testing", "val", "valid", "validation"}
)
_EXIF_ORIENTATION = 0x0112
# Images per batch of ImageLoader.transform's tf.data pipeline.
_BATCH_SIZE = 32


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

    def __reduce__(self):  # from a joblib worker process, say
        return type(self), (self.filename, self.reason)


# Bad files named in the message of _BadImagesError; .filenames lists them all.
_MAX_NAMED = 10


def _reason(exc):
    """The short reason why a file cannot be read, from the error it raised."""
    if isinstance(exc, _BadImageError):
        return exc.reason
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


class _BadImagesError(ValueError):
    """Several files cannot be read as images.

    Raised (instead of the error of a single bad file) when more than one of the
    files read at once is bad. ``filenames`` and ``reasons`` list them all, in the
    order of the files, and ``errors`` holds each file's own exception (a
    FileNotFoundError for a missing file, say); the message names the first
    ``_MAX_NAMED`` and how many more there are.
    """

    def __init__(self, errors):
        self.errors = list(errors)
        self.filenames = [os.fspath(exc.filename) for exc in self.errors]
        self.reasons = [_reason(exc) for exc in self.errors]
        lines = [
            f"  {name!r}: {reason}"
            for name, reason in zip(self.filenames, self.reasons, strict=True)
        ]
        if len(lines) > _MAX_NAMED:
            lines[_MAX_NAMED:] = [f"  ... and {len(lines) - _MAX_NAMED} more."]
        super().__init__(
            f"Cannot read {len(self.errors)} image files (no file is skipped, so "
            "that the images stay aligned with their labels):\n"
            + "\n".join(lines)
            + "\nskcnn.find_bad_images(folder_or_paths) lists every bad file with "
            "its reason: fix or remove them."
        )

    def __reduce__(self):
        return type(self), (self.errors,)


def _files_error(errors):
    """The error to raise for the bad files whose ``errors`` (each with a
    ``filename``) are given in the order of the files: that file's own error if
    there is one bad file (a path listed twice is one file), else a
    _BadImagesError naming them all."""
    by_file = {}
    for exc in errors:
        if getattr(exc, "filename", None) is None:
            return exc  # not a bad file (a MemoryError, say)
        by_file.setdefault(os.fspath(exc.filename), exc)
    if len(by_file) == 1:
        return next(iter(by_file.values()))
    return _BadImagesError(by_file.values())


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


def _canonical(img):
    """A decoded PIL image as mode "L", "LA", "RGB" or "RGBA"."""
    if img.mode in ("L", "LA", "RGB", "RGBA"):
        if "transparency" in img.info and img.mode in ("L", "RGB"):
            return img.convert("RGBA")  # a transparent colour key
        return img
    if img.mode == "1":
        return img.convert("L")
    if img.mode.endswith(("A", "a")):
        return img.convert("RGBA")
    return img.convert("RGB")


# The decoders: TensorFlow's (as Keras') for JPEG and plain PNG files, Pillow's
# (in _decode) for everything else.
_PILLOW, _JPEG, _PNG = 0, 1, 2
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_PILLOW_INFO = (_PILLOW, 1, 1, 0)
# A JPEG whose last bytes hold no EOI marker is truncated (or has trailing data):
# Pillow decodes it, and names it if it is truncated, without TensorFlow's error
# messages on stderr. (The marker cannot occur in entropy-coded data; in a small
# file, the EOI found may be an EXIF thumbnail's: TensorFlow's decoder then
# fails, and ImageLoader hands the file to Pillow.)
_JPEG_EOI = b"\xff\xd9"
_JPEG_TAIL_BYTES = 1024
# Bytes read to classify a file: JPEG segments before the image data hold at
# most 64 KiB each; a PNG's tRNS and eXIf chunks come before its image data.
_HEADER_BYTES = 65536 + 16
# JPEG start-of-frame markers (SOF0-SOF15 but DHT, JPG and DAC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# PNG colour type -> channels decoded (grey, RGB, grey + alpha, RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def _jpeg_frame(head):
    """(height, width, components) from a JPEG's start-of-frame segment in
    ``head``, or None if it is not found there."""
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # no length field
            pos += 2
        elif marker in _JPEG_SOF:
            if pos + 10 > len(head):
                return None
            height, width, components = struct.unpack(">HHB", head[pos + 5 : pos + 10])
            return height, width, components
        elif marker == 0xDA:  # image data before any frame header
            return None
        else:
            pos += 2 + int.from_bytes(head[pos + 2 : pos + 4], "big")
    return None


def _draft_scale(height, width, target_height, target_width):
    """Pillow's ``Image.draft`` rule: the largest of 8, 4, 2, 1 not above the size
    ratio, so that the image decoded at 1/scale is at least the target size."""
    ratio = min(width // target_width, height // target_height)
    return next((scale for scale in (8, 4, 2) if ratio >= scale), 1)


def _file_info(path, size, scale_down, max_pixels):
    """How TensorFlow decodes a file, from its first bytes: (kind, scale,
    orientation, channels), where kind is _JPEG, _PNG or _PILLOW, scale the JPEG
    DCT scaling (1, 2, 4, 8; as Pillow's draft when ``scale_down``), orientation
    the EXIF orientation (1-8) and channels the number of channels decoded; or
    the error naming the file if it cannot be opened or is empty (the file is
    then never handed to TensorFlow, whose errors are logged to stderr).

    TensorFlow takes grey and colour JPEGs (CMYK ones go to Pillow) that end
    with their EOI marker, and 8-bit PNGs without palette, transparency key or
    EXIF that end with their IEND chunk (truncated files go to Pillow, which
    names them). Images of more than ``max_pixels`` pixels and other formats
    all go to Pillow too.
    """
    pillow = _PILLOW_INFO
    filename = os.fspath(path)
    try:
        fp = open(filename, "rb")
    except OSError as exc:  # missing, a folder, no permission
        return exc
    with fp:
        try:
            head = fp.read(_HEADER_BYTES)
        except OSError as exc:
            return exc
        if not head:
            return _BadImageError(filename, "the file is empty (0 bytes).")
        try:
            if head.startswith(_JPEG_MAGIC):
                frame = _jpeg_frame(head)
                if frame is None or frame[2] not in (1, 3):
                    return pillow
                height, width, channels = frame
                if not 0 < height * width <= max_pixels:
                    return pillow
                fp.seek(0, os.SEEK_END)
                fp.seek(max(fp.tell() - _JPEG_TAIL_BYTES, 0))
                if _JPEG_EOI not in fp.read():  # truncated (or trailing data)
                    return pillow
                orientation = 1
                if b"Exif" in head:
                    fp.seek(0)
                    with Image.open(fp, formats=("JPEG",)) as img:
                        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
                    if orientation not in range(1, 9):
                        orientation = 1  # as ImageOps.exif_transpose
                scale = 1
                if scale_down:
                    target = size[::-1] if orientation >= 5 else size
                    scale = _draft_scale(height, width, *target)
                return _JPEG, scale, orientation, channels
            if head.startswith(_PNG_MAGIC) and len(head) >= 33:
                width, height, depth, color_type = struct.unpack(">IIBB", head[16:26])
                if (
                    depth != 8
                    or color_type not in _PNG_CHANNELS
                    or not 0 < width * height <= max_pixels
                    or b"tRNS" in head
                    or b"eXIf" in head
                ):
                    return pillow
                fp.seek(0, os.SEEK_END)
                if fp.tell() < 8 + 25 + 12:  # signature, IHDR, IEND
                    return pillow
                fp.seek(-len(_PNG_IEND), os.SEEK_END)
                if fp.read() != _PNG_IEND:
                    return pillow
                return _PNG, 1, 1, _PNG_CHANNELS[color_type]
        except Exception:  # a read error, or EXIF data Pillow cannot parse
            pass
    return pillow


def _file_infos(paths, size, scale_down, errors=None):
    """_file_info of each path, as an (n, 4) int32 array.

    The files that cannot be opened, or are empty, get Pillow's row: their errors
    are added to the dict ``errors`` by index or, when ``errors`` is None, raised
    at once (all of them, see _files_error), before TensorFlow reads anything.
    """
    max_pixels = int(Image.MAX_IMAGE_PIXELS or 2**62)
    infos, failed = [], {}
    for index, path in enumerate(paths):
        info = _file_info(path, size, scale_down, max_pixels)
        if isinstance(info, Exception):
            failed[index] = info
            info = _PILLOW_INFO
        infos.append(info)
    if failed and errors is None:
        raise _files_error(failed.values())
    if failed:
        errors.update(failed)
    return np.array(infos, dtype=np.int32).reshape(-1, 4)


def _exif_transpose(image, orientation):
    """Pillow's ImageOps.exif_transpose on an (h, w, c) tensor; ``orientation``
    is an int (a graph without branches) or a tensor."""
    import tensorflow as tf

    def transpose():
        return tf.transpose(image, [1, 0, 2])

    methods = [
        lambda: image,  # 1
        lambda: image[:, ::-1],  # 2: flip left-right
        lambda: image[::-1, ::-1],  # 3: rotate 180
        lambda: image[::-1],  # 4: flip top-bottom
        transpose,  # 5
        lambda: transpose()[:, ::-1],  # 6: rotate 90 clockwise
        lambda: transpose()[::-1, ::-1],  # 7: transverse
        lambda: transpose()[::-1],  # 8: rotate 90 anticlockwise
    ]
    if isinstance(orientation, int):
        return methods[orientation - 1]()
    return tf.switch_case(orientation - 1, methods)


def _make_decoder(params, errors, stop_on_error=True):
    """``decode(path, kind, scale, orientation, channels)``: a TensorFlow function
    decoding one path (a string tensor) to a uint8 image of shape (height, width,
    channels), shared by ImageLoader.transform and by CNNBinaryClassifier's
    streaming of paths.

    The other arguments are those of _file_info, either Python ints (the graph
    then has no branches: ImageLoader groups the files by them) or int32 tensors
    (switches in the graph; channels is then ignored). JPEG and PNG files are
    decoded by TensorFlow's decoders as Keras decodes them, outside the GIL; the
    others by Pillow in ``_decode``, whose errors (naming the file) are
    appended to ``errors``, never raised inside TensorFlow (which would log the
    Python traceback to stderr). With ``stop_on_error``, a failed Assert op then
    stops TensorFlow (and _reraise_file_error raises the file's error; TensorFlow
    still logs one line without traceback); without it, the file gives a black
    image and decoding goes on, so that every bad file is found: the caller must
    check ``errors``. Everything after the decoding (EXIF orientation, colour
    conversion, crop or pad, resize) is graph code shared by all files.
    """
    import tensorflow as tf

    (height, width), channels, method, antialias, crop, pad = params
    scale_down = method != "nearest"
    failed = (np.zeros((1, 1, 1), np.uint8), np.False_)

    def pillow_decode(path):
        filename = os.fsdecode(path)
        try:
            img = _decode(filename, (width, height), allow_draft=scale_down)
            pixels = np.asarray(_canonical(img))
        except Exception as exc:
            errors.append(exc)
            return failed
        return (pixels[..., None] if pixels.ndim == 2 else pixels), np.True_

    def pillow(path):
        image, ok = tf.numpy_function(
            pillow_decode, [path], (tf.uint8, tf.bool), stateful=False
        )
        image.set_shape((None, None, None))
        if stop_on_error:
            check = tf.debugging.Assert(ok, ["skcnn: cannot read image file", path])
            with tf.control_dependencies([check]):
                image = tf.identity(image)
        return image

    def jpeg(data, scale):
        def at(ratio):
            return lambda: tf.io.decode_jpeg(data, channels=0, ratio=ratio)

        if isinstance(scale, int):
            return at(scale)()
        index = tf.gather([0, 0, 1, 1, 2, 2, 2, 2, 3], scale)  # 1, 2, 4, 8 -> 0-3
        return tf.switch_case(index, [at(1), at(2), at(4), at(8)])

    def luma(rgb):  # Pillow's integer ITU-R 601-2 conversion to "L"
        value = tf.cast(rgb, tf.int32) * [19595, 38470, 7471]
        value = tf.reduce_sum(value, axis=-1, keepdims=True) + 0x8000
        return tf.cast(tf.bitwise.right_shift(value, 16), tf.uint8)

    def reduce_channels(image, have):
        """Channels dropped or mixed, before the resize (as Pillow converts
        modes): returns the image and its channels, 1 (grey), 2, 3 or 4."""
        if channels == 1:
            return (luma(image[..., :3]) if have >= 3 else image[..., :1]), 1
        if channels == 3 and have != 3:
            return (image[..., :3] if have == 4 else image[..., :1]), min(have, 3)
        if channels == 4 and pad and have != 4:  # padding must be transparent
            return expand_channels(image, have, opaque=tf.uint8.max), 4
        return image, have

    def expand_channels(image, have, opaque):
        """Grey replicated to RGB and an opaque alpha added, up to ``channels``:
        after the resize, on fewer pixels (replicating commutes with resizing)."""
        if have == channels:
            return image
        grey = have <= 2
        rgb = tf.concat([image[..., :1]] * 3, axis=-1) if grey else image[..., :3]
        if channels == 3:
            return rgb
        if have % 2 == 0:
            alpha = image[..., -1:]
        else:
            alpha = tf.ones_like(image[..., :1]) * tf.constant(opaque, image.dtype)
        return tf.concat([rgb, alpha], axis=-1)

    def crop_or_pad(image):
        shape = tf.shape(image)
        h, w = shape[0], shape[1]
        if crop:
            crop_h = tf.maximum(tf.minimum(h, w * height // width), 1)
            crop_w = tf.maximum(tf.minimum(w, h * width // height), 1)
            top, left = (h - crop_h) // 2, (w - crop_w) // 2
            return image[top : top + crop_h, left : left + crop_w]
        if pad:
            pad_h = tf.maximum(h, w * height // width)
            pad_w = tf.maximum(w, h * width // height)
            top, left = (pad_h - h) // 2, (pad_w - w) // 2
            return tf.pad(
                image, [[top, pad_h - h - top], [left, pad_w - w - left], [0, 0]]
            )
        return image

    def finish(image, have):
        """A decoded uint8 image with ``have`` channels (an int) to the output."""
        image, have = reduce_channels(image, have)
        image = crop_or_pad(image)
        image = tf.image.resize(image, (height, width), method, antialias=antialias)
        image = expand_channels(tf.cast(image, tf.float32), have, opaque=255.0)
        image = tf.round(image)
        if method in ("bilinear", "nearest", "area"):  # averages: within 0-255
            image = tf.cast(image, tf.uint8)
        else:
            image = tf.saturate_cast(image, tf.uint8)
        return tf.ensure_shape(image, (height, width, channels))

    def finish_any(image):
        """``finish`` for an image whose number of channels is known at run time."""
        branches = [lambda have=n: finish(image, have) for n in (1, 2, 3, 4)]
        return tf.switch_case(tf.shape(image)[-1] - 1, branches)

    def decode(path, kind, scale, orientation, have):
        if isinstance(kind, int):
            if kind == _PILLOW:
                return finish_any(pillow(path))
            data = tf.io.read_file(path)
            if kind == _JPEG:
                image = _exif_transpose(jpeg(data, scale), orientation)
            else:
                image = tf.io.decode_png(data, channels=0)
            return finish(image, have)
        data = tf.io.read_file(path)
        image = tf.switch_case(
            kind,
            [
                lambda: pillow(path),
                lambda: _exif_transpose(jpeg(data, scale), orientation),
                lambda: tf.io.decode_png(data, channels=0),
            ],
        )
        return finish_any(image)

    return decode


class _TensorFlowDecodeError(ValueError):
    """TensorFlow failed to decode a file Pillow reads."""


def _release_iterators(exc):
    """Clear the finished frames of ``exc``'s traceback, so that the tf.data
    iterator stopped by the error (a local of TensorFlow's and Keras' frames) is
    freed now. Kept alive by the traceback, it could outlive the program: its
    threads, calling Python (the Pillow decoder), cannot take the GIL during
    interpreter shutdown, and deleting it then waits for them forever."""
    traceback.clear_frames(exc.__traceback__)


@contextlib.contextmanager
def _reraise_file_error(errors, paths, n_done=lambda: 0, fallback=True):
    """Turn a TensorFlow error raised while decoding ``paths`` into the error that
    names the file: the errors Pillow met inside the pipeline (in ``errors``; one
    file's own error, or a _BadImagesError naming them all), or else the error of
    the first file from ``n_done()`` on (those before it were decoded) that
    Pillow cannot read. If Pillow reads them all, raise _TensorFlowDecodeError
    when ``fallback`` (the caller then decodes them with Pillow), else re-raise
    TensorFlow's error. Errors in ``errors`` when the block ends without one are
    raised too: no bad file is ever skipped."""
    import tensorflow as tf

    try:
        yield
    except tf.errors.OpError as exc:
        _release_iterators(exc)
        if errors:
            raise _files_error(errors) from None
        for path in paths[n_done() :]:
            _decode(os.fspath(path), (1, 1))  # raises the error naming the file
        if not fallback:
            raise
        raise _TensorFlowDecodeError(
            f"TensorFlow could not decode one of the files: {exc.message}"
        ) from exc
    if errors:
        raise _files_error(errors)


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
        """The decoder's parameters: (height, width), channels, tf.image.resize
        method, antialias, crop, pad."""
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
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(
                f"`interpolation` must be one of {_quoted_set(_INTERPOLATIONS)}. "
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
            _INTERPOLATIONS[interpolation],
            bool(self.antialias),
            bool(self.crop_to_aspect_ratio),
            bool(self.pad_to_aspect_ratio),
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
        params = self._check_params()
        (height, width), channels = params[:2]
        out = np.empty((len(paths), height, width, channels), dtype=self.dtype)
        if not len(paths):
            return out
        _warn_load_truncated()
        names = [os.fspath(path) for path in paths]
        self._read_into(out, names, params, effective_n_jobs(self.n_jobs), False)
        return out

    @staticmethod
    def _read_into(out, paths, params, n_threads, force_pillow):
        """Decode ``paths`` into ``out``. The files are grouped by how they are
        decoded (_file_info), each group through its own tf.data pipeline whose
        graph has no branches.

        Every file is read even when some are bad (they never reach TensorFlow
        as errors, which it would log to stderr): then the error naming them all
        is raised (see _files_error). A group that TensorFlow's decoder stops
        (a corrupt JPEG or PNG, or one only Pillow reads) is decoded by Pillow
        from the file it stopped at.
        """
        import tensorflow as tf

        (height, width), _, method = params[:3]
        errors = {}  # by index: files that cannot be opened or decoded
        infos = _file_infos(paths, (height, width), method != "nearest", errors)
        if force_pillow:
            infos[:] = _PILLOW_INFO
        groups = {}
        for index, info in enumerate(map(tuple, infos.tolist())):
            if index not in errors:
                groups.setdefault(info, []).append(index)
        failed = []  # the errors of the files Pillow could not decode
        decode = _make_decoder(params, failed, stop_on_error=False)
        work = [(info, indices, _BATCH_SIZE) for info, indices in groups.items()]
        refused = []  # files TensorFlow's decoder refused, for Pillow
        while work:
            info, indices, batch_size = work.pop(0)
            dataset = (
                tf.data.Dataset.from_tensor_slices([paths[i] for i in indices])
                .map(
                    lambda path, info=info: decode(path, *info),
                    num_parallel_calls=n_threads,
                    deterministic=True,
                )
                .batch(batch_size)
                .prefetch(tf.data.AUTOTUNE)
            )
            contiguous = indices[-1] - indices[0] == len(indices) - 1
            indices = np.asarray(indices)
            done = 0  # images decoded so far
            try:
                for batch in dataset:
                    start, stop = done, done + len(batch)
                    if contiguous:  # writing to a slice is faster
                        out[indices[0] + start : indices[0] + stop] = batch.numpy()
                    else:
                        out[indices[start:stop]] = batch.numpy()
                    done = stop
            except tf.errors.OpError as exc:
                # TensorFlow's decoder refused a file (a corrupt JPEG or PNG, or
                # one only Pillow reads): find it, one file per batch, so that
                # the other files keep TensorFlow's pixels; Pillow decodes it.
                _release_iterators(exc)
                if info == _PILLOW_INFO:
                    raise
                if batch_size > 1:
                    rest = indices[done:]
                else:
                    refused.append(int(indices[done]))
                    rest = indices[done + 1 :]
                if len(rest):
                    work.insert(0, (info, rest.tolist(), 1))
            if not work and refused:
                work.append((_PILLOW_INFO, refused, _BATCH_SIZE))
                refused = []
        if failed:
            by_name = {}
            for exc in failed:
                if getattr(exc, "filename", None) is None:
                    raise exc  # not a bad file (a MemoryError, say)
                by_name.setdefault(os.fspath(exc.filename), exc)
            for index, path in enumerate(paths):
                if path in by_name:
                    errors.setdefault(index, by_name[path])
        if errors:
            raise _files_error(errors[index] for index in sorted(errors))

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
