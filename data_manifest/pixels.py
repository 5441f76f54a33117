"""Decoding images to uint8 RGB arrays and hashing their pixels (the manifest's checksum)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile

from benchmarks.errors import MissingFileError

IMAGE_EXTS = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")
_TRUNCATION_FLAG = threading.Lock()


def pixel_sha256(array: np.ndarray) -> str:
    """sha256 (hex) of a uint8 HxWx3 RGB array's C-order bytes: the manifest's pixel hash.

    The array is what `decode_rgb` returns (PIL decode, `convert("RGB")`, grayscale replicated);
    shape is not part of the digest: the manifest pins the size separately.
    """
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"pixel_sha256 needs a uint8 HxWx3 array, got {array.dtype} {array.shape}")
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def file_sha256(path: str | Path) -> str:
    """sha256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def to_rgb(array: np.ndarray) -> np.ndarray:
    """uint8 HxW, HxWx1, HxWx3 or HxWx4 -> uint8 HxWx3 (gray replicated, alpha dropped)."""
    if array.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an HxW, HxWx1, HxWx3 or HxWx4 image, got {array.shape}")
    if array.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(array, 3, axis=2))
    return np.ascontiguousarray(array[:, :, :3])


def decode_rgb(path: str | Path) -> np.ndarray:
    """Decode an image file with PIL to uint8 HxWx3 RGB; unreadable or truncated -> MissingFileError."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"image file missing: {path}")
    try:
        with Image.open(path) as im:
            # A library may switch truncated-image tolerance on globally; a truncated file must fail.
            with _TRUNCATION_FLAG:
                saved = ImageFile.LOAD_TRUNCATED_IMAGES
                ImageFile.LOAD_TRUNCATED_IMAGES = False
                try:
                    im.load()
                finally:
                    ImageFile.LOAD_TRUNCATED_IMAGES = saved
            if im.mode not in ("RGB", "L", "P", "RGBA", "LA", "1"):
                raise OSError(f"unsupported image mode {im.mode}")
            rgb = im.convert("RGB")
            return np.asarray(rgb, dtype=np.uint8).copy()
    except MissingFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - PIL raises OSError, SyntaxError, ValueError, zlib.error...
        raise MissingFileError(f"cannot decode image {path}: {exc}") from None


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop bottom/right so that height and width are multiples of `scale` (SR convention)."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]


def find_image(folder: Path, stem: str, preferred_ext: str = ".png") -> Path | None:
    """The file `stem` + an image extension in `folder` (preferred extension first), or None."""
    exts = (preferred_ext,) + tuple(e for e in IMAGE_EXTS if e != preferred_ext)
    for ext in exts:
        for cand in (folder / f"{stem}{ext}", folder / f"{stem}{ext.upper()}"):
            if cand.is_file():
                return cand
    return None


def list_images(folder: Path) -> list[Path]:
    """Image files directly in `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTS)
