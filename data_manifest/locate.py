"""Where a dataset's folder is: the data dir (argument or BENCH_DATA_DIR), then the cache."""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.errors import MissingFileError

from .manifest import DatasetInfo
from .pixels import list_images

ENV_DATA_DIR = "BENCH_DATA_DIR"
ENV_CACHE_DIR = "BENCH_CACHE_DIR"


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """The data dir: the argument, else $BENCH_DATA_DIR, else None; a named dir must exist."""
    if data_dir is not None and str(data_dir) != "":
        origin, path = "--data-dir", Path(data_dir).expanduser()
    elif os.environ.get(ENV_DATA_DIR):
        origin, path = ENV_DATA_DIR, Path(os.environ[ENV_DATA_DIR]).expanduser()
    else:
        return None
    if not path.is_dir():
        raise MissingFileError(f"data directory {path} (from {origin}) does not exist")
    return path.resolve()


def cache_dir() -> Path:
    """Where downloads go: $BENCH_CACHE_DIR, else ~/.cache/srkd-bench."""
    env = os.environ.get(ENV_CACHE_DIR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "srkd-bench"


def cache_data_dir() -> Path:
    """The cache's data dir: datasets arranged there in the same layout as a data dir."""
    return cache_dir() / "data"


def hr_folder(info: DatasetInfo, root: Path) -> Path | None:
    """The HR folder of a dataset root, or None (user-supplied sets may be flat folders)."""
    hr = root / info.hr_dir
    if hr.is_dir():
        return hr
    if info.user_supplied and root.is_dir() and list_images(root):
        return root
    return None


def _names(info: DatasetInfo) -> list[str]:
    return [info.folder, *[a for a in info.aliases if a != info.folder]]


def candidates(info: DatasetInfo, base: Path) -> list[Path]:
    """Dataset roots to try under `base`: base/<name> then base/*/<name>, for folder and aliases."""
    out = [base / n for n in _names(info)]
    if base.is_dir():
        subs = sorted(p for p in base.iterdir() if p.is_dir())
        out += [sub / n for n in _names(info) for sub in subs]
    return out


def find_root(info: DatasetInfo, base: Path | None) -> Path | None:
    """The first candidate root under `base` that holds the dataset's HR folder."""
    if base is None:
        return None
    return next((c for c in candidates(info, base) if hr_folder(info, c) is not None), None)


def looked_in(info: DatasetInfo, data_dir: Path | None) -> list[str]:
    """Human-readable list of the places searched, for error messages."""
    places = []
    if data_dir is not None:
        places += [str(data_dir / info.folder), str(data_dir / "*" / info.folder)]
    places.append(str(cache_data_dir() / info.folder))
    return places
