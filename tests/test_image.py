import os
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

import skcnn._decode
from skcnn import ImageLoader, find_bad_images, load_image_folder, make_baseline
from skcnn.datasets import load_digits_pair


@pytest.fixture(scope="module")
def pixels():
    """Real 8x8 grayscale digits (uint8, no channel axis) and their labels."""
    X, y = load_digits_pair(return_X_y=True)
    return X[..., 0], y


def _save(path, array, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
    return path


def _rgb(gray):
    """A colour image from a grey one: each channel a different function of it."""
    gray = gray.astype(np.int64)
    return np.stack([gray, 255 - gray, (gray * 3) % 256], axis=-1).astype(np.uint8)


@pytest.fixture
def digit_folder(tmp_path, pixels):
    """root/seven and root/eight holding 12 PNG digits each, plus the arrays."""
    X, y = pixels
    root = tmp_path / "digits"
    images = {}
    for name, digit in [("seven", 7), ("eight", 8)]:
        for i, image in enumerate(X[y == digit][:12]):
            _save(root / name / f"{i:02d}.png", image)
        images[name] = X[y == digit][:12]
    return root, images


# ---------------------------------------------------------------- load_image_folder


def test_folder_layout_and_order(digit_folder):
    root, _ = digit_folder
    data = load_image_folder(root)
    assert sorted(data) == ["DESCR", "filenames", "target", "target_names"]
    np.testing.assert_array_equal(data.target_names, ["eight", "seven"])
    np.testing.assert_array_equal(data.target, ["eight"] * 12 + ["seven"] * 12)
    expected = [
        str(root / c / f"{i:02d}.png") for c in ["eight", "seven"] for i in range(12)
    ]
    assert data.filenames.tolist() == expected
    assert isinstance(data.filenames, np.ndarray)
    assert "24 image files" in data.DESCR
    # Deterministic: a second listing is identical.
    again = load_image_folder(str(root))
    np.testing.assert_array_equal(again.filenames, data.filenames)
    np.testing.assert_array_equal(again.target, data.target)


def test_class_names_pick_and_order(digit_folder):
    root, _ = digit_folder
    (root / "nine").mkdir()
    _save(root / "nine" / "a.png", np.zeros((8, 8), np.uint8))
    data = load_image_folder(root, class_names=["seven", "nine"])
    np.testing.assert_array_equal(data.target_names, ["seven", "nine"])
    np.testing.assert_array_equal(data.target, ["seven"] * 12 + ["nine"])
    assert data.filenames[0].endswith(os.path.join("seven", "00.png"))
    with pytest.raises(ValueError, match=r"\['ten'\] not found"):
        load_image_folder(root, class_names=["seven", "ten"])
    with pytest.raises(ValueError, match="must name two different class folders"):
        load_image_folder(root, class_names=["seven"])
    with pytest.raises(ValueError, match="must name two different class folders"):
        load_image_folder(root, class_names=["seven", "eight", "nine"])


def test_three_folders_is_an_error(digit_folder):
    root, _ = digit_folder
    (root / "nine").mkdir()
    msg = r"holds 3: \['eight', 'nine', 'seven'\]\. Pick two of them with class_names"
    with pytest.raises(ValueError, match=msg):
        load_image_folder(root)


def test_one_folder_is_an_error(tmp_path):
    _save(tmp_path / "only" / "a.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"holds 1: \['only'\]\. A binary task"):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match=r"holds 0: \[\]"):
        load_image_folder(tmp_path / "only")


def test_empty_class_folder_is_an_error(digit_folder):
    root, _ = digit_folder
    for path in (root / "eight").iterdir():
        path.unlink()
    (root / "eight" / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match=r"eight'? holds no image file.*\['eight'"):
        load_image_folder(root)


def test_hidden_folders_are_not_classes(digit_folder):
    root, _ = digit_folder
    _save(root / ".ipynb_checkpoints" / "x.png", np.zeros((4, 4), np.uint8))
    data = load_image_folder(root)
    np.testing.assert_array_equal(data.target_names, ["eight", "seven"])


@pytest.mark.parametrize(
    "splits",
    [["test", "train"], ["Test", "Train"], ["test", "train", "validation"]],
)
def test_dataset_root_with_split_folders_is_an_error(tmp_path, pixels, splits):
    # data/train/seven, data/train/eight, data/test/...: not "test" vs "train".
    X, _ = pixels
    root = tmp_path / "data"
    for split in splits:
        for name in ("seven", "eight"):
            _save(root / split / name / "0.png", X[0])
    train = os.path.join(root, splits[-2] if len(splits) > 2 else splits[1])
    msg = (
        f"{str(root)!r} holds split folders {splits}, not class folders: point at "
        f"one split, e.g. {str(train)!r} (whose class folders are ['eight', 'seven'])."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        load_image_folder(root)
    # One split is a good folder; naming split folders loads them, with a warning.
    data = load_image_folder(train)
    np.testing.assert_array_equal(data.target_names, ["eight", "seven"])
    named = msg.replace(str(splits), str(splits[1::-1]))
    with pytest.warns(UserWarning, match=re.escape(named)):
        data = load_image_folder(root, class_names=splits[1::-1])
    np.testing.assert_array_equal(data.target_names, splits[1::-1])
    assert len(data.filenames) == 4


def test_class_folders_named_like_splits_warn(tmp_path, pixels):
    # Images directly in train/ and test/: maybe classes, but the task would be
    # "test" versus "train".
    X, _ = pixels
    for name in ("test", "train"):
        _save(tmp_path / name / "0.png", X[0])
    msg = "named like dataset splits: each image is labelled by its folder, so the "
    with pytest.warns(UserWarning, match=msg + "task is 'test' versus 'train'"):
        data = load_image_folder(tmp_path)
    np.testing.assert_array_equal(data.target, ["test", "train"])
    # Folders named otherwise do not warn ("error" in the pytest configuration).
    (tmp_path / "train").rename(tmp_path / "trains")
    data = load_image_folder(tmp_path)
    np.testing.assert_array_equal(data.target_names, ["test", "trains"])


def test_extensions_and_nested_subfolders(tmp_path, pixels):
    X, _ = pixels
    for name in ["a", "b"]:
        _save(tmp_path / name / "1.png", X[0])
    _save(tmp_path / "a" / "2.JPG", X[1])
    _save(tmp_path / "a" / "3.jpeg", X[2])
    _save(tmp_path / "a" / "4.Tif", X[3])
    _save(tmp_path / "a" / "5.ppm", X[4])  # not a listed format: ignored
    (tmp_path / "a" / "notes.txt").write_text("ignored")
    (tmp_path / "a" / "labels.csv").write_text("ignored")
    _save(tmp_path / "a" / "sub" / "deeper" / "6.bmp", X[5])
    _save(tmp_path / "a" / "sub" / "7.webp", X[6])
    data = load_image_folder(tmp_path)
    names = [os.path.relpath(f, tmp_path) for f in data.filenames]
    assert names == [
        "a/1.png",
        "a/2.JPG",
        "a/3.jpeg",
        "a/4.Tif",
        "a/sub/7.webp",
        "a/sub/deeper/6.bmp",
        "b/1.png",
    ]
    only_png = load_image_folder(tmp_path, formats=("png",))
    assert only_png.filenames.tolist() == [
        str(tmp_path / "a" / "1.png"),
        str(tmp_path / "b" / "1.png"),
    ]
    with pytest.raises(ValueError, match="`formats` must be a subset of"):
        load_image_folder(tmp_path, formats=("png", "ppm"))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_follow_links(tmp_path, pixels):
    X, _ = pixels
    for name in ["a", "b"]:
        _save(tmp_path / "data" / name / "1.png", X[0])
    _save(tmp_path / "elsewhere" / "2.png", X[1])
    try:
        os.symlink(tmp_path / "elsewhere", tmp_path / "data" / "a" / "linked")
    except OSError:
        pytest.skip("cannot create symbolic links here")
    plain = load_image_folder(tmp_path / "data")
    assert len(plain.filenames) == 2
    followed = load_image_folder(tmp_path / "data", follow_links=True)
    assert followed.filenames[1] == str(tmp_path / "data" / "a" / "linked" / "2.png")
    np.testing.assert_array_equal(followed.target, ["a", "a", "b"])


def test_unlabelled_folder(tmp_path, pixels):
    X, _ = pixels
    root = tmp_path / "Predict"
    _save(root / "b.png", X[0])
    _save(root / "a.jpg", X[1])
    _save(root / "nested" / "c.gif", X[2])
    (root / "nested" / "c.txt").write_text("ignored")
    data = load_image_folder(root, labels=None)
    assert data.target is None
    assert data.target_names.shape == (0,)
    names = [os.path.relpath(f, root) for f in data.filenames]
    assert names == ["a.jpg", "b.png", "nested/c.gif"]
    with pytest.raises(ValueError, match="`class_names` cannot be specified"):
        load_image_folder(root, labels=None, class_names=["a", "b"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="No image file found in .*empty"):
        load_image_folder(empty, labels=None)


def test_bad_root(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_image_folder(missing)
    a_file = tmp_path / "file.png"
    _save(a_file, np.zeros((4, 4), np.uint8))
    with pytest.raises(NotADirectoryError, match=re.escape(str(a_file))):
        load_image_folder(a_file)
    with pytest.raises(ValueError, match='`labels` must be "inferred"'):
        load_image_folder(tmp_path, labels=[0, 1])


# ---------------------------------------------------------------------- ImageLoader


@pytest.mark.parametrize(
    "color_mode, channels", [("grayscale", 1), ("rgb", 3), ("rgba", 4)]
)
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_shapes_and_dtypes(digit_folder, color_mode, channels, dtype):
    root, images = digit_folder
    files = load_image_folder(root).filenames
    loader = ImageLoader((5, 7), color_mode=color_mode, dtype=dtype)
    X = loader.fit_transform(files)
    assert X.shape == (24, 5, 7, channels)
    assert X.dtype == np.dtype(dtype)
    assert 0 <= X.min() and X.max() <= 255 and X.max() > 100
    if color_mode == "rgba":
        assert (X[..., 3] == 255).all()


def test_png_round_trip_exact(digit_folder):
    root, images = digit_folder
    files = load_image_folder(root).filenames
    expected = np.concatenate([images["eight"], images["seven"]])
    for interpolation in ["nearest", "bilinear", "lanczos"]:
        X = ImageLoader((8, 8), color_mode="grayscale", interpolation=interpolation)
        np.testing.assert_array_equal(X.transform(files)[..., 0], expected)
    rgb = ImageLoader((8, 8)).transform(files)
    for c in range(3):
        np.testing.assert_array_equal(rgb[..., c], expected)


@pytest.mark.parametrize(
    "ext, kwargs, lossless",
    [
        ("png", {}, True),
        ("bmp", {}, True),
        ("tiff", {}, True),
        ("gif", {}, True),
        ("webp", {"lossless": True}, True),
        ("jpg", {"quality": 95, "subsampling": 0}, False),
    ],
)
def test_each_format_rgb(tmp_path, pixels, ext, kwargs, lossless):
    X, _ = pixels
    image = _rgb(np.kron(X[0], np.ones((4, 4), np.uint8)))  # 32x32, blocky
    if ext == "gif":  # GIF is a palette format: keep to the grey levels
        image = np.repeat(np.kron(X[0], np.ones((4, 4), np.uint8))[..., None], 3, -1)
    path = _save(tmp_path / f"x.{ext}", image, **kwargs)
    out = ImageLoader((32, 32), interpolation="nearest").transform([path])[0]
    if lossless:
        np.testing.assert_array_equal(out, image)
    else:
        assert np.abs(out.astype(int) - image).mean() < 8


def test_resize_size_and_interpolation(tmp_path, pixels):
    X, _ = pixels
    path = _save(tmp_path / "x.png", np.kron(X[0], np.ones((2, 2), np.uint8)))
    nearest = ImageLoader((8, 8), color_mode="grayscale", interpolation="nearest")
    np.testing.assert_array_equal(nearest.transform([path])[0, ..., 0], X[0])
    for interpolation in [
        "bilinear",
        "bicubic",
        "area",
        "lanczos3",
        "lanczos5",
        "gaussian",
        "mitchellcubic",
    ]:
        loader = ImageLoader(4, color_mode="grayscale", interpolation=interpolation)
        assert loader.transform([path]).shape == (1, 4, 4, 1)
    upper = ImageLoader((8, 8), color_mode="grayscale", interpolation="AREA")
    np.testing.assert_array_equal(upper.transform([path])[0, ..., 0], X[0])


def test_exif_orientation(tmp_path):
    # 16 wide x 8 tall: left half white. Orientation 6 means "rotate 90 degrees
    # clockwise to display", so the result is 8 wide x 16 tall, top half white.
    image = np.zeros((8, 16), np.uint8)
    image[:, :8] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(tmp_path / "rotated.jpg", image, exif=exif, quality=95)
    out = ImageLoader((16, 8), color_mode="grayscale").transform([path])[0, ..., 0]
    expected = np.rot90(image, k=-1)
    assert expected.shape == (16, 8)
    assert np.abs(out.astype(int) - expected).mean() < 10
    assert out[:8].mean() > 200 and out[8:].mean() < 50


def test_exif_orientation_with_draft_of_a_large_jpeg(tmp_path, pixels):
    X, _ = pixels
    image = _rgb(np.kron(X[0][:, :4], np.ones((64, 64), np.uint8)))  # 256 x 512
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(tmp_path / "big.jpg", image, exif=exif, quality=95)
    png = _save(tmp_path / "big.png", np.rot90(image, k=-1))  # 512 x 256
    loader = ImageLoader((32, 16), interpolation="bilinear")
    out, reference = loader.transform([path, png])
    assert np.abs(out.astype(int) - reference).mean() < 4


def test_16bit_png_is_scaled_not_clipped(tmp_path):
    values = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1040).astype(np.uint16)
    path = _save(tmp_path / "deep.png", values)
    with Image.open(path) as img:
        assert img.mode == "I;16"
    expected = np.rint(values / 257).astype(np.uint8)
    gray = ImageLoader((8, 8), color_mode="grayscale").transform([path])[0, ..., 0]
    np.testing.assert_array_equal(gray, expected)
    assert gray.max() == 255 and len(np.unique(gray)) == 64
    rgb = ImageLoader((8, 8)).transform([path])[0]
    np.testing.assert_array_equal(rgb, np.repeat(expected[..., None], 3, -1))


def test_cmyk_jpeg(tmp_path, pixels):
    X, _ = pixels
    image = _rgb(np.kron(X[0], np.ones((4, 4), np.uint8)))
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(image).convert("CMYK").save(path, quality=100)
    with Image.open(path) as img:
        assert img.mode == "CMYK"
    out = ImageLoader((32, 32)).transform([path])[0]
    assert np.abs(out.astype(int) - image).mean() < 3


def test_palette_with_transparency(tmp_path):
    img = Image.new("P", (4, 4), 0)
    img.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255])
    img.putpixel((1, 1), 1)
    img.putpixel((2, 2), 2)
    path = tmp_path / "palette.png"
    img.save(path, transparency=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no Pillow warning about transparency
        rgba = ImageLoader((4, 4), color_mode="rgba").transform([path])[0]
        rgb = ImageLoader((4, 4), interpolation="nearest").transform([path])[0]
    assert rgba[0, 0].tolist() == [0, 0, 0, 0]
    assert rgba[1, 1].tolist() == [255, 0, 0, 255]
    assert rgba[2, 2].tolist() == [0, 0, 255, 255]
    assert rgb[1, 1].tolist() == [255, 0, 0]
    gray = ImageLoader((4, 4), color_mode="grayscale").transform([path])
    assert gray.shape == (1, 4, 4, 1)


def test_la_and_rgba_inputs(tmp_path):
    la = Image.new("LA", (4, 4), (200, 100))
    la.save(tmp_path / "la.png")
    rgba = Image.new("RGBA", (4, 4), (10, 20, 30, 40))
    rgba.save(tmp_path / "rgba.png")
    files = [tmp_path / "la.png", tmp_path / "rgba.png"]
    out = ImageLoader((4, 4), color_mode="rgba").transform(files)
    assert out[0, 0, 0].tolist() == [200, 200, 200, 100]
    assert out[1, 0, 0].tolist() == [10, 20, 30, 40]
    assert ImageLoader((4, 4)).transform(files)[1, 0, 0].tolist() == [10, 20, 30]


def test_animated_gif_gives_first_frame(tmp_path, pixels):
    X, _ = pixels
    frames = [Image.fromarray(X[0]), Image.fromarray(255 - X[0])]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50)
    with Image.open(path) as img:
        assert img.n_frames == 2
    out = ImageLoader((8, 8), color_mode="grayscale").transform([path])[0, ..., 0]
    np.testing.assert_array_equal(out, X[0])


def test_crop_and_pad_to_aspect_ratio(tmp_path):
    image = np.arange(8 * 16, dtype=np.uint8).reshape(8, 16)  # 16 wide, 8 tall
    path = _save(tmp_path / "wide.png", image)
    crop = ImageLoader((8, 8), color_mode="grayscale", crop_to_aspect_ratio=True)
    np.testing.assert_array_equal(crop.transform([path])[0, ..., 0], image[:, 4:12])
    pad = ImageLoader((16, 16), color_mode="grayscale", pad_to_aspect_ratio=True)
    padded = pad.transform([path])[0, ..., 0]
    np.testing.assert_array_equal(padded[4:12], image)
    assert (padded[:4] == 0).all() and (padded[12:] == 0).all()
    for loader in [crop, pad]:
        loader.set_params(image_size=(6, 10), color_mode="rgb")
        assert loader.transform([path, path]).shape == (2, 6, 10, 3)
    plain = ImageLoader((8, 8), color_mode="grayscale", interpolation="nearest")
    np.testing.assert_array_equal(plain.transform([path])[0, ..., 0], image[:, 1::2])


def test_large_jpeg_draft_close_to_full_decode(tmp_path, pixels):
    X, _ = pixels
    image = _rgb(np.kron(X[0], np.ones((64, 64), np.uint8)))  # 512 x 512
    path = _save(tmp_path / "big.jpg", image, quality=95)
    fast = ImageLoader((32, 32), interpolation="area").transform([path])[0]
    png = _save(tmp_path / "big.png", image)
    reference = ImageLoader((32, 32), interpolation="area").transform([png])[0]
    assert np.abs(fast.astype(int) - reference).mean() < 4


def _decoder_files(tmp_path, pixels):
    """Files of each kind the TensorFlow decoder takes, and of kinds it leaves to
    Pillow: {name: path}."""
    X, _ = pixels
    gray = np.kron(X[5], np.ones((40, 30), np.uint8))  # 320 x 240
    colour = _rgb(gray)
    rgba = np.dstack([colour, np.kron(X[6], np.ones((40, 30), np.uint8))])
    exif = Image.Exif()
    exif[0x0112] = 8
    return {
        "jpeg_rgb_420": _save(tmp_path / "a.jpg", colour, quality=90),
        "jpeg_rgb_444": _save(tmp_path / "b.jpg", colour, subsampling=0),
        "jpeg_gray": _save(tmp_path / "c.jpg", gray, quality=90),
        "png_gray": _save(tmp_path / "d.png", gray),
        "png_rgb": _save(tmp_path / "e.png", colour),
        "png_rgba": _save(tmp_path / "f.png", rgba),
        "png_la": _save(tmp_path / "g.png", rgba[..., [0, 3]].copy()),
        "jpeg_exif_rotated": _save(tmp_path / "h.jpg", colour, exif=exif),
        "pillow_cmyk_jpeg": _save_cmyk(tmp_path / "i.jpg", colour),
        "pillow_bmp": _save(tmp_path / "j.bmp", colour),
        "pillow_palette_png": _save_palette(tmp_path / "k.png", colour),
    }


def _save_cmyk(path, rgb):
    Image.fromarray(rgb).convert("CMYK").save(path, quality=90)
    return path


def _save_palette(path, rgb):
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(path)
    return path


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"color_mode": "grayscale"},
        {"color_mode": "rgba"},
        {"image_size": (30, 40), "crop_to_aspect_ratio": True},
        {"image_size": (30, 40), "pad_to_aspect_ratio": True, "color_mode": "rgba"},
        {"image_size": (400, 300), "interpolation": "bicubic"},
        {"image_size": (16, 16), "interpolation": "nearest"},
        {"image_size": (64, 64), "antialias": True, "interpolation": "lanczos3"},
    ],
)
def test_tensorflow_and_pillow_decoders_give_the_same_pixels(tmp_path, pixels, params):
    # JPEG and plain PNG files are decoded by TensorFlow, the others by Pillow;
    # forcing Pillow for every file must not change a PNG pixel, and JPEG pixels
    # only by the difference of libjpeg's fast DCT (TensorFlow's and Keras'
    # default) and accurate DCT (Pillow's). 24x24 from 320x240 JPEGs uses
    # libjpeg's 1/8 scaled decoding in both.
    params = {"image_size": (24, 24), **params}
    loader = ImageLoader(**params)
    files = _decoder_files(tmp_path, pixels)
    paths = [os.fspath(p) for p in files.values()]
    out = loader.transform(paths)
    pillow = np.empty_like(out)
    skcnn._decode._read_into(pillow, paths, loader._check_params(), 2, True)
    for name, ours, theirs in zip(files, out, pillow, strict=True):
        if name.startswith("jpeg"):
            difference = np.abs(ours.astype(int) - theirs)
            assert difference.mean() < 1 and difference.max() <= 8, name
        else:
            np.testing.assert_array_equal(ours, theirs, err_msg=name)
    height, width = params["image_size"]
    assert out.shape[1:3] == (height, width)


