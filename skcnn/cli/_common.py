"""What the commands share at run time: progress on stderr, output checks, the
saved model that takes image files, predicting in chunks, unreadable images
(one error naming them all, or --skip-bad) and labelled image folders (their
class folders, the image size and colour mode inferred from their images)."""

import contextlib
import os
import sys
import warnings

from ._options import _MAX_SIDE

# Pillow modes of single-channel images: a folder of only these is read as grayscale.
_GRAY_MODES = ("1", "L", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
# Images decoded and predicted at a time by `predict` and `evaluate`.
_CHUNK = 256
# Bad files named in an error; --skip-bad lists them all.
_MAX_NAMED = 20


# ------------------------------------------------------------------ helpers
def _progress(args, message):
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def _counts(target, names):
    return ", ".join(f"{int((target == name).sum())} {str(name)!r}" for name in names)


def _check_output(path, option="--out"):
    """Fail before any work if ``path`` cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{option} {path!r} is a folder; give a file name.")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{option} {path!r}: no such folder {folder!r}.")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"{option} {path!r}: folder {folder!r} is not writable.")


# ------------------------------------------------- models taking file paths
def _load_model(path):
    """A fitted classifier that takes image file paths: a pipeline starting with
    an ImageLoader (as `skcnn train` saves), or a CNNBinaryClassifier (which reads
    files itself, at its image_shape_), or either in a FixedThresholdClassifier
    around a FrozenEstimator (as `skcnn train --target-sensitivity` saves)."""
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from .._classifier import CNNBinaryClassifier
    from .._image import ImageLoader
    from .._persist import read_model_file

    model = read_model_file(path)
    inner = _unthresholded(model)
    takes_paths = (
        isinstance(inner, Pipeline)
        and isinstance(inner.steps[0][1], ImageLoader)
        and hasattr(inner, "predict_proba")
    ) or isinstance(inner, CNNBinaryClassifier)
    try:
        fitted = takes_paths and check_is_fitted(model) is None
    except NotFittedError:
        fitted = False
    if not fitted:
        raise TypeError(
            f"The model file {path!r} holds a {type(model).__name__}, not a fitted "
            "pipeline starting with an ImageLoader (as `skcnn train` saves) or a "
            "fitted CNNBinaryClassifier."
        )
    final = inner[-1] if isinstance(inner, Pipeline) else inner
    if "verbose" in final.get_params():
        # Progress is printed a chunk at a time here, on stderr.
        final.set_params(verbose=0)
    return model


def _unthresholded(model):
    from .._threshold import split_threshold

    return split_threshold(model)[0]


def _threshold(model):
    from .._threshold import split_threshold

    return split_threshold(model)[1]


def _predicted(model, proba):
    """The labels ``model.predict`` gives, from its ``predict_proba`` output."""
    import numpy as np

    classes = model.classes_
    decision = _threshold(model)
    if decision is None:
        return classes[np.argmax(proba, axis=1)]
    threshold, positive = decision
    is_positive = classes == positive
    chosen = proba[:, np.flatnonzero(is_positive)[0]] >= threshold
    return np.where(chosen, positive, classes[~is_positive][0]).astype(classes.dtype)


def _predict_proba(model, paths, args):
    """predict_proba over image file paths, a chunk at a time, with progress."""
    import numpy as np

    chunks = [np.empty((0, len(model.classes_)))]
    for start in range(0, len(paths), _CHUNK):
        # Keras prints its progress on stdout, which may carry the results.
        with contextlib.redirect_stdout(sys.stderr):
            chunks.append(model.predict_proba(paths[start : start + _CHUNK]))
        if len(paths) > _CHUNK:
            done = min(start + _CHUNK, len(paths))
            _progress(args, f"predicted {done}/{len(paths)} images")
    return np.concatenate(chunks)


# ------------------------------------------------------------ bad images
def _bad_files_error(bad):
    """One error naming the unreadable files, with their reasons."""
    named = "; ".join(
        f"{path!r} ({reason.rstrip('.')})" for path, reason in bad[:_MAX_NAMED]
    )
    if len(bad) > _MAX_NAMED:
        named += f"; and {len(bad) - _MAX_NAMED} more"
    them = "it" if len(bad) == 1 else "them"
    return ValueError(
        f"{_plural(len(bad), 'image file')} cannot be read: {named}. Fix or remove "
        f"{them}, or pass --skip-bad to leave {them} out (it lists every one)."
    )


@contextlib.contextmanager
def _naming_bad_files(paths):
    """Turn an error about one image file into one naming every unreadable file
    of ``paths`` (found with find_bad_images only then, so reading good folders
    costs nothing more)."""
    try:
        yield
    except (ValueError, OSError) as exc:
        message = str(exc)
        if not any(str(path) in message for path in paths):
            raise  # not about a file
        from .._image import find_bad_images

        bad = find_bad_images(list(paths), n_jobs=-1)
        if not bad:
            raise
        raise _bad_files_error(bad) from exc


def _skip_bad(args, paths):
    """With --skip-bad, the unreadable files of ``paths`` as (path, reason),
    listed on stderr (even with --quiet); else []."""
    if not args.skip_bad:
        return []
    from .._image import find_bad_images

    bad = find_bad_images(list(paths), n_jobs=-1)
    if bad:
        what = _plural(len(bad), "unreadable file")
        lines = [f"skcnn {args.command}: skipping {what}:"]
        lines += [f"  {path}: {reason}" for path, reason in bad]
        print("\n".join(lines), file=sys.stderr, flush=True)
    return bad


def _without(bad, paths, *arrays):
    """``paths`` and ``arrays`` without the rows of the ``bad`` files."""
    import numpy as np

    skipped = {path for path, _ in bad}
    keep = np.array([str(path) not in skipped for path in paths], dtype=bool)
    if len(paths) and not keep.any():
        raise ValueError(
            f"None of the {len(paths)} image files can be read (listed above)."
        )
    return (np.asarray(paths)[keep], *(np.asarray(a)[keep] for a in arrays))


# ------------------------------------------------------------ image folders
def _labelled_folder(folder, class_names, option="--class-names", groups=None):
    """load_image_folder(folder), with errors about its class folders that say
    what to do on the command line."""
    from .._image import _check_not_splits, _class_folders, load_image_folder

    found = _class_folders(folder)
    if class_names is None:
        _check_not_splits(folder, found, guessed=True)  # a dataset's root
    if class_names is None and len(found) != 2:
        hint = (
            f" Pick two of them with {option} A B."
            if len(found) > 2
            else " It needs two, one per class, named as the class."
        )
        raise ValueError(
            f"{folder!r} must hold exactly two class folders, but it holds "
            f"{len(found)}: {found}.{hint}"
        )
    if class_names is not None:
        missing = [name for name in class_names if name not in found]
        if missing:
            raise ValueError(
                f"{option} {' '.join(class_names)}: {missing} not found among the "
                f"class folders of {folder!r}, {found}."
            )
    return load_image_folder(folder, class_names=class_names, groups=groups)


def _infer_image_format(paths):
    """The image size and colour mode a training folder's images are read at,
    when not given: the median height and width of the images, each at most
    _MAX_SIDE, and "grayscale" if every image is single-channel, else "rgb".

    Only the file headers are read (PIL.Image.open decodes no pixels); files
    whose header cannot be read are left out here and reported when decoded.
    """
    import numpy as np
    from PIL import Image

    heights, widths, gray = [], [], True
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # decompression bombs: reported later
                with Image.open(path) as image:
                    width, height = image.size
                    mode = image.mode
                    turned = image.format in ("JPEG", "MPO") and (
                        image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
                    )
        except Exception:
            continue
        if turned:  # phone photos: decoded upright, as ImageLoader reads them
            width, height = height, width
        heights.append(height)
        widths.append(width)
        gray = gray and mode in _GRAY_MODES
    if not heights:
        return (_MAX_SIDE, _MAX_SIDE), "rgb"
    size = tuple(
        int(min(_MAX_SIDE, max(1, round(float(np.median(sides))))))
        for sides in (heights, widths)
    )
    return size, "grayscale" if gray else "rgb"


def _image_format(args, paths):
    """(image_size, color_mode, how they were chosen) for the training images."""
    size = tuple(args.image_size) if args.image_size else None
    mode = args.color_mode
    backbone = getattr(args, "backbone", None)
    if backbone is not None and (size is None or mode is None):
        from .._backbones import default_image_size

        # What the backbone was pretrained on, rather than the folder's images.
        chosen = [
            what
            for what, missing in [("size", size is None), ("colour mode", not mode)]
            if missing
        ]
        size = size or default_image_size(backbone)
        mode = mode or "rgb"
        return size, mode, f" ({' and '.join(chosen)} of backbone {backbone})"
    inferred = []
    if size is None or mode is None:
        found_size, found_mode = _infer_image_format(paths)
        if size is None:
            size = found_size
            inferred.append("size")
        if mode is None:
            mode = found_mode
            inferred.append("colour mode")
    how = f" ({' and '.join(inferred)} inferred from the images)" if inferred else ""
    return size, mode, how
