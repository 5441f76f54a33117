"""Shared plumbing of the learned metrics: device, per-process model cache, image batches."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from typing import Any, Callable, Hashable, Iterator, Sequence

import numpy as np
from data_manifest.pixels import to_rgb as as_rgb  # noqa: F401  (uint8 RGB; gray replicated)

from .sr_convention import shave  # noqa: F401

ENV_DEVICE = "BENCH_DEVICE"
DEFAULT_BATCH = 8

_device_override: str | None = None
_models: dict[Hashable, Any] = {}
_lock = threading.Lock()


def set_device(device: str | None) -> None:
    """Force a torch device ('cpu', 'cuda', 'cuda:1'); None = automatic."""
    global _device_override
    _device_override = device


def device():
    """cuda when there is one, else cpu (BENCH_DEVICE or set_device override)."""
    import torch

    name = _device_override or os.environ.get(ENV_DEVICE) or None
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cached_model(key: Hashable, build: Callable[[], Any]) -> Any:
    """Build each model once per process (key should include the weight paths and device)."""
    with _lock:
        if key not in _models:
            _models[key] = build()
        return _models[key]


def clear_model_cache() -> None:
    with _lock:
        _models.clear()


def to_tensor(imgs: Sequence[np.ndarray], dev=None):
    """Equal-sized uint8 HxWx3 images -> float32 Nx3xHxW tensor in [0, 1] on `dev`."""
    import torch

    arr = np.stack([as_rgb(i) for i in imgs]).transpose(0, 3, 1, 2)
    t = torch.from_numpy(np.ascontiguousarray(arr))
    if dev is not None:
        t = t.to(dev)
    return t.float().div_(255.0)


def shape_batches(shapes: Sequence[tuple[int, ...]], batch: int = DEFAULT_BATCH) -> Iterator[list[int]]:
    """Indices grouped by equal image shape, in chunks of at most `batch` (for batched models)."""
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, s in enumerate(shapes):
        groups[tuple(s)].append(i)
    for idx in groups.values():
        for k in range(0, len(idx), batch):
            yield idx[k:k + batch]