@pytest.mark.parametrize("size", [(24, 24), (500, 400)])  # down and up
def test_plain_jpeg_and_png_are_decoded_by_tensorflow(
    tmp_path, pixels, monkeypatch, size
):
    files = _decoder_files(tmp_path, pixels)
    loader = ImageLoader(size)
    expected = loader.transform(list(files.values()))

    def no_pillow(path, *args, **kwargs):
        raise AssertionError(f"Pillow asked to decode {path}")

    monkeypatch.setattr(skcnn._decode, "_decode", no_pillow)
    for i, (name, path) in enumerate(files.items()):
        if name.startswith("pillow"):
            with pytest.raises(AssertionError, match="Pillow asked to decode"):
                loader.transform([path])
        else:
            np.testing.assert_array_equal(loader.transform([path])[0], expected[i])


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied_by_tensorflow(tmp_path, pixels, orientation):
    # The same JPEG data with and without an EXIF orientation: the oriented file
    # gives exactly the plain one transposed as Pillow's exif_transpose does.
    X, _ = pixels
    image = _rgb(np.kron(X[3][:, :6], np.ones((4, 3), np.uint8)))  # 32 x 18
    plain = _save(tmp_path / "plain.jpg", image, quality=90)
    exif = Image.Exif()
    exif[0x0112] = orientation
    oriented = _save(tmp_path / "oriented.jpg", image, quality=90, exif=exif)
    size = (18, 32) if orientation >= 5 else (32, 18)
    loader = ImageLoader(size, interpolation="nearest")
    plain_pixels, oriented_pixels = loader.transform([plain, oriented])
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    loader.set_params(image_size=(32, 18))
    expected = Image.fromarray(loader.transform([plain])[0])
    if method is not None:
        expected = expected.transpose(method)
    np.testing.assert_array_equal(oriented_pixels, np.asarray(expected))
    assert plain_pixels.shape[:2] == size


