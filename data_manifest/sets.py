"""Loading evaluation pairs and training images of a dataset (data dir -> cache -> download)."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Literal

import numpy as np

from benchmarks.errors import BenchError, MissingFileError

from .embedded import load_embedded
from .fetch import DownloadFailed, fetch
from .imresize import matlab_imresize
from .locate import ENV_DATA_DIR, cache_data_dir, find_root, looked_in, resolve_data_dir
from .manifest import DatasetInfo, dataset_info
from .pixels import decode_rgb, modcrop
from .verify import check_pixels, hr_files, lr_path, read_hr


@dataclasses.dataclass(frozen=True, eq=False)
class EvalPair:
    """One evaluation image: HR modcropped to a multiple of the scale, and its LR input."""

    name: str
    hr: np.ndarray  # uint8 HxWx3
    lr: np.ndarray  # uint8 (H/s)x(W/s)x3
    lr_source: Literal["official", "generated"]


def dataset_root(info: DatasetInfo, data_dir: Path | None) -> Path:
    """The folder holding `info`: data dir, then cache, else download into the cache."""
    root = find_root(info, data_dir) or find_root(info, cache_data_dir())
    if root is not None:
        return root
    places = ", ".join(looked_in(info, data_dir))
    if data_dir is None:
        places += f"; no --data-dir or {ENV_DATA_DIR} given"
    layout = f"DIR/{info.folder}/{info.hr_dir}/<name>.png".replace("/./", "/")
    how = f"supply it with --data-dir DIR or {ENV_DATA_DIR}=DIR ({layout})"
    if info.user_supplied:
        raise MissingFileError(f"dataset {info.name!r} is not public (user-supplied); looked in {places}; {how}")
    if not info.sources:
        page = f" from {info.homepage}" if info.homepage else ""
        raise MissingFileError(
            f"dataset {info.name!r} not found and has no automatic download; looked in {places}; "
            f"download it{page} and {how}"
        )
    try:
        return fetch(info)
    except DownloadFailed as exc:
        raise MissingFileError(
            f"dataset {info.name!r} not found (looked in {places}); download failed: "
            f"{'; '.join(exc.reasons)}; {how}"
        ) from None


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def _check_scale(scale: int) -> int:
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 2:
        raise BenchError(f"scale must be an integer >= 2, got {scale!r}")
    return int(scale)


def _read_hr(name: str, root: str | None, verify: bool) -> list[tuple[str, np.ndarray]]:
    """(stem, HR) of every image, decoded and verified (no cache)."""
    info = dataset_info(name)
    if info.embedded:
        return [(e.name, img) for e, img in load_embedded(info, verify)]
    items = hr_files(info, Path(root), verify)
    return [(stem, read_hr(info, stem, path, entry, verify)) for stem, path, entry in items]


@functools.lru_cache(maxsize=4)
def _hr_named(name: str, root: str | None, verify: bool) -> tuple[tuple[str, np.ndarray], ...]:
    """Cached, read-only HR images of an evaluation set (shared by its scales)."""
    return tuple((stem, _readonly(img)) for stem, img in _read_hr(name, root, verify))


def _root_key(info: DatasetInfo, data_dir: str | Path | None) -> str | None:
    return None if info.embedded else str(dataset_root(info, resolve_data_dir(data_dir)))


def load_hr_named(name: str, data_dir: str | Path | None = None, verify: bool = True) -> list[tuple[str, np.ndarray]]:
    """(stem, HR uint8 RGB) of every image of any dataset, as stored (no modcrop), not cached."""
    info = dataset_info(name)
    return _read_hr(name, _root_key(info, data_dir), verify)


@functools.lru_cache(maxsize=16)
def _eval_pairs(name: str, scale: int, root: str | None, verify: bool) -> tuple[EvalPair, ...]:
    info = dataset_info(name)
    entries = {e.name: e for e in info.images}
    pairs = []
    for stem, hr_full in _hr_named(name, root, verify):
        hr = _readonly(modcrop(hr_full, scale))
        h, w = hr.shape[0] // scale, hr.shape[1] // scale
        # Pinned sets use official LR only at the scales the manifest pins (verifiable, and the
        # same on every machine); other sets use whatever LR_bicubic/X<s> the folder holds.
        official_ok = root is not None and (not info.pinned or scale in info.official_lr_scales)
        lp = lr_path(info, Path(root), stem, scale) if official_ok else None
        if lp is not None:
            lr = decode_rgb(lp)
            if lr.shape[:2] != (h, w):
                raise MissingFileError(
                    f"{lp}: official LR is {lr.shape[0]}x{lr.shape[1]}, expected {h}x{w} "
                    f"(modcropped HR {hr.shape[0]}x{hr.shape[1]} / {scale})"
                )
            if verify and stem in entries:
                check_pixels(lp, lr, entries[stem].lr.get(scale), dataset=name)
            source = "official"
        else:
            lr, source = matlab_imresize(np.ascontiguousarray(hr), 1.0 / scale), "generated"
        pairs.append(EvalPair(stem, hr, _readonly(lr), source))
    return tuple(pairs)


def load_eval_set(name: str, scale: int, data_dir: str | Path | None = None, verify: bool = True) -> list[EvalPair]:
    """HR/LR pairs of a dataset at `scale`: official MATLAB LR where present, else generated.

    HR is modcropped to a multiple of `scale`; generated LR is `matlab_imresize(hr, 1/scale)`.

    Decoded sets are cached in-process; each call returns fresh (writable) copies.
    """
    info = dataset_info(name)
    scale = _check_scale(scale)
    cached = _eval_pairs(name, scale, _root_key(info, data_dir), verify)
    return [EvalPair(p.name, p.hr.copy(), p.lr.copy(), p.lr_source) for p in cached]


def load_train_images(name: str, data_dir: str | Path | None = None, verify: bool = True) -> list[np.ndarray]:
    """HR training images (uint8 HxWx3 RGB) of a dataset of kind 'train'; decoded on each call."""
    info = dataset_info(name)
    if info.kind != "train":
        train = ", ".join(n for n in _train_names())
        raise BenchError(f"dataset {name!r} is an evaluation set, not a training set; training sets: {train}")
    return [img for _, img in _read_hr(name, _root_key(info, data_dir), verify)]


def _train_names() -> list[str]:
    from .manifest import list_datasets

    return [n for n in list_datasets() if dataset_info(n).kind == "train"]


def clear_cache() -> None:
    """Forget the decoded images held in this process."""
    _hr_named.cache_clear()
    _eval_pairs.cache_clear()
