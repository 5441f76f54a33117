"""Paired bootstrap interval of a mean gain: exact small cases, coverage of a known normal case,
pairing, seeds, NaN images, reproducibility, orientation and formatting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reports.bootstrap import GainInterval, fmt_interval, paired_interval


def test_a_constant_gain_has_a_point_interval_that_excludes_zero():
    base = np.array([30.0, 27.5, 33.1, 29.9])
    got = paired_interval(base + 0.03, base)
    assert math.isclose(got.mean, 0.03) and math.isclose(got.lo, 0.03) and math.isclose(got.hi, 0.03)
    assert not got.includes_zero and got.n_images == 4 and got.n_seeds == 1


def test_alternating_gains_span_the_extremes_exactly():
    # gains +1, -1, +1, -1: a resample's mean is -1 with probability 1/16 > 2.5 %, so lo = -1, hi = +1
    base = np.zeros(4)
    got = paired_interval(base + np.array([1.0, -1.0, 1.0, -1.0]), base)
    assert got.mean == 0.0 and got.lo == -1.0 and got.hi == 1.0 and got.includes_zero


def test_interval_of_a_normal_sample_matches_the_normal_theory_width():
    rng = np.random.default_rng(1)
    gains = rng.normal(0.05, 0.1, size=400)
    got = paired_interval(gains, np.zeros_like(gains))
    half = 1.96 * gains.std(ddof=1) / math.sqrt(len(gains))
    assert math.isclose(got.hi - got.mean, half, rel_tol=0.12)
    assert math.isclose(got.mean - got.lo, half, rel_tol=0.12)
    assert not got.includes_zero


def test_pairing_removes_the_image_to_image_variation():
    # images differ by several dB; the method is 0.02 dB better on every one of them
    base = np.array([24.0, 31.0, 27.0, 35.0, 29.0, 26.0, 33.0, 30.0])
    new = base + 0.02 + np.array([0.002, -0.001, 0.0, 0.001, -0.002, 0.001, 0.0, -0.001])
    got = paired_interval(new, base)
    assert not got.includes_zero and got.lo > 0.015 and got.hi < 0.025
    # the same means, unpaired (each side shuffled): the interval would be dB wide
    assert new.std() > 3.0


def test_several_seeds_widen_the_interval_with_the_seed_to_seed_variation():
    rng = np.random.default_rng(2)
    per_image = rng.normal(0.1, 0.05, size=20)
    one = paired_interval(per_image, np.zeros(20))
    seeds = np.stack([per_image + shift for shift in (-0.08, 0.0, 0.08)])
    three = paired_interval(seeds, np.zeros_like(seeds))
    assert three.n_seeds == 3 and three.n_images == 20
    assert math.isclose(three.mean, one.mean)
    assert (three.hi - three.lo) > 1.5 * (one.hi - one.lo)


def test_images_missing_on_either_side_are_left_out():
    new = np.array([[1.0, 2.0, np.nan, 4.0]])
    base = np.array([[0.0, np.nan, 0.0, 0.0]])
    got = paired_interval(new, base)
    assert got.n_images == 2 and math.isclose(got.mean, 2.5)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="shape"):
        paired_interval(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="no image"):
        paired_interval(np.array([np.nan]), np.array([1.0]))
    with pytest.raises(ValueError, match="level"):
        paired_interval(np.zeros(3), np.zeros(3), level=1.5)


def test_same_input_same_interval_and_one_image_is_degenerate():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=30), rng.normal(size=30)
    assert paired_interval(a, b) == paired_interval(a, b)
    single = paired_interval(np.array([31.2]), np.array([31.0]))
    assert single.degenerate and math.isclose(single.lo, single.hi) and math.isclose(single.mean, 0.2)


def test_orientation_and_text():
    lpips = GainInterval(mean=-0.02, lo=-0.03, hi=-0.01, n_images=10, n_seeds=1)
    better = lpips.oriented(lower_better=True)
    assert (better.mean, better.lo, better.hi) == (0.02, 0.01, 0.03)
    assert lpips.oriented(lower_better=False) is lpips
    assert fmt_interval(GainInterval(0.034, -0.01, 0.08, 5, 1), 3) == "+0.034 [\u22120.010, +0.080]"
    assert fmt_interval(GainInterval(0.2, 0.2, 0.2, 1, 1), 2) == "+0.20"
