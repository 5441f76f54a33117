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
    """uint8 (or [0,255] float) HxWx3 RGB -> float64 Y in [16, 235] (BT.601, not rounded).

    A gray image (HxW or HxWx1) is treated as RGB with three equal channels (the convention
    replicates grayscale images such as Set14 `bridge.png`); an alpha channel is ignored.
    """
    if img.ndim == 2 or img.shape[-1] == 1:
        g = img.reshape(img.shape[:2]).astype(np.float64)
        return 16.0 + g * _Y_WEIGHTS.sum()
    return 16.0 + img[..., :3].astype(np.float64) @ _Y_WEIGHTS


# MATLAB rgb2gray: first row of inv([1 .956 .621; 1 -.272 -.647; 1 -1.106 1.703]); on uint8
# input MATLAB rounds the result. Used only to reproduce official IQA values (calibration).
_GRAY_WEIGHTS = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])


def rgb_to_gray_matlab(img: np.ndarray) -> np.ndarray:
    """MATLAB `rgb2gray` of a uint8 RGB image (rounded), as float64."""
    return np.round(img[..., :3].astype(np.float64) @ _GRAY_WEIGHTS)


def shave(img: np.ndarray, border: int) -> np.ndarray:
    return img[border:-border, border:-border] if border > 0 else img


def _check_pair(sr: np.ndarray, hr: np.ndarray) -> None:
    if sr.shape != hr.shape:
        raise ValueError(f"image shapes differ: SR {sr.shape} vs HR {hr.shape}")


def psnr_arrays(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """PSNR (dB) of two equal-shaped arrays (any channels), in float64."""
    diff = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(diff * diff))
    return float("inf") if mse == 0 else float(10.0 * np.log10(peak ** 2 / mse))


def psnr_y(sr: np.ndarray, hr: np.ndarray, border: int) -> float:
    """PSNR (dB) on the Y channel, peak 255, after shaving `border` pixels."""
    _check_pair(sr, hr)
    return psnr_arrays(shave(rgb_to_y(sr), border), shave(rgb_to_y(hr), border))


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
    """MATLAB ssim.m on two float64 gray images in [0, 255]: 11x11 Gaussian, K=(0.01,0.03).

    Mean of the SSIM map over the 'valid' region (5 px less on each side), no clamping, no
    automatic downsampling. Images must be at least 11x11.
    """
    if min(a.shape[:2]) < len(_WINDOW):
        raise ValueError(f"SSIM needs images of at least 11x11 pixels, got {a.shape[:2]}")
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
    """PSNR on the Y channel (0 dB .. inf; identical images give inf)."""

    name = "psnr"
    label = "PSNR (dB)"
    lower_better = False
    needs_ref = True
    value_range = (0.0, float("inf"))
    tolerance = 0.05

    def score_one(self, sr, hr, crop_border):
        return psnr_y(sr, hr, crop_border)


class SSIM(Metric):
    name = "ssim"
    label = "SSIM"
    lower_better = False
    needs_ref = True
    value_range = (-1.0, 1.0)
    tolerance = 0.002

    def score_one(self, sr, hr, crop_border):
        return ssim_y(sr, hr, crop_border)


register_metric(PSNR())
register_metric(SSIM())
