"""Loading evaluation pairs and training images of a dataset (data dir -> cache -> download)."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Literal

import numpy as np

from benchmarks.errors import BenchError, MissingFileError

from .fetch import root_key
from .hr_images import read_hr_named
from .locate import resolve_data_dir
from .lr_cache import cached_lr, lr_cache_dir
from .manifest import DatasetInfo, dataset_info
from .pixels import decode_rgb, modcrop
from .verify import check_pixels, lr_path


@dataclasses.dataclass(frozen=True, eq=False)
class EvalPair:
    """One evaluation image: HR modcropped to a multiple of the scale, and its LR input."""

    name: str
    hr: np.ndarray  # uint8 HxWx3
    lr: np.ndarray  # uint8 (H/s)x(W/s)x3
    lr_source: Literal["official", "generated"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def _check_scale(scale: int) -> int:
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 2:
        raise BenchError(f"scale must be an integer >= 2, got {scale!r}")
    return int(scale)


@functools.lru_cache(maxsize=4)
def _hr_named(name: str, root: str | None, verify: bool) -> tuple[tuple[str, np.ndarray], ...]:
    """Cached, read-only HR images of an evaluation set (shared by its scales)."""
    return tuple((stem, _readonly(img)) for stem, img in read_hr_named(name, root, verify))


def load_hr_named(name: str, data_dir: str | Path | None = None, verify: bool = True) -> list[tuple[str, np.ndarray]]:
    """(stem, HR uint8 RGB) of every image of any dataset, as stored (no modcrop), not cached."""
    info = dataset_info(name)
    return read_hr_named(name, root_key(info, data_dir), verify)


def _lr_cache_for(info: DatasetInfo, data_dir: str | Path | None) -> str | None:
    """Where generated LR is cached: none for embedded sets (tiny, and tests stay hermetic)."""
    return None if info.embedded else str(lr_cache_dir(resolve_data_dir(data_dir)))


@functools.lru_cache(maxsize=16)
def _eval_pairs(name: str, scale: int, root: str | None, verify: bool,
                lr_cache: str | None = None) -> tuple[EvalPair, ...]:
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
            lr = cached_lr(hr, scale, Path(lr_cache) if lr_cache is not None else None)
            source = "generated"
        pairs.append(EvalPair(stem, hr, _readonly(lr), source))
    return tuple(pairs)


def load_eval_set(name: str, scale: int, data_dir: str | Path | None = None, verify: bool = True) -> list[EvalPair]:
    """HR/LR pairs of a dataset at `scale`: official MATLAB LR where present, else generated.

    HR is modcropped to a multiple of `scale`; generated LR is `matlab_imresize(hr, 1/scale)`,
    cached on disk (data_manifest.lr_cache) except for the embedded sets.

    Decoded sets are cached in-process; each call returns fresh (writable) copies.
    """
    info = dataset_info(name)
    scale = _check_scale(scale)
    root = root_key(info, data_dir)
    cached = _eval_pairs(name, scale, root, verify, _lr_cache_for(info, data_dir))
    return [EvalPair(p.name, p.hr.copy(), p.lr.copy(), p.lr_source) for p in cached]


def load_train_images(name: str, data_dir: str | Path | None = None, verify: bool = True) -> list[np.ndarray]:
    """HR training images (uint8 HxWx3 RGB) of a dataset of kind 'train'; decoded on each call."""
    info = dataset_info(name)
    if info.kind != "train":
        train = ", ".join(n for n in _train_names())
        raise BenchError(f"dataset {name!r} is an evaluation set, not a training set; training sets: {train}")
    return [img for _, img in read_hr_named(name, root_key(info, data_dir), verify)]


def _train_names() -> list[str]:
    from .manifest import list_datasets

    return [n for n in list_datasets() if dataset_info(n).kind == "train"]


def clear_cache() -> None:
    """Forget the decoded images held in this process."""
    _hr_named.cache_clear()
    _eval_pairs.cache_clear()