def test_same_pixels_as_keras_image_dataset_from_directory(digit_folder, pixels):
    # Keras' own decoders and bilinear resize without antialiasing: identical
    # pixels after rounding Keras' float ones, for PNG and JPEG files (decoded at
    # full scale: these JPEGs are less than twice the target size).
    import keras

    root, _ = digit_folder
    X, _ = pixels

    def check(size, color_mode):
        dataset = keras.utils.image_dataset_from_directory(
            root,
            image_size=size,
            color_mode=color_mode,
            shuffle=False,
            batch_size=100,
            verbose=False,
        )
        images = np.concatenate([np.asarray(x) for x, _ in dataset])
        # Keras orders the classes alphanumerically, as load_image_folder does.
        files = load_image_folder(root).filenames
        out = ImageLoader(size, color_mode=color_mode).transform(files)
        np.testing.assert_array_equal(out, np.round(images).astype(np.uint8))

    check((5, 5), "grayscale")
    check((20, 12), "rgb")
    for i in range(3):
        image = _rgb(np.kron(X[20 + i], np.ones((3, 2), np.uint8)))  # 24 x 16
        _save(root / "seven" / f"photo{i}.jpg", image, quality=85)
    check((20, 12), "rgb")


def test_n_jobs_and_order(digit_folder):
    root, _ = digit_folder
    files = load_image_folder(root).filenames
    one = ImageLoader((8, 8), n_jobs=1).transform(files)
    two = ImageLoader((8, 8), n_jobs=2).transform(files)
    np.testing.assert_array_equal(one, two)
    with joblib.parallel_config(backend="loky", n_jobs=2):
        np.testing.assert_array_equal(ImageLoader((8, 8)).transform(files), one)
    np.testing.assert_array_equal(
        ImageLoader((8, 8), n_jobs=2).transform(files[::-1]), one[::-1]
    )
    # the same file twice, and paths as Path objects
    mixed = [files[3], root / "seven" / "00.png", files[3]]
    out = ImageLoader((8, 8)).transform(mixed)
    np.testing.assert_array_equal(out[0], one[3])
    np.testing.assert_array_equal(out[2], one[3])
    np.testing.assert_array_equal(out[1], one[12])


