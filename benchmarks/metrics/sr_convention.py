"""PSNR and SSIM in the SR convention: BT.601 Y (unrounded), border shaved, MATLAB ssim.m.

Written here because pyiqa's defaults differ (RGB / YIQ, rounded Y, clamped SSIM term); the
values are tested against pyiqa's correctly-configured PSNR and scikit-image's MATLAB-mode SSIM.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d

from . import Metric, register_metric

_Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """uint8 (or [0,255] float) HxWx3 RGB -> float64 Y in [16, 235] (BT.601, not rounded)."""
    if img.ndim == 2:
        return img.astype(np.float64)
    return 16.0 + img[..., :3].astype(np.float64) @ _Y_WEIGHTS


def shave(img: np.ndarray, border: int) -> np.ndarray:
    return img[border:-border, border:-border] if border > 0 else img


def _check_pair(sr: np.ndarray, hr: np.ndarray) -> None:
    if sr.shape != hr.shape:
        raise ValueError(f"image shapes differ: SR {sr.shape} vs HR {hr.shape}")


def psnr_y(sr: np.ndarray, hr: np.ndarray, border: int) -> float:
    """PSNR (dB) on the Y channel, peak 255, after shaving `border` pixels."""
    _check_pair(sr, hr)
    diff = shave(rgb_to_y(sr), border) - shave(rgb_to_y(hr), border)
    mse = float(np.mean(diff * diff))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()


_WINDOW = _gaussian_window()


def _filter_valid(img: np.ndarray) -> np.ndarray:
    """Separable Gaussian filter keeping only the 'valid' region (MATLAB filter2 'valid')."""
    out = correlate1d(correlate1d(img, _WINDOW, axis=0, mode="constant"), _WINDOW, axis=1, mode="constant")
    r = len(_WINDOW) // 2
    return out[r:-r, r:-r]


def ssim_gray(a: np.ndarray, b: np.ndarray) -> float:
    """MATLAB ssim.m on two float64 gray images in [0, 255]: 11x11 Gaussian, K=(0.01,0.03)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu_a, mu_b = _filter_valid(a), _filter_valid(b)
    var_a = _filter_valid(a * a) - mu_a * mu_a
    var_b = _filter_valid(b * b) - mu_b * mu_b
    cov = _filter_valid(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))


def ssim_y(sr: np.ndarray, hr: np.ndarray, border: int) -> float:
    """SSIM on the unrounded Y channel after shaving `border` pixels."""
    _check_pair(sr, hr)
    return ssim_gray(shave(rgb_to_y(sr), border), shave(rgb_to_y(hr), border))


class PSNR(Metric):
    name = "psnr"
    lower_better = False
    needs_ref = True
    value_range = (0.0, float("inf"))

    def score_one(self, sr, hr, crop_border):
        return psnr_y(sr, hr, crop_border)


class SSIM(Metric):
    name = "ssim"
    lower_better = False
    needs_ref = True
    value_range = (-1.0, 1.0)

    def score_one(self, sr, hr, crop_border):
        return ssim_y(sr, hr, crop_border)


register_metric(PSNR())
register_metric(SSIM())
