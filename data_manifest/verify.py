"""Reading a dataset folder's images and checking them against the manifest's pixel hashes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from benchmarks.errors import MissingFileError

from .locate import cache_dir, hr_folder
from .manifest import DatasetInfo, ImageEntry
from .pixels import decode_rgb, file_sha256, find_image, list_images, pixel_sha256


def check_pixels(
    path: Path, img: np.ndarray, expected: str | None, file_hash: str | None = None, dataset: str = ""
) -> None:
    """Raise MissingFileError naming `path` when its pixel hash differs from `expected`."""
    if not expected:
        return
    actual = pixel_sha256(img)
    if actual == expected:
        return
    if file_hash and file_sha256(path) == file_hash:  # same bytes, other JPEG decoder
        return
    where = f" (dataset {dataset!r})" if dataset else ""
    raise MissingFileError(
        f"{path}: pixel sha256 mismatch{where}: expected {expected}, got {actual} (corrupt or different copy)"
    )


def hr_files(info: DatasetInfo, root: Path, verify: bool) -> list[tuple[str, Path, ImageEntry | None]]:
    """(stem, path, manifest entry) of every HR image; missing pinned file or bad count -> error."""
    folder = hr_folder(info, root)
    if folder is None:
        raise MissingFileError(f"dataset {info.name!r}: HR folder {root / info.hr_dir} is missing")
    if info.images:
        out = []
        for entry in info.images:
            path = find_image(folder, entry.name, entry.ext)
            if path is None:
                raise MissingFileError(
                    f"dataset {info.name!r}: image file missing: {folder / (entry.name + entry.ext)}"
                )
            out.append((entry.name, path, entry))
        return out
    paths = list_images(folder)
    if not paths:
        raise MissingFileError(f"dataset {info.name!r}: no images in {folder}")
    if verify and info.count is not None and len(paths) != info.count:
        raise MissingFileError(
            f"dataset {info.name!r}: {len(paths)} images in {folder}, the manifest expects {info.count}"
        )
    return [(p.stem, p, None) for p in paths]


def read_hr(info: DatasetInfo, stem: str, path: Path, entry: ImageEntry | None, verify: bool) -> np.ndarray:
    """Decode one HR image and check its size and pixel hash (pinned or recorded)."""
    img = decode_rgb(path)
    if not verify:
        return img
    if entry is not None and entry.size and tuple(img.shape[:2]) != tuple(entry.size):
        raise MissingFileError(
            f"{path}: size {img.shape[0]}x{img.shape[1]} differs from the manifest's "
            f"{entry.size[0]}x{entry.size[1]} (dataset {info.name!r})"
        )
    expected = entry.sha256 if entry is not None else None
    expected = expected or recorded_hashes(info.name).get(stem)
    check_pixels(path, img, expected, entry.file_sha256 if entry is not None else None, info.name)
    return img


def lr_path(info: DatasetInfo, root: Path, stem: str, scale: int) -> Path | None:
    """The official LR file of `stem` at `scale` in the dataset root, if present."""
    folder = root / info.lr_dir.format(scale=scale)
    if not folder.is_dir():
        return None
    return find_image(folder, info.lr_name.format(name=stem, scale=scale))


def check_folder(info: DatasetInfo, root: Path) -> None:
    """Check every HR image and every official LR image of a dataset root (after a download)."""
    for stem, path, entry in hr_files(info, root, verify=True):
        read_hr(info, stem, path, entry, verify=True)
        for scale in info.official_lr_scales:
            lp = lr_path(info, root, stem, scale)
            if lp is None:
                raise MissingFileError(f"dataset {info.name!r}: official LR x{scale} of {stem} is missing in {root}")
            if entry is not None:
                check_pixels(lp, decode_rgb(lp), entry.lr.get(scale), dataset=info.name)


def _recorded_file(name: str) -> Path:
    return cache_dir() / "recorded" / f"{name}.json"


def recorded_hashes(name: str) -> dict[str, str]:
    """Pixel hashes recorded at the first verified download of an unpinned set ({} when none)."""
    path = _recorded_file(name)
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text())["images"])
    except (ValueError, KeyError, TypeError):
        return {}


def record_hashes(info: DatasetInfo, root: Path) -> None:
    """Record the pixel hash of every HR image of `root` (unpinned sets, after a download)."""
    images = {stem: pixel_sha256(decode_rgb(p)) for stem, p, _ in hr_files(info, root, verify=True)}
    path = _recorded_file(info.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"dataset": info.name, "images": images}, indent=1, sort_keys=True))
