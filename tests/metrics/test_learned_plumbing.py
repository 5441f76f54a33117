"""Plumbing of lpips, lpips-vgg, fid, fid-patch, nrqm and pi with STAND-IN weights.

The stand-in files (`benchmarks.metrics.standins`) have the right shapes but random or constant
values: these tests do NOT check metric values against published ones. They check that the
files are found in a weights dir and reach the libraries (torchvision via torch.hub, pyiqa via
explicit paths), batching and result shapes, set-level semantics, the FID variant notes, and
that PI is 0.5*((10 - NRQM) + NIQE) of the two registered metrics (the NRQM stand-in is the
constant 5; NIQE uses the real parameter file when ../shared is present).
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.metrics import MetricUnavailable, get_metric, runtime, weights
from benchmarks.metrics.fid import patches
from benchmarks.metrics.standins import NRQM_STANDIN_VALUE

from .conftest import synthetic_pairs


@pytest.fixture
def standins(standin_dir):
    weights.set_weights_dir(standin_dir)
    return standin_dir


@pytest.mark.parametrize("name", ["lpips", "lpips-vgg"])
def test_lpips_plumbing(standins, name):
    srs, hrs = synthetic_pairs(3, (48, 56))
    m = get_metric(name)
    res = m.score(srs, hrs, crop_border=2)
    assert res.per_image is not None and len(res.per_image) == 3
    assert all(np.isfinite(res.per_image)) and all(v >= 0 for v in res.per_image)
    assert res.mean == pytest.approx(np.mean(res.per_image))
    same = m.score(hrs, hrs, crop_border=2)
    assert max(same.per_image) < 1e-6
    # batching does not change values: one image at a time gives the same numbers
    single = [m.score([s], [h], crop_border=2).per_image[0] for s, h in zip(srs, hrs)]
    np.testing.assert_allclose(single, res.per_image, rtol=1e-5, atol=1e-7)


def test_lpips_model_is_cached_per_process(standins):
    m = get_metric("lpips")
    assert m.model() is m.model()


@pytest.fixture(scope="module")
def fid_pairs():
    """3 equal-sized pairs (one batch each); reused so the activation cache saves forwards."""
    return synthetic_pairs(3, (80, 80), grow=0)


def test_fid_whole_image_plumbing(standins, fid_pairs):
    srs, hrs = fid_pairs
    res = get_metric("fid").score(srs, hrs, crop_border=4)
    assert res.per_image is None
    assert np.isfinite(res.mean) and res.mean >= 0
    assert "whole-image" in res.note and "3 SR / 3 HR samples" in res.note
    assert get_metric("fid").score(hrs, hrs, crop_border=4).mean == pytest.approx(0.0, abs=1e-6)


def test_fid_patch_sampling_with_a_fake_network(monkeypatch):
    """fid-patch differs from fid only in its samples; a fake feature net keeps this fast
    (the Inception plumbing itself is exercised by the whole-image test above)."""
    from benchmarks.metrics.fid import FID

    seen = []

    def fake_net(x):
        seen.append(tuple(x.shape))
        return [x.mean(dim=(2, 3), keepdim=True).repeat(1, 683, 1, 1)[:, :2048]]

    m = FID("fid-patch-test", patch_size=64)
    monkeypatch.setattr(m, "model", lambda: (fake_net, ("fake",)))
    srs, hrs = synthetic_pairs(2, (140, 130), grow=0)
    res = m.score(srs, hrs, crop_border=0)
    assert res.per_image is None and np.isfinite(res.mean)
    assert all(s[2:] == (64, 64) for s in seen) and sum(s[0] for s in seen) == 2 * 2 * 4
    assert "patch FID" in res.note and "64x64" in res.note and "8 SR / 8 HR samples" in res.note
    assert get_metric("fid-patch").patch_size == 64 and "patch" in get_metric("fid-patch").variant()


def test_fid_needs_two_samples(standins, fid_pairs):
    srs, hrs = fid_pairs
    res = get_metric("fid").score(srs[:1], hrs[:1], crop_border=4)
    assert np.isnan(res.mean) and "not computed" in res.note


def test_patches_grid():
    img = np.zeros((130, 200, 3), np.uint8)
    ps = patches(img, 64)
    assert len(ps) == 2 * 3 and all(p.shape == (64, 64, 3) for p in ps)


def test_nrqm_and_pi_plumbing(standins, niqe_file):
    srs, _ = synthetic_pairs(1, (100, 104))
    nrqm = get_metric("nrqm").score(srs, None, crop_border=2)
    assert nrqm.per_image == (NRQM_STANDIN_VALUE,)
    niqe = get_metric("niqe").score(srs, None, crop_border=2)
    pi = get_metric("pi").score(srs, None, crop_border=2)
    expected = [0.5 * ((10 - NRQM_STANDIN_VALUE) + v) for v in niqe.per_image]
    np.testing.assert_allclose(pi.per_image, expected, rtol=1e-12)


def test_niqe_small_images_are_nan_not_zero(standins, niqe_file):
    big, _ = synthetic_pairs(1, (100, 100))
    res = get_metric("niqe").score([big[0], big[0][:60, :60]], None, 0)
    assert np.isnan(res.per_image[1]) and res.mean == pytest.approx(res.per_image[0])
    assert "smaller than 96x96" in res.note


def test_pi_missing_nrqm_names_the_file(tmp_path, niqe_file):
    weights.set_weights_dir(niqe_file.parent)  # NIQE present, NRQM absent
    with pytest.raises(MetricUnavailable, match="NRQM_model.mat") as exc:
        get_metric("pi").score([np.zeros((100, 100, 3), np.uint8)], None, 0)
    assert "'pi'" in str(exc.value)


@pytest.mark.parametrize("name", ["lpips", "lpips-vgg", "fid", "fid-patch", "nrqm"])
def test_missing_weights_offline_fail_fast(tmp_path, name):
    weights.set_weights_dir(tmp_path)
    srs, hrs = synthetic_pairs(2, (40, 40))
    with pytest.raises(MetricUnavailable) as exc:
        get_metric(name).score(srs, hrs, 0)
    assert "\n" not in str(exc.value) and "--weights-dir" in str(exc.value)


def test_device_choice(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.device().type == "cpu"
    monkeypatch.setenv(runtime.ENV_DEVICE, "cpu")
    assert str(runtime.device()) == "cpu"


@pytest.mark.gpu
def test_learned_metrics_on_cuda(standins):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    assert runtime.device().type == "cuda"
    srs, hrs = synthetic_pairs(2, (64, 64))
    assert np.isfinite(get_metric("lpips").score(srs, hrs).mean)


def test_nrqm_values_are_reused_by_pi(standins, niqe_file, monkeypatch):
    """pi after nrqm on the same images does not run NRQM again (it costs ~25 CPU-s/image)."""
    from benchmarks.metrics import no_reference

    srs, _ = synthetic_pairs(1, (100, 100), seed=5)
    get_metric("nrqm").score(srs, None, crop_border=0)
    model = get_metric("nrqm").model()
    calls = []
    monkeypatch.setattr(model, "forward", lambda *a, **k: calls.append(1) or 1 / 0)
    res = get_metric("pi").score(srs, None, crop_border=0)
    assert not calls and np.isfinite(res.mean)
    no_reference._values.clear()
    with pytest.raises(ZeroDivisionError):
        get_metric("nrqm").score(srs, None, crop_border=0)
