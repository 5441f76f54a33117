"""Each registered metric owns its direction, default check tolerance and display label."""

from __future__ import annotations

import math

import pytest

from benchmarks.check import DEFAULT_TOLERANCES, default_tolerances, resolve_tolerances
from benchmarks.metrics import METRICS, get_metric
from benchmarks.reporting import metric_info

# The values that lived in check.py's DEFAULT_TOLERANCES and reporting.metric_info before they moved
# onto the metrics; moving them must not change any.
BEFORE = {
    "psnr": (0.05, "PSNR (dB)"),
    "ssim": (0.002, "SSIM"),
    "niqe": (0.1, "NIQE"),
    "pi": (0.1, "PI"),
    "nrqm": (0.1, "NRQM"),
    "lpips": (0.01, "LPIPS"),
    "lpips-vgg": (0.01, "LPIPS-VGG"),
    "fid": (2.0, "FID"),
    "fid-patch": (2.0, "FID-PATCH"),
}


@pytest.mark.parametrize("name", METRICS.names())
def test_every_metric_has_a_label_a_tolerance_and_a_direction(name):
    m = get_metric(name)
    assert isinstance(m.label, str) and m.label.strip()
    assert isinstance(m.tolerance, (int, float)) and not isinstance(m.tolerance, bool)
    assert math.isfinite(m.tolerance) and m.tolerance >= 0
    assert isinstance(m.lower_better, bool)


def test_check_defaults_are_the_metrics_own():
    own = {name: get_metric(name).tolerance for name in METRICS.names()}
    assert default_tolerances() == own
    assert DEFAULT_TOLERANCES == own
    resolved = resolve_tolerances()
    assert {m: t.abs for m, t in resolved.items()} == own
    assert all(t.lower_better is get_metric(m).lower_better for m, t in resolved.items())


def test_report_labels_and_directions_are_the_metrics_own():
    info = metric_info(METRICS.names())
    for name, entry in info.items():
        m = get_metric(name)
        assert entry == {"lower_better": m.lower_better, "label": m.label}


def test_values_unchanged_by_the_move():
    assert set(BEFORE) <= set(METRICS.names())
    for name, (tol, label) in BEFORE.items():
        assert (get_metric(name).tolerance, get_metric(name).label) == (tol, label), name
    assert {m: DEFAULT_TOLERANCES[m] for m in BEFORE} == {m: tol for m, (tol, _) in BEFORE.items()}
