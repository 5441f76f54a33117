"""The metric registry: names, directions, reference needs, ranges, set level."""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.errors import BenchError
from benchmarks.metrics import METRICS, MetricResult, MetricUnavailable, get_metric, score_all

EXPECTED = {
    # name: (lower_better, needs_ref, set_level)
    "psnr": (False, True, False),
    "ssim": (False, True, False),
    "niqe": (True, False, False),
    "nrqm": (False, False, False),
    "pi": (True, False, False),
    "lpips": (True, True, False),
    "lpips-vgg": (True, True, False),
    "fid": (True, True, True),
    "fid-patch": (True, True, True),
}


def test_registry_has_every_metric_with_its_properties():
    assert set(EXPECTED) <= set(METRICS.names())
    for name, (lower, ref, set_level) in EXPECTED.items():
        m = get_metric(name)
        assert m.name == name
        assert (m.lower_better, m.needs_ref, m.set_level) == (lower, ref, set_level), name
        lo, hi = m.value_range
        assert lo < hi


def test_ranges():
    assert get_metric("ssim").value_range == (-1.0, 1.0)
    assert get_metric("nrqm").value_range == (0.0, 10.0)
    assert get_metric("lpips").value_range == (0.0, 1.0)
    assert get_metric("fid").value_range[1] == math.inf


def test_unknown_metric_lists_choices():
    with pytest.raises(BenchError, match="valid choices: .*psnr"):
        get_metric("psnry")


def test_unavailable_is_a_bench_error():
    assert issubclass(MetricUnavailable, BenchError)


def test_score_all_records_unavailable_and_computes_the_rest():
    """Offline with no weights: lpips/fid are reported with a reason, psnr still computed."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    results, missing = score_all(["psnr", "lpips", "fid"], [a], [b], 0)
    assert isinstance(results["psnr"], MetricResult)
    assert set(missing) == {"lpips", "fid"}
    assert "alexnet-owt-7be5be79.pth" in missing["lpips"]


def test_score_all_without_reference():
    a = np.zeros((16, 16, 3), np.uint8)
    results, missing = score_all(["psnr"], [a], None, 0)
    assert not results and "needs reference" in missing["psnr"]
