"""Bad image files: one error naming every one of them, and nothing on stderr.

ImageLoader reads every file before raising, so that one run names all the bad
files of a dataset (the first ten in the message, all of them in ``filenames``);
missing and unreadable files never reach TensorFlow, whose errors print Python
tracebacks to stderr.
"""

import json
import os
import pickle
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import skcnn._decode
from skcnn import ImageLoader, find_bad_images


def _image(seed=0, size=(32, 32)):
    """A smooth colour image with detail (JPEG decoders differ on it)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize(size[::-1], Image.BICUBIC))


@pytest.fixture
def files(tmp_path):
    """Good PNG and JPEG files, and one bad file of each kind."""
    paths = {}
    for i in range(3):
        paths[f"good{i}.png"] = tmp_path / f"good{i}.png"
        Image.fromarray(_image(i)).save(paths[f"good{i}.png"])
        paths[f"good{i}.jpg"] = tmp_path / f"good{i}.jpg"
        Image.fromarray(_image(i)).save(paths[f"good{i}.jpg"], quality=90)
    jpeg = paths["good0.jpg"].read_bytes()
    bad = {
        "missing.png": None,
        "empty.png": b"",
        "text.png": b"this is not an image",
        "truncated.jpg": jpeg[:-40],
        "truncated.png": paths["good0.png"].read_bytes()[:-12],
        # The middle of the entropy-coded data overwritten, the EOI kept: the
        # file goes to TensorFlow's decoder, which refuses it.
        "corrupt.jpg": jpeg[:-300] + b"\xff\xc0" * 100 + jpeg[-100:],
    }
    for name, data in bad.items():
        paths[name] = tmp_path / name
        if data is not None:
            paths[name].write_bytes(data)
    paths["folder.png"] = tmp_path / "folder.png"
    paths["folder.png"].mkdir()
    return {name: str(path) for name, path in paths.items()}


BAD = {
    "missing.png": "FileNotFoundError: No such file or directory",
    "empty.png": "the file is empty (0 bytes)",
    "text.png": "Pillow cannot identify it",
    "truncated.jpg": "truncated",
    "truncated.png": "runcated",
    "corrupt.jpg": "",
    "folder.png": "IsADirectoryError: Is a directory",
}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_every_bad_file_is_named_in_one_error(files, n_jobs):
    good = [files[f"good{i}.{ext}"] for i in range(3) for ext in ("png", "jpg")]
    # Bad files among good ones, in the TensorFlow and the Pillow groups; a
    # bad file listed twice is named once.
    paths = [*good[:2], *(files[name] for name in BAD), *good[2:]]
    paths.append(files["text.png"])
    with pytest.raises(ValueError) as excinfo:
        ImageLoader((8, 8), n_jobs=n_jobs).transform(paths)
    error = excinfo.value
    assert error.filenames == [files[name] for name in BAD]  # in the files' order
    for expected, reason in zip(BAD.values(), error.reasons, strict=True):
        assert expected in reason
    message = str(error)
    assert message.startswith(f"Cannot read {len(BAD)} image files")
    for name in BAD:
        assert repr(files[name]) in message
    assert "skcnn.find_bad_images" in message
    # Each file's own error, and the same files and reasons as find_bad_images.
    kinds = dict(zip(BAD, map(type, error.errors), strict=True))
    assert kinds["missing.png"] is FileNotFoundError
    assert kinds["folder.png"] is IsADirectoryError
    assert kinds["text.png"] is skcnn._decode._BadImageError
    listed = find_bad_images(paths[:-1], n_jobs=n_jobs)
    assert listed == list(zip(error.filenames, error.reasons, strict=True))


def test_many_bad_files_give_a_short_message(files):
    folder = os.path.dirname(files["good0.png"])
    missing = [os.path.join(folder, f"{i}.png") for i in range(25)]
    with pytest.raises(ValueError) as excinfo:
        ImageLoader((8, 8)).transform([files["good0.png"], *missing])
    error = excinfo.value
    assert error.filenames == missing
    message = str(error)
    assert [repr(path) in message for path in missing] == [True] * 10 + [False] * 15
    assert "... and 15 more." in message
    assert len(message.splitlines()) == 1 + 10 + 1 + 1


def test_a_file_tensorflow_refuses_is_decoded_by_pillow_alone(files, monkeypatch):
    # A BMP file announced to TensorFlow as a JPEG: TensorFlow's decoder fails,
    # Pillow decodes that file, and the JPEGs of its group keep TensorFlow's
    # pixels (a fallback decoding every file with Pillow would change them).
    bmp = files["good1.png"][:-4] + ".bmp"
    Image.fromarray(_image(1)).save(bmp)
    jpegs = [files[f"good{i}.jpg"] for i in range(3)]
    paths = [jpegs[0], bmp, jpegs[1], jpegs[2]]
    loader = ImageLoader((24, 24))
    expected = loader.transform(paths)  # the BMP decoded by Pillow
    with_pillow = np.empty_like(expected)
    skcnn._decode._read_into(with_pillow, paths, loader._check_params(), 1, True)
    assert not np.array_equal(with_pillow[[0, 2, 3]], expected[[0, 2, 3]])

    real = skcnn._decode._file_info

    def as_jpeg(path, *args):
        info = real(path, *args)
        return (skcnn._decode._JPEG, 1, 1, 3) if os.fspath(path) == bmp else info

    monkeypatch.setattr(skcnn._decode, "_file_info", as_jpeg)
    infos = skcnn._decode._file_infos(paths, (24, 24), True)
    assert len(set(map(tuple, infos.tolist()))) == 1  # one TensorFlow group
    np.testing.assert_array_equal(loader.transform(paths), expected)


def test_truncated_jpeg_goes_to_pillow(files):
    # No EOI marker at its end: Pillow names it, TensorFlow never prints its
    # error about it to stderr.
    # A JPEG corrupt in its middle still goes to TensorFlow (which refuses it:
    # test_every_bad_file_is_named_in_one_error covers that path).
    paths = [files["good0.jpg"], files["truncated.jpg"], files["corrupt.jpg"]]
    infos = skcnn._decode._file_infos(paths, (8, 8), True)
    jpeg, pillow = skcnn._decode._JPEG, skcnn._decode._PILLOW
    assert infos[:, 0].tolist() == [jpeg, pillow, jpeg]


# ------------------------------------------------------------------ stderr

_SCRIPT = """
import json, sys
import numpy as np
import tensorflow as tf

