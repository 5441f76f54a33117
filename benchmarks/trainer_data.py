"""Training pairs (HR + cached MATLAB-bicubic LR) and batches of aligned random patches.

A batch is a pure function of (seed, step): `draw_batch_plan` gives the global batch's crops and
flips, and a batch source (host numpy, a DataLoader, or tensors resident on the device) cuts
them, bit-identically, for one rank. Resuming at a step therefore needs no sampler state.

Patches are float NCHW tensors in [0, pixel_range]: [0, 1] (the default) or [0, 255]
(EDSR-PyTorch's `rgb_range 255`, where uint8 values pass through unscaled).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from data_manifest.lr_cache import cached_lr

from .errors import BenchError

PLAN_SEED_STRIDE = 1_000_003  # generator seed of a step: seed * PLAN_SEED_STRIDE + step (mod 2**64)
SOURCES = ("auto", "host", "loader", "gpu")
GPU_MEMORY_SHARE = 0.4  # "auto" keeps the images on the GPU when they take at most this share of free memory


@dataclasses.dataclass(frozen=True, eq=False)
class TrainPairs:
    """Modcropped HR images and their MATLAB-bicubic LR, uint8 HxWx3, each large enough for a patch."""

    lrs: tuple[np.ndarray, ...]
    hrs: tuple[np.ndarray, ...]
    scale: int

    @classmethod
    def build(cls, hr_images: Sequence[np.ndarray], scale: int, patch_size: int,
              cache_dir: Path | None = None) -> TrainPairs:
        """Modcrop each HR to a multiple of `scale`, drop those under an LR patch, LR via cached_lr."""
        lrs, hrs = [], []
        for hr in hr_images:
            h, w = (hr.shape[0] // scale) * scale, (hr.shape[1] // scale) * scale
            if h // scale >= patch_size and w // scale >= patch_size:
                hr = np.ascontiguousarray(hr[:h, :w])
                lrs.append(cached_lr(hr, scale, cache_dir))
                hrs.append(hr)
        if not hrs:
            raise BenchError(f"training set has no image with at least {patch_size * scale}px per side "
                             f"(LR patch {patch_size} at x{scale}); lower profile.patch_size")
        return cls(tuple(lrs), tuple(hrs), scale)

    def __len__(self) -> int:
        return len(self.hrs)

    @property
    def lr_sizes(self) -> list[tuple[int, int]]:
        return [(a.shape[0], a.shape[1]) for a in self.lrs]

    @property
    def nbytes(self) -> int:
        """uint8 bytes of all HR and LR images."""
        return sum(a.nbytes for a in self.lrs) + sum(a.nbytes for a in self.hrs)


def plan_seed(seed: int, step: int) -> int:
    """The generator seed of a step's batch: seed * 1_000_003 + step, reduced mod 2**64."""
    return (int(seed) * PLAN_SEED_STRIDE + int(step)) % (1 << 64)


def draw_batch_plan(seed: int, step: int, batch_size: int, lr_sizes: Sequence[tuple[int, int]], patch: int,
                    augment: bool) -> Tensor:
    """The global batch of a step: LongTensor [B, 6] of (image, y, x, hflip, vflip, rot), LR pixels.

    One torch.Generator seeded with plan_seed(seed, step) draws, in this order: B image indices,
    B x 2 raw int64 (y, x taken modulo the image's room, bias < 2**-40), B x 3 flip bits (drawn
    even without augment, then zeroed, so augment changes no crop).
    """
    g = torch.Generator().manual_seed(plan_seed(seed, step))
    index = torch.randint(len(lr_sizes), (batch_size,), generator=g)
    raw = torch.randint(0, 1 << 62, (batch_size, 2), generator=g)
    room = torch.tensor(lr_sizes, dtype=torch.long).reshape(-1, 2)[index] - patch + 1
    flips = torch.randint(2, (batch_size, 3), generator=g)
    if not augment:
        flips.zero_()
    return torch.cat([index[:, None], raw % room, flips], dim=1)


class BatchSource(Protocol):
    """Gives one rank's rows of the global batch of a step, as float NCHW on the target device."""

    def batch(self, step: int) -> tuple[Tensor, Tensor]: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class _Config:
    """What every source shares: the patch geometry, the plan's seed, and this rank's share."""

    patch: int
    scale: int
    augment: bool
    seed: int
    batch_size: int
    pixel_range: int
    rank: int
    world_size: int

    def rows(self, lr_sizes: Sequence[tuple[int, int]], step: int) -> Tensor:
        """This rank's rows [rank*B/W, (rank+1)*B/W) of the step's plan."""
        plan = draw_batch_plan(self.seed, step, self.batch_size, lr_sizes, self.patch, self.augment)
        per = self.batch_size // self.world_size
        return plan[self.rank * per:(self.rank + 1) * per]


