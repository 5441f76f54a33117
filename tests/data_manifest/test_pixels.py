"""Pixel hashing, decoding (grayscale replication, truncation) and modcrop."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from benchmarks.errors import MissingFileError
from data_manifest.pixels import decode_rgb, modcrop, pixel_sha256, to_rgb


def test_pixel_sha256_is_sha256_of_c_order_rgb_bytes():
    arr = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert pixel_sha256(arr) == hashlib.sha256(bytes(range(18))).hexdigest()
    assert pixel_sha256(np.asfortranarray(arr)) == pixel_sha256(arr)  # layout-independent
    with pytest.raises(ValueError):
        pixel_sha256(arr.astype(np.float32))
    with pytest.raises(ValueError):
        pixel_sha256(arr[:, :, 0])


def test_grayscale_png_is_replicated_to_rgb(tmp_path):
    gray = (np.arange(20 * 30) % 251).astype(np.uint8).reshape(20, 30)
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    rgb = decode_rgb(tmp_path / "g.png")
    assert rgb.shape == (20, 30, 3) and rgb.dtype == np.uint8
    assert all(np.array_equal(rgb[:, :, c], gray) for c in range(3))
    assert np.array_equal(to_rgb(gray), rgb)


def test_truncated_png_fails_even_when_a_library_tolerates_truncation(tmp_path, monkeypatch):
    img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "t.png")
    data = (tmp_path / "t.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(MissingFileError, match="t.png"):
        decode_rgb(tmp_path / "t.png")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored


def test_missing_file_names_it(tmp_path):
    with pytest.raises(MissingFileError, match="nope.png"):
        decode_rgb(tmp_path / "nope.png")


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_modcrop_crops_bottom_right(scale):
    img = np.random.default_rng(1).integers(0, 256, (37, 50, 3), dtype=np.uint8)
    out = modcrop(img, scale)
    assert out.shape[0] == 37 - 37 % scale and out.shape[1] == 50 - 50 % scale
    assert np.array_equal(out, img[: out.shape[0], : out.shape[1]])
