"""Batch sources for training tests: tiny uint8 images drawn on the host (no LR cache on disk)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from benchmarks.trainer_data import BatchSource, TrainPairs, make_batch_source


def host_batches(images: Sequence[np.ndarray], scale: int = 2, patch: int = 8, batch_size: int = 2,
                 seed: int = 0, pixel_range: int = 1, augment: bool = True) -> BatchSource:
    """Batches of `batch_size` aligned patches, a function of (seed, step), built on the host."""
    pairs = TrainPairs.build(images, scale, patch, cache_dir=None)
    return make_batch_source(pairs, patch_size=patch, scale=scale, augment=augment, seed=seed,
                             batch_size=batch_size, pixel_range=pixel_range, device="cpu", source="host")
