"""The image decoding engine, shared by ImageLoader and the classifier's path streaming.

From a file path to a uint8 image of one size: the first bytes of each file say
how it is decoded (_file_info: TensorFlow's decoders, as Keras', for JPEG and plain
PNG files; Pillow's, in _decode, for everything else); one TensorFlow graph
(_make_decoder) decodes, orients, converts, crops or pads and resizes, following
the settings of a DecodeSettings; the errors met on the way become one error naming
every bad file (_files_error, _reraise_file_error).
"""

import contextlib
import numbers
import os
import struct
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .utils._tf_compat import release_iterators as _release_iterators

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
_EXIF_ORIENTATION = 0x0112
# Images per batch of ImageLoader.transform's tf.data pipeline.
_BATCH_SIZE = 32


def _quoted_set(names):
    return "{" + ", ".join(f'"{name}"' for name in names) + "}"


class DecodeSettings(NamedTuple):
    """What the decoder makes of every file (see decode_settings)."""

    size: tuple[int, int]  # (height, width)
    channels: int  # 1, 3 or 4
    method: str  # a method of tf.image.resize
    antialias: bool
    crop: bool
    pad: bool


def decode_settings(
    image_size,
    color_mode,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
):
    """Check ImageLoader's decoding parameters (their messages name them) and
    return them as a DecodeSettings."""
    size = image_size
    if isinstance(size, numbers.Integral):
        size = (size, size)
    size = tuple(size)
    if len(size) != 2 or not all(
        isinstance(side, numbers.Integral) and not isinstance(side, bool) and side >= 1
        for side in size
    ):
        raise ValueError(
            "`image_size` must be a tuple of two positive integers "
            f"(height, width). Received: image_size={image_size!r}"
        )
    if not isinstance(color_mode, str) or color_mode not in _COLOR_MODES:
        raise ValueError(
            f"`color_mode` must be one of {_quoted_set(_COLOR_MODES)}. "
            f"Received: color_mode={color_mode!r}"
        )
    method = interpolation.lower() if isinstance(interpolation, str) else None
    if method not in _INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {_quoted_set(_INTERPOLATIONS)}. "
            f"Received: interpolation={interpolation!r}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be "
            "True. Received: crop_to_aspect_ratio=True, pad_to_aspect_ratio=True"
        )
    height, width = (int(side) for side in size)
    return DecodeSettings(
        size=(height, width),
        channels=_COLOR_MODES[color_mode],
        method=_INTERPOLATIONS[method],
        antialias=bool(antialias),
        crop=bool(crop_to_aspect_ratio),
        pad=bool(pad_to_aspect_ratio),
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


def _make_decoder(settings, errors, stop_on_error=True):
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

    (height, width), channels, method, antialias, crop, pad = settings
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


def _read_into(out, paths, settings, n_threads, force_pillow):
    """Decode ``paths`` into ``out`` (for ImageLoader.transform). The files are
    grouped by how they are decoded (_file_info), each group through its own
    tf.data pipeline whose graph has no branches.

    Every file is read even when some are bad (they never reach TensorFlow
    as errors, which it would log to stderr): then the error naming them all
    is raised (see _files_error). A group that TensorFlow's decoder stops
    (a corrupt JPEG or PNG, or one only Pillow reads) is decoded by Pillow
    from the file it stopped at.
    """
    import tensorflow as tf

    (height, width), _, method = settings[:3]
    errors = {}  # by index: files that cannot be opened or decoded
    infos = _file_infos(paths, (height, width), method != "nearest", errors)
    if force_pillow:
        infos[:] = _PILLOW_INFO
    groups = {}
    for index, info in enumerate(map(tuple, infos.tolist())):
        if index not in errors:
            groups.setdefault(info, []).append(index)
    failed = []  # the errors of the files Pillow could not decode
    decode = _make_decoder(settings, failed, stop_on_error=False)
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
