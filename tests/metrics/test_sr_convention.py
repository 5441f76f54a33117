"""PSNR/SSIM in the SR convention against independent implementations.

PSNR: pyiqa `create_metric('psnr', test_y_channel=True, color_space='ycbcr', crop_border=s)`
(the only pyiqa configuration that follows the convention), to 1e-4 dB. pyiqa adds eps=1e-8 to
the MSE of [0, 1] images, which alone moves PSNR by ~1.3e-4 dB at 35 dB; the comparison
passes a negligible eps (1e-14) so that only real differences count.
SSIM: scikit-image `structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=255)` on the float64 Y channel, to 1e-6. skimage
filters the whole image and averages the SSIM map after cropping (win_size-1)//2 = 5 px per
side — exactly the 'valid' region of MATLAB's ssim.m that `ssim_gray` averages over.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from benchmarks.metrics import get_metric
from benchmarks.metrics.sr_convention import psnr_y, rgb_to_y, shave, ssim_gray, ssim_y

from .conftest import synthetic_pairs


def _pairs(calibration):
    srs, hrs = synthetic_pairs(3, (72, 90))
    _, dists, refs = calibration
    return srs + list(dists), hrs + list(refs)


@pytest.fixture(scope="module")
def pyiqa_psnr():
    pyiqa = pytest.importorskip("pyiqa")
    return lambda s: pyiqa.create_metric("psnr", test_y_channel=True, color_space="ycbcr",
                                         crop_border=s, device="cpu", eps=1e-14)


def _t(img):
    import torch

    return torch.from_numpy(np.array(img)).permute(2, 0, 1)[None].double() / 255.0


@pytest.mark.parametrize("border", [0, 2, 4])
def test_psnr_matches_pyiqa_ycbcr(calibration, pyiqa_psnr, border):
    metric = pyiqa_psnr(border)
    srs, hrs = _pairs(calibration)
    ours = get_metric("psnr").score(srs, hrs, crop_border=border).per_image
    for s, h, v in zip(srs, hrs, ours):
        ref = float(metric(_t(s), _t(h)))
        assert abs(v - ref) < 1e-4, (v, ref)


@pytest.mark.parametrize("border", [0, 3, 4])
def test_ssim_matches_skimage_on_valid_region(calibration, border):
    from skimage.metrics import structural_similarity

    srs, hrs = _pairs(calibration)
    ours = get_metric("ssim").score(srs, hrs, crop_border=border).per_image
    for s, h, v in zip(srs, hrs, ours):
        a, b = shave(rgb_to_y(s), border), shave(rgb_to_y(h), border)
        ref = structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False, data_range=255)
        assert abs(v - ref) < 1e-6, (v, ref)


def test_y_channel_is_bt601_unrounded():
    img = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]]], np.uint8)
    np.testing.assert_allclose(rgb_to_y(img)[0], [16 + 65.481, 16 + 128.553, 16 + 24.966, 235.0, 16.0])


def test_gray_image_is_replicated_to_rgb():
    g = np.random.default_rng(1).integers(0, 256, (20, 20), dtype=np.uint8)
    np.testing.assert_allclose(rgb_to_y(g), rgb_to_y(np.repeat(g[..., None], 3, axis=2)))


def test_identical_images():
    img = synthetic_pairs(1)[1][0]
    assert get_metric("psnr").score([img], [img]).mean == float("inf")
    assert get_metric("ssim").score([img], [img]).mean == pytest.approx(1.0, abs=1e-12)


def test_border_is_shaved_before_measuring():
    sr, hr = synthetic_pairs(1, (40, 40))
    bad = sr[0].copy()
    bad[:3] = 0  # damage only the top 3 rows
    assert psnr_y(bad, hr[0], 3) == pytest.approx(psnr_y(sr[0], hr[0], 3))
    assert psnr_y(bad, hr[0], 0) < psnr_y(sr[0], hr[0], 0)


def test_shape_mismatch_is_an_error():
    a, b = np.zeros((10, 12, 3), np.uint8), np.zeros((12, 10, 3), np.uint8)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr_y(a, b, 0)
    with pytest.raises(ValueError, match="shapes differ"):
        ssim_y(a, b, 0)


def test_ssim_too_small():
    with pytest.raises(ValueError, match="11x11"):
        ssim_gray(np.zeros((8, 8)), np.zeros((8, 8)))


def test_ssim_speed_512():
    """Vectorised float64 SSIM: well under pyiqa's ~0.5 s per 512x512 pair (target ~35 ms)."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    ssim_y(a, b, 4)
    t0 = time.perf_counter()
    for _ in range(3):
        ssim_y(a, b, 4)
    assert (time.perf_counter() - t0) / 3 < 0.2