def _augment(img: np.ndarray, hflip: int, vflip: int, rot: int) -> np.ndarray:
    """hflip flips the width axis, vflip the height axis, rot transposes H/W; in that order."""
    if hflip:
        img = img[:, ::-1]
    if vflip:
        img = img[::-1]
    if rot:
        img = img.transpose(1, 0, 2)
    return img


def crop_host(pairs: TrainPairs, rows: Tensor, patch: int) -> tuple[Tensor, Tensor]:
    """The reference crop, in numpy: uint8 NCHW (LR, HR) CPU tensors of the plan's rows."""
    s = pairs.scale
    lrs, hrs = [], []
    for i, y, x, hflip, vflip, rot in rows.tolist():
        lr = pairs.lrs[i][y:y + patch, x:x + patch]
        hr = pairs.hrs[i][y * s:(y + patch) * s, x * s:(x + patch) * s]
        lrs.append(_augment(lr, hflip, vflip, rot))
        hrs.append(_augment(hr, hflip, vflip, rot))
    return _nchw(lrs), _nchw(hrs)


def _nchw(patches: list[np.ndarray]) -> Tensor:
    return torch.from_numpy(np.stack(patches)).permute(0, 3, 1, 2).contiguous()


class _ToFloat:
    """uint8 -> float in [0, pixel_range] by a 256-entry table built on the CPU as `u8 / (255/R)`.

    A table, not a division on the device: CUDA divides by a scalar as a multiply by its
    reciprocal, which can differ from the CPU in the last bit; the table keeps sources identical.
    """

    def __init__(self, pixel_range: int, device: torch.device):
        self.device = device
        self.table = torch.arange(256, dtype=torch.uint8).float().div_(255.0 / pixel_range).to(device)

    def __call__(self, u8: Tensor) -> Tensor:
        return self.table[u8.to(self.device, non_blocking=True).long()]


class HostSource:
    """Crops in numpy on the main thread (the reference), then copies to the device."""

    def __init__(self, pairs: TrainPairs, config: _Config, device: torch.device):
        self.pairs, self.config, self.sizes = pairs, config, pairs.lr_sizes
        self.to_float = _ToFloat(config.pixel_range, device)

    def batch(self, step: int) -> tuple[Tensor, Tensor]:
        lr, hr = crop_host(self.pairs, self.config.rows(self.sizes, step), self.config.patch)
        return self.to_float(lr), self.to_float(hr)

    def describe(self) -> str:
        return "host, main thread"

    def close(self) -> None:
        pass


class _StepBatches(Dataset):
    """Map-style dataset whose item `step` is this rank's whole uint8 batch of that step."""

    def __init__(self, pairs: TrainPairs, config: _Config):
        self.pairs, self.config, self.sizes = pairs, config, pairs.lr_sizes

    def __getitem__(self, step: int) -> tuple[Tensor, Tensor]:
        return crop_host(self.pairs, self.config.rows(self.sizes, step), self.config.patch)


class _StepsFrom(Sampler):
    """Yields start, start + 1, ... (endless); `start` is set before each new iterator."""

    def __init__(self) -> None:
        self.start = 0

    def __iter__(self) -> Iterator[int]:
        return itertools.count(self.start)


