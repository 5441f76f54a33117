"""Paired bootstrap confidence interval of a mean gain over test images (and seeds).

A KD paper's gain is a few hundredths of a dB, measured on one test set: whether it is real
depends on how consistently the method beats its baseline image by image. `paired_interval`
takes the per-image scores of both sides, paired by image (and by seed where both sides have
several), and resamples the pairs: images with replacement, and seeds with replacement when
there are several, so both sources of variation widen the interval. The interval is the
percentile interval of the resampled mean gains; it is computed with a fixed random seed, so a
report is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
N_BOOT = 10_000


@dataclass(frozen=True)
class GainInterval:
    """Mean of (new - base) over the paired scores, with its bootstrap interval [lo, hi]."""

    mean: float
    lo: float
    hi: float
    n_images: int
    n_seeds: int
    level: float = LEVEL

    @property
    def includes_zero(self) -> bool:
        """True when the interval does not rule out "no difference" (lo <= 0 <= hi)."""
        return self.lo <= 0.0 <= self.hi

    @property
    def degenerate(self) -> bool:
        """One image and one seed: nothing to resample, the interval is the single gain."""
        return self.n_images < 2 and self.n_seeds < 2

    def oriented(self, lower_better: bool) -> GainInterval:
        """The same interval with "better" positive (negated for lower-is-better metrics)."""
        if not lower_better:
            return self
        return GainInterval(-self.mean, -self.hi, -self.lo, self.n_images, self.n_seeds, self.level)


def paired_interval(new: np.ndarray, base: np.ndarray, level: float = LEVEL, n_boot: int = N_BOOT,
                    seed: int = 0) -> GainInterval:
    """Mean gain new - base with a paired bootstrap percentile interval.

    `new` and `base` are (seeds, images) arrays (a 1-D array is one seed) of per-image scores,
    row s of one paired with row s of the other, column i with column i. Images where either
    side has no value (NaN) in any seed are left out. Raises ValueError when the shapes differ or
    no image is left."""
    new = np.atleast_2d(np.asarray(new, dtype=np.float64))
    base = np.atleast_2d(np.asarray(base, dtype=np.float64))
    if new.shape != base.shape:
        raise ValueError(f"paired scores differ in shape: {new.shape} vs {base.shape}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    gains = new - base
    gains = gains[:, np.isfinite(gains).all(axis=0)]
    n_seeds, n_images = gains.shape
    if n_images == 0 or n_seeds == 0:
        raise ValueError("no image has a score on both sides")
    mean = float(gains.mean())
    if n_images == 1 and n_seeds == 1:
        return GainInterval(mean, mean, mean, 1, 1, level)
    rng = np.random.default_rng(seed)
    img = rng.integers(0, n_images, size=(n_boot, n_images))
    if n_seeds == 1:
        stats = gains[0][img].mean(axis=1)
    else:
        seeds = rng.integers(0, n_seeds, size=(n_boot, n_seeds))
        # replicate b: the mean over the drawn seeds x the drawn images
        stats = gains[seeds[:, :, None], img[:, None, :]].mean(axis=(1, 2))
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(stats, [alpha, 1.0 - alpha])
    # the percentile interval holds the mean up to float noise; never let rounding exclude it
    return GainInterval(mean, float(min(lo, mean)), float(max(hi, mean)), n_images, n_seeds, level)


def fmt_interval(interval: GainInterval, decimals: int) -> str:
    """ "+0.034 [−0.010, +0.080]" (typographic minus), or the gain alone when degenerate."""
    def num(x: float) -> str:
        return "nan" if math.isnan(x) else f"{x:+.{decimals}f}".replace("-", "\u2212")

    if interval.degenerate:
        return num(interval.mean)
    return f"{num(interval.mean)} [{num(interval.lo)}, {num(interval.hi)}]"
