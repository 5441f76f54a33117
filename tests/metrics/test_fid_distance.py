"""The Fréchet distance identity used by fid/fid-patch against pytorch-fid's implementation."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.metrics.fid import frechet_distance


@pytest.mark.parametrize("n1,n2,d", [(5, 5, 64), (12, 30, 64), (200, 150, 64), (40, 40, 16)])
def test_matches_pytorch_fid(n1, n2, d):
    from pytorch_fid.fid_score import calculate_frechet_distance

    rng = np.random.default_rng(n1 + n2 + d)
    a = np.abs(rng.normal(size=(n1, d)))
    b = np.abs(rng.normal(0.2, 1.1, size=(n2, d)))
    ref = calculate_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert frechet_distance(a, b) == pytest.approx(ref, rel=1e-5, abs=1e-6)


def test_identical_sets_give_zero():
    a = np.random.default_rng(0).normal(size=(30, 20))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_needs_two_samples():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros((1, 4)), np.zeros((3, 4)))