class LoaderSource:
    """A DataLoader over steps (one item = one batch), workers prefetching ahead of the GPU."""

    def __init__(self, pairs: TrainPairs, config: _Config, device: torch.device, workers: int):
        self.config, self.workers = config, workers
        self.pin = device.type == "cuda"
        self.sampler = _StepsFrom()
        self.loader = DataLoader(_StepBatches(pairs, config), batch_size=None, sampler=self.sampler,
                                 num_workers=workers, pin_memory=self.pin, persistent_workers=workers > 0)
        self.to_float = _ToFloat(config.pixel_range, device)
        self._it: Iterator | None = None
        self._next = -1

    def batch(self, step: int) -> tuple[Tensor, Tensor]:
        if self._it is None or step != self._next:  # first call, resume, or a skipped step
            self.sampler.start = step
            self._it = iter(self.loader)
        lr, hr = next(self._it)
        self._next = step + 1
        return self.to_float(lr), self.to_float(hr)

    def describe(self) -> str:
        return f"DataLoader, {self.workers} workers" + (", pinned" if self.pin else "")

    def close(self) -> None:
        shutdown = getattr(self.loader._iterator, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()
        self._it = None
        self.loader._iterator = None


class GpuSource:
    """All images resident on the device as uint8; crop, flips and transpose are tensor ops there."""

    def __init__(self, pairs: TrainPairs, config: _Config, device: torch.device):
        self.config, self.device, self.nbytes, self.sizes = config, device, pairs.nbytes, pairs.lr_sizes
        self.lrs = [torch.from_numpy(a).to(device) for a in pairs.lrs]
        self.hrs = [torch.from_numpy(a).to(device) for a in pairs.hrs]
        self.to_float = _ToFloat(config.pixel_range, device)

    def batch(self, step: int) -> tuple[Tensor, Tensor]:
        rows = self.config.rows(self.sizes, step)
        p, s = self.config.patch, self.config.scale
        crops = [(i, y, x) for i, y, x, *_ in rows.tolist()]
        lr = torch.stack([self.lrs[i][y:y + p, x:x + p] for i, y, x in crops])
        hr = torch.stack([self.hrs[i][y * s:(y + p) * s, x * s:(x + p) * s] for i, y, x in crops])
        flips = rows[:, 3:].to(self.device, non_blocking=True).bool()
        return self.to_float(_augment_nhwc(lr, flips)), self.to_float(_augment_nhwc(hr, flips))

    def describe(self) -> str:
        where = "gpu" if self.device.type == "cuda" else self.device.type
        size = f"{self.nbytes / 2**30:.1f} GiB" if self.nbytes >= 2**30 else f"{self.nbytes / 2**20:.1f} MiB"
        return f"{where}-resident uint8, {size}"

    def close(self) -> None:
        self.lrs, self.hrs = [], []


def _augment_nhwc(x: Tensor, flips: Tensor) -> Tensor:
    """_augment per row of a uint8 NHWC batch of square patches, as NCHW contiguous."""
    def where(mask: Tensor, a: Tensor, b: Tensor) -> Tensor:
        return torch.where(mask[:, None, None, None], a, b)

    x = where(flips[:, 0], x.flip(2), x)
    x = where(flips[:, 1], x.flip(1), x)
    x = where(flips[:, 2], x.transpose(1, 2), x)
    return x.permute(0, 3, 1, 2).contiguous()


def default_workers() -> int:
    """DataLoader workers when none are asked for: min(4, cpus - 1)."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def make_batch_source(pairs: TrainPairs, *, patch_size: int, scale: int, augment: bool, seed: int,
                      batch_size: int, pixel_range: int, device: torch.device | str, source: str = "auto",
                      workers: int | None = None, rank: int = 0, world_size: int = 1) -> BatchSource:
    """The batch source `source` ("host", "loader", "gpu", or "auto") for one rank.

    "auto": "gpu" on CUDA when HR + LR uint8 take at most 40 % of free device memory, else
    "loader" on CUDA and "host" on the CPU. `workers` None: default_workers().
    """
    device = torch.device(device)
    if source not in SOURCES:
        raise BenchError(f"batch source must be one of {', '.join(SOURCES)}, got {source!r}")
    if world_size < 1 or not 0 <= rank < world_size:
        raise BenchError(f"rank {rank} is not in a world of size {world_size}")
    if batch_size < 1 or batch_size % world_size:
        raise BenchError(f"batch_size {batch_size} does not split over {world_size} ranks")
    if scale != pairs.scale:
        raise BenchError(f"training pairs are x{pairs.scale}, the batch source was asked for x{scale}")
    if workers is not None and workers < 0:
        raise BenchError(f"data loader workers must be >= 0, got {workers}")
    workers = default_workers() if workers is None else workers
    if source == "auto":
        if device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            source = "gpu" if pairs.nbytes <= GPU_MEMORY_SHARE * free else "loader"
        else:
            source = "host"
    config = _Config(patch_size, scale, augment, seed, batch_size, pixel_range, rank, world_size)
    if source == "host":
        return HostSource(pairs, config, device)
    if source == "loader":
        return LoaderSource(pairs, config, device, workers)
    return GpuSource(pairs, config, device)