tf.constant(0) + 1  # TensorFlow's start-up messages, before the first case
from sklearn.pipeline import make_pipeline
from skcnn import CNNBinaryClassifier, ImageLoader

paths = json.loads(sys.argv[1])
good, missing, text = paths["good"], paths["missing_png"], paths["text_png"]
y = np.array([0, 1] * (len(good) // 2))
with_missing = np.array(good[:5] + [missing] + good[6:], dtype=object)
with_text = np.array(good[:5] + [text] + good[6:], dtype=object)
tiny = dict(filters=(4,), epochs=1, verbose=0, batch_size=4)
cases = {
    "transform": lambda: ImageLoader((8, 8), color_mode="grayscale").transform(
        [missing]
    ),
    "transform-several": lambda: ImageLoader((8, 8)).transform(
        [good[0], missing, text, paths["empty_png"], paths["truncated_jpg"], good[1]]
    ),
    "pipeline-fit": lambda: make_pipeline(
        ImageLoader((8, 8), color_mode="grayscale"), CNNBinaryClassifier(**tiny)
    ).fit(with_missing, y),
    "classifier-fit": lambda: CNNBinaryClassifier(
        image_shape=(8, 8, 1), **tiny
    ).fit(with_missing, y),
    "classifier-fit-text": lambda: CNNBinaryClassifier(
        image_shape=(8, 8, 1), **tiny
    ).fit(with_text, y),
}
for name, case in cases.items():
    sys.stderr.write(f"### {name}\\n")
    sys.stderr.flush()
    try:
        case()
        print(json.dumps([name, None, ""]), flush=True)
    except Exception as exc:
        print(json.dumps([name, type(exc).__name__, str(exc)]), flush=True)
sys.stderr.write("### end\\n")
"""


@pytest.mark.slow
def test_bad_files_print_nothing_on_stderr(tmp_path, files):
    good = []
    for i in range(12):
        good.append(str(tmp_path / f"digit{i}.png"))
        Image.fromarray(_image(i, (8, 8))[..., 0]).save(good[-1])
    paths = {"good": good, **{key.replace(".", "_"): files[key] for key in BAD}}
    # TensorFlow's C++ warnings are printed (they are unless an importer says).
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_SCRIPT), json.dumps(paths)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    raised = {
        name: (kind, message)
        for name, kind, message in map(json.loads, result.stdout.splitlines())
    }
    parts = re.findall(r"^### (\S+)\n(.*?)(?=^### )", result.stderr, re.S | re.M)
    stderr = dict(parts)
    missing = re.escape(f"No such file or directory: '{paths['missing_png']}'")
    for name in ("transform", "pipeline-fit", "classifier-fit"):
        kind, message = raised[name]
        assert kind == "FileNotFoundError" and re.search(missing, message), name
    kind, message = raised["transform-several"]
    assert kind == "_BadImagesError" and "Cannot read 4 image files" in message
    kind, message = raised["classifier-fit-text"]
    assert kind == "_BadImageError" and "text.png': Pillow cannot identify" in message
    noise = re.compile(
        r"Traceback|op_kernel|local_rendezvous|PyFunc|cannot read image|JPEG"
    )
    for name in ("transform", "transform-several", "pipeline-fit", "classifier-fit"):
        assert not noise.search(stderr[name]), (name, stderr[name])
    # Stopping a fit on a file only decoding finds bad makes TensorFlow log one
    # line (the classifier could end its epochs quietly instead): no traceback.
    assert "Traceback" not in stderr["classifier-fit-text"]


def test_the_errors_survive_pickling(files):
    # As when they come back from a joblib worker process (GridSearchCV's).
    paths = [files["missing.png"], files["text.png"], files["empty.png"]]
    with pytest.raises(ValueError) as excinfo:
        ImageLoader((8, 8)).transform(paths)
    for error in (excinfo.value, excinfo.value.errors[1]):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
    assert copy.filename == files["text.png"]
    copy = pickle.loads(pickle.dumps(excinfo.value))
    assert copy.filenames == paths and copy.reasons == excinfo.value.reasons
    assert type(copy.errors[0]) is FileNotFoundError
