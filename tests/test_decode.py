"""skcnn._decode: one named settings object for ImageLoader and path streaming."""

import ast
import re

import pytest

import skcnn._decode
from skcnn import ImageLoader
from skcnn._decode import DecodeSettings, decode_settings


def test_settings_are_named_and_unpack_like_a_tuple():
    settings = decode_settings(
        (20, 30), "grayscale", interpolation="Box", crop_to_aspect_ratio=True
    )
    assert isinstance(settings, DecodeSettings)
    assert settings.size == (20, 30) and settings.channels == 1
    assert settings.method == "area" and settings.crop and not settings.pad
    (height, width), channels, method, antialias, crop, pad = settings
    assert (height, width, channels, method) == (20, 30, 1, "area")
    assert settings[:2] == ((20, 30), 1) and antialias is False


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"image_size": 7, "color_mode": "rgba", "antialias": True},
        {"interpolation": "LANCZOS", "pad_to_aspect_ratio": True},
    ],
)
def test_image_loader_settings_are_decode_settings(params):
    loader = ImageLoader(**params)
    expected = decode_settings(
        loader.image_size,
        loader.color_mode,
        interpolation=loader.interpolation,
        antialias=loader.antialias,
        crop_to_aspect_ratio=loader.crop_to_aspect_ratio,
        pad_to_aspect_ratio=loader.pad_to_aspect_ratio,
    )
    assert loader._check_params() == expected
    assert type(loader._check_params()) is DecodeSettings


@pytest.mark.parametrize(
    "params",
    [
        {"image_size": (3, 0)},
        {"image_size": (3, 4, 5)},
        {"color_mode": "cmyk"},
        {"interpolation": "sinc"},
        {"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True},
    ],
)
def test_messages_name_image_loader_parameters(params):
    arguments = {"image_size": (8, 8), "color_mode": "rgb", **params}
    with pytest.raises(ValueError) as from_loader:
        ImageLoader(**arguments).fit([])
    with pytest.raises(ValueError, match=re.escape(str(from_loader.value))):
        decode_settings(**arguments)
    assert f"`{next(iter(params))}`" in str(from_loader.value)


def test_decode_imports_nothing_of_the_image_api():
    # Imports run downward: skcnn._image imports skcnn._decode, never the reverse.
    with open(skcnn._decode.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    modules = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not {name for name in modules if name.lstrip(".").startswith("_image")}
    assert not {name for name in modules if name.startswith("skcnn._image")}