def test_array_like_inputs(digit_folder):
    root, _ = digit_folder
    files = load_image_folder(root).filenames
    expected = ImageLoader((8, 8)).transform(files)
    np.testing.assert_array_equal(ImageLoader((8, 8)).transform(list(files)), expected)
    np.testing.assert_array_equal(
        ImageLoader((8, 8)).transform(files.reshape(-1, 1)), expected
    )
    pd = pytest.importorskip("pandas")
    series = pd.Series(files, index=np.arange(100, 124))
    np.testing.assert_array_equal(ImageLoader((8, 8)).transform(series), expected)
    assert ImageLoader((8, 8)).transform([]).shape == (0, 8, 8, 3)
    with pytest.raises(ValueError, match="single path received"):
        ImageLoader().transform(files[0])
    with pytest.raises(TypeError, match="Got int at index 1"):
        ImageLoader().transform([files[0], 3])
    with pytest.raises(ValueError, match="1-D array-like"):
        ImageLoader().transform(files.reshape(4, 6))


def _bad_files(tmp_path, pixels):
    """Each kind of bad file, by name, with a good file written beside them."""
    X, _ = pixels
    image = np.kron(X[0], np.ones((4, 4), np.uint8))
    good_png = _save(tmp_path / "good.png", image)
    good_jpg = _save(tmp_path / "good.jpg", image)
    bad = {}
    bad["empty"] = tmp_path / "empty.png"
    bad["empty"].write_bytes(b"")
    bad["truncated_jpeg"] = tmp_path / "truncated.jpg"
    bad["truncated_jpeg"].write_bytes(good_jpg.read_bytes()[:-40])
    bad["truncated_png"] = tmp_path / "truncated.png"
    bad["truncated_png"].write_bytes(good_png.read_bytes()[:-12])  # no IEND chunk
    bad["half_png"] = tmp_path / "half.png"
    bad["half_png"].write_bytes(good_png.read_bytes()[: good_png.stat().st_size // 2])
    bad["text"] = tmp_path / "text.png"
    bad["text"].write_text("this is not an image")
    bad["unsupported"] = _save(tmp_path / "other.ppm", image)
    bad["unsupported_renamed"] = tmp_path / "renamed.png"
    bad["unsupported_renamed"].write_bytes(bad["unsupported"].read_bytes())
    bad["directory"] = tmp_path / "folder.png"
    bad["directory"].mkdir()
    bad["missing"] = tmp_path / "missing.png"
    return good_png, bad


@pytest.mark.parametrize(
    "kind, error, reason",
    [
        ("empty", ValueError, "empty"),
        ("truncated_jpeg", ValueError, "truncated"),
        ("truncated_png", ValueError, "truncated"),
        ("half_png", ValueError, "runcated"),
        ("text", ValueError, "cannot identify"),
        ("unsupported", ValueError, "cannot identify"),
        ("unsupported_renamed", ValueError, "cannot identify"),
        ("directory", IsADirectoryError, "Is a directory"),
        ("missing", FileNotFoundError, "No such file"),
    ],
)
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_bad_file_is_an_error_naming_it(tmp_path, pixels, kind, error, reason, n_jobs):
    good, bad = _bad_files(tmp_path, pixels)
    files = [good, good, bad[kind], good]
    loader = ImageLoader((8, 8), n_jobs=n_jobs)
    with pytest.raises(error, match=re.escape(str(bad[kind]))) as excinfo:
        loader.transform(files)
    assert reason in str(excinfo.value)


def test_warns_if_truncated_images_are_allowed(tmp_path, pixels, monkeypatch):
    from PIL import ImageFile

    good, bad = _bad_files(tmp_path, pixels)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.warns(UserWarning, match="LOAD_TRUNCATED_IMAGES is True"):
        ImageLoader((8, 8)).transform([good])
    with pytest.warns(UserWarning, match="LOAD_TRUNCATED_IMAGES is True"):
        find_bad_images([good])


@pytest.mark.parametrize("limit", [100, 200])  # error (> 2x limit) and warning
def test_decompression_bomb_is_an_error(tmp_path, monkeypatch, limit):
    path = _save(tmp_path / "bomb.png", np.zeros((16, 16), np.uint8))  # 256 px
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    with pytest.raises(ValueError, match=r"bomb\.png.*decompression bomb"):
        ImageLoader((8, 8)).transform([path])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # even when the user silences warnings
        with pytest.raises(ValueError, match="decompression bomb"):
            ImageLoader((8, 8)).transform([path])
    assert [p for p, _ in find_bad_images([path])] == [str(path)]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 256)
    assert ImageLoader((8, 8)).transform([path]).shape == (1, 8, 8, 3)


def test_find_bad_images_finds_them_all(tmp_path, pixels):
    good, bad = _bad_files(tmp_path, pixels)
    found = dict(find_bad_images(tmp_path))
    # The folder listing holds the image extensions only (not .ppm), files only.
    expected = [
        "empty.png",
        "half.png",
        "renamed.png",
        "text.png",
        "truncated.jpg",
        "truncated.png",
    ]
    assert sorted(os.path.basename(p) for p in found) == expected
    assert all(isinstance(reason, str) and reason for reason in found.values())
    assert "empty" in found[str(bad["empty"])]
    listed = find_bad_images([good, *bad.values(), good], n_jobs=2)
    assert [path for path, _ in listed] == [str(path) for path in bad.values()]
    assert find_bad_images([good, good]) == []
    assert find_bad_images(good) == []
    assert [p for p, _ in find_bad_images(bad["text"])] == [str(bad["text"])]
    with pytest.raises(FileNotFoundError, match="missing.png"):
        find_bad_images(bad["missing"])


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"image_size": (0, 8)}, ValueError, "two positive integers"),
        ({"image_size": (8, -1)}, ValueError, "two positive integers"),
        ({"image_size": (8,)}, ValueError, "two positive integers"),
        ({"image_size": (8, 8.5)}, ValueError, "two positive integers"),
        ({"image_size": 0}, InvalidParameterError, "image_size"),
        ({"color_mode": "RGB"}, ValueError, "`color_mode` must be one of"),
        ({"interpolation": "cubic"}, ValueError, "`interpolation` must be one of"),
        ({"interpolation": 3}, InvalidParameterError, "interpolation"),
        ({"dtype": "float64"}, InvalidParameterError, "dtype"),
        ({"n_jobs": 1.5}, InvalidParameterError, "n_jobs"),
        (
            {"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
            ValueError,
            "Only one of",
        ),
    ],
)
def test_parameter_validation(params, error, match, tmp_path):
    path = _save(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
    loader = ImageLoader(**params)
    with pytest.raises(error, match=match):
        loader.fit([path])
    with pytest.raises(error, match=match):
        loader.transform([path])


def test_interpolation_error_lists_the_options():
    msg = (
        '`interpolation` must be one of {"bilinear", "nearest", "bicubic", "area", '
        '"lanczos3", "lanczos5", "gaussian", "mitchellcubic", "box", "lanczos"}. '
        "Received: interpolation='hamming'"
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        ImageLoader(interpolation="hamming").fit(["x.png"])


def test_stateless_fit_and_tags(tmp_path):
    loader = ImageLoader((4, 4))
    assert loader.fit(["does-not-exist.png"]) is loader  # fit reads no file
    assert not [k for k in vars(loader) if k.endswith("_")]
    tags = loader.__sklearn_tags__()
    assert tags.requires_fit is False
    assert tags.input_tags.string is True
    assert tags.input_tags.two_d_array is False
    with pytest.raises(ValueError, match="single path received"):
        loader.fit("x.png")


def test_pipeline_on_paths_matches_arrays(digit_folder):
    root, images = digit_folder
    data = load_image_folder(root)
    pipe = make_pipeline(
        ImageLoader((8, 8), color_mode="grayscale"), make_baseline(random_state=0)
    )
    pipe.fit(data.filenames, data.target)
    X = np.concatenate([images["eight"], images["seven"]])[..., None]
    direct = make_baseline(random_state=0).fit(X, data.target)
    np.testing.assert_array_equal(pipe.predict(data.filenames), direct.predict(X))
    np.testing.assert_allclose(
        pipe.predict_proba(data.filenames), direct.predict_proba(X)
    )
    np.testing.assert_array_equal(pipe.classes_, ["eight", "seven"])


def test_grid_search_over_image_size(digit_folder):
    root, _ = digit_folder
    data = load_image_folder(root)
    pipe = make_pipeline(ImageLoader(color_mode="grayscale"), make_baseline())
    search = GridSearchCV(
        pipe,
        {"imageloader__image_size": [(4, 4), (8, 8)]},
        cv=3,
        scoring="roc_auc",
    )
    search.fit(data.filenames, data.target)
    assert search.best_params_["imageloader__image_size"] in [(4, 4), (8, 8)]
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.predict(data.filenames[:3]).shape == (3,)


def test_clone_and_pickle(tmp_path, digit_folder):
    root, _ = digit_folder
    files = load_image_folder(root).filenames
    loader = ImageLoader((6, 5), color_mode="rgba", interpolation="bicubic", n_jobs=2)
    cloned = clone(loader)
    assert cloned.get_params() == loader.get_params()
    joblib.dump(loader, tmp_path / "loader.joblib")
    loaded = joblib.load(tmp_path / "loader.joblib")
    assert loaded.get_params() == loader.get_params()
    restored = pickle.loads(pickle.dumps(loader))
    expected = loader.transform(files)
    np.testing.assert_array_equal(loaded.transform(files), expected)
    np.testing.assert_array_equal(restored.transform(files), expected)
    np.testing.assert_array_equal(cloned.transform(files), expected)
