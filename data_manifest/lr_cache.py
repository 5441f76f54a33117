"""MATLAB-bicubic LR images cached on disk as .npy, so each is computed once per machine, not per run.

A file is keyed by sha256 of the HR pixels, their shape, the scale and the resize method; it is
written atomically (tmp + fsync + rename, so concurrent writers are safe) and re-checked on
load (a file that fails to load or has the wrong shape or dtype is regenerated, never trusted).
An unwritable cache only costs the time: the LR is computed and a warning is given once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .imresize import matlab_imresize

ENV_LR_CACHE = "BENCH_LR_CACHE"
RESIZE_METHOD = "matlab-bicubic"

_warned: set[str] = set()


def lr_cache_dir(data_dir: str | Path | None = None) -> Path:
    """$BENCH_LR_CACHE; else <data_dir>/.lr_cache when writable; else the user cache's lr/.

    `data_dir` None falls back to $BENCH_DATA_DIR, as data_manifest.resolve_data_dir does.

    The user cache is $BENCH_CACHE_DIR/lr when set (as for downloads), else
    $XDG_CACHE_HOME/srkd-bench/lr, else ~/.cache/srkd-bench/lr.
    """
    env = os.environ.get(ENV_LR_CACHE)
    if env:
        return Path(env).expanduser()
    if data_dir is None or str(data_dir) == "":
        data_dir = os.environ.get("BENCH_DATA_DIR") or None
    if data_dir is not None:
        base = Path(data_dir).expanduser()
        own = base / ".lr_cache"
        if own.is_dir() and os.access(own, os.W_OK | os.X_OK):
            return own
        if not own.exists() and base.is_dir() and os.access(base, os.W_OK | os.X_OK):
            return own
    if os.environ.get("BENCH_CACHE_DIR"):
        return Path(os.environ["BENCH_CACHE_DIR"]).expanduser() / "lr"
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return root / "srkd-bench" / "lr"


def lr_key(hr: np.ndarray, scale: int) -> str:
    """sha256 of (resize method, scale, HR shape and dtype, HR pixel bytes), hex."""
    h = hashlib.sha256()
    h.update(f"{RESIZE_METHOD}|x{int(scale)}|{tuple(hr.shape)}|{hr.dtype.str}|".encode())
    h.update(np.ascontiguousarray(hr).tobytes())
    return h.hexdigest()


def lr_shape(hr_shape: tuple[int, ...], scale: int) -> tuple[int, ...]:
    """Shape of matlab_imresize(hr, 1/scale): ceil of each side / scale, channels kept."""
    return (-(-hr_shape[0] // scale), -(-hr_shape[1] // scale), *hr_shape[2:])


def cached_lr(hr: np.ndarray, scale: int, cache_dir: Path | None) -> np.ndarray:
    """matlab_imresize(hr, 1/scale) (uint8, same array), read from / stored in `cache_dir`.

    `hr` is uint8 HxWx3, already modcropped. `cache_dir` None computes without caching.
    """
    hr = np.ascontiguousarray(hr)
    if cache_dir is None:
        return matlab_imresize(hr, 1.0 / scale)
    path = Path(cache_dir) / f"{lr_key(hr, scale)}.npy"
    expected = lr_shape(hr.shape, scale)
    found = _load(path, expected)
    if found is not None:
        return found
    lr = matlab_imresize(hr, 1.0 / scale)
    _store(path, lr)
    return lr


def _load(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """The cached array, or None when absent, unreadable or not uint8 of `shape`."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):  # absent, truncated, corrupt: (re)generate
        return None
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.shape != shape:
        return None
    return np.ascontiguousarray(arr)


def _store(path: Path, lr: np.ndarray) -> None:
    """Write atomically; on any OS error warn once per directory and go on uncached."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem[:16]}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            np.save(f, lr, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        key = str(path.parent)
        if key not in _warned:
            _warned.add(key)
            warnings.warn(f"LR cache {path.parent} is not writable ({exc.strerror or exc}); "
                          f"computing LR images without caching", RuntimeWarning, stacklevel=3)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
