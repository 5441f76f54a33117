"""Training pairs: HR images with MATLAB-bicubic LR, sampled as aligned random patches.

Patches are float tensors in [0, pixel_range]: [0, 1] (the default) or [0, 255] (EDSR-PyTorch's
`rgb_range 255`, where uint8 values pass through unscaled)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from data_manifest.imresize import matlab_imresize

from .errors import BenchError


class PatchSampler:
    """Draws batches of aligned (LR, HR) patches with random flips/rotations.

    All randomness comes from one torch.Generator, whose state is checkpointed so a resumed
    run draws the same batches as an uninterrupted one.
    """

    def __init__(self, hr_images: Sequence[np.ndarray], scale: int, patch_size: int, augment: bool, seed: int,
                 pixel_range: int = 1):
        self.scale, self.patch, self.augment = scale, patch_size, augment
        self.pixel_range = pixel_range
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        for hr in hr_images:
            h, w = (hr.shape[0] // scale) * scale, (hr.shape[1] // scale) * scale
            hr = np.ascontiguousarray(hr[:h, :w])
            if h // scale >= patch_size and w // scale >= patch_size:
                self.pairs.append((matlab_imresize(hr, 1.0 / scale), hr))
        if not self.pairs:
            raise BenchError(f"training set has no image with at least {patch_size * scale}px per side "
                             f"(LR patch {patch_size} at x{scale}); lower profile.patch_size")
        self.generator = torch.Generator().manual_seed(seed)

    def _randint(self, high: int) -> int:
        return int(torch.randint(high, (1,), generator=self.generator))

    def batch(self, batch_size: int) -> tuple[Tensor, Tensor]:
        lrs, hrs = [], []
        s, p = self.scale, self.patch
        for _ in range(batch_size):
            lr, hr = self.pairs[self._randint(len(self.pairs))]
            y, x = self._randint(lr.shape[0] - p + 1), self._randint(lr.shape[1] - p + 1)
            lr_patch = lr[y:y + p, x:x + p]
            hr_patch = hr[y * s:(y + p) * s, x * s:(x + p) * s]
            if self.augment:
                hflip, vflip, rot = (self._randint(2) for _ in range(3))
                lr_patch, hr_patch = (_augment(a, hflip, vflip, rot) for a in (lr_patch, hr_patch))
            lrs.append(lr_patch)
            hrs.append(hr_patch)
        return _to_tensor(lrs, self.pixel_range), _to_tensor(hrs, self.pixel_range)

    def state(self) -> Tensor:
        return self.generator.get_state()

    def load_state(self, state: Tensor) -> None:
        self.generator.set_state(state)


def _augment(img: np.ndarray, hflip: int, vflip: int, rot: int) -> np.ndarray:
    if hflip:
        img = img[:, ::-1]
    if vflip:
        img = img[::-1]
    if rot:
        img = img.transpose(1, 0, 2)
    return img


def _to_tensor(batch: list[np.ndarray], pixel_range: int = 1) -> Tensor:
    """uint8 NHWC -> float NCHW in [0, pixel_range] (255: the uint8 values themselves, exactly)."""
    array = np.stack([np.ascontiguousarray(a) for a in batch])
    return torch.from_numpy(array).permute(0, 3, 1, 2).float().div_(255.0 / pixel_range)
