"""`bench check --method NEW --against baseline` decides from the paired bootstrap interval of the
gain over the test images, not from the bare mean, and says so."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from benchmarks.check import check_against
from benchmarks.cli import main
from tests.reports.kd_store import build

from .test_check import frame_of

IMAGES = ("a", "b", "c", "d")


def stored(new_gains, base=(30.0, 27.0, 32.0, 29.0), metric="psnr"):
    """Frame and per-image frame of a baseline and a method `new` with the given per-image gains."""
    frame = frame_of({"method": "baseline", "run_key": "kb", "metric": metric, "value": sum(base) / 4},
                     {"method": "new", "label": "New", "run_key": "kn", "metric": metric,
                      "value": sum(b + g for b, g in zip(base, new_gains)) / 4})
    images = pd.DataFrame([("kb", "Set5", im, metric, b) for im, b in zip(IMAGES, base)]
                          + [("kn", "Set5", im, metric, b + g) for im, b, g in zip(IMAGES, base, new_gains)],
                          columns=["key", "dataset", "image", "metric", "value"])
    return frame, images


def test_a_mean_drop_the_images_do_not_support_is_not_a_regression():
    frame, images = stored([-0.30, 0.10, 0.10, -0.14])  # mean -0.06, beyond the 0.05 dB tolerance
    assert check_against(frame, "new").rows[0].verdict == "regression"  # the bare mean (no images)
    report = check_against(frame, "new", images=images)
    row = report.rows[0]
    assert row.verdict == "pass" and row.lo < 0 < row.hi
    assert "includes 0" in row.note and "the interval does not support it" in row.note
    assert any("paired bootstrap 95% interval" in d and "not from the bare mean" in d for d in report.details)
    assert "95% interval of delta" in report.to_text()


def test_a_consistent_drop_beyond_the_tolerance_is_a_regression():
    frame, images = stored([-0.20, -0.22, -0.18, -0.21])
    row = check_against(frame, "new", images=images).rows[0]
    assert row.verdict == "regression" and row.hi < -0.05
    assert "a real loss" in row.note and "all of it is worse than the tolerance 0.05" in row.note


def test_a_real_loss_within_the_tolerance_passes_and_lower_better_metrics_are_oriented():
    frame, images = stored([-0.02, -0.03, -0.025, -0.02])
    row = check_against(frame, "new", images=images).rows[0]
    assert row.verdict == "pass" and "a real loss within the tolerance" in row.note
    # LPIPS falls (better) on every image: a real gain, never a regression
    frame, images = stored([-0.02, -0.03, -0.025, -0.02], base=(0.2, 0.3, 0.25, 0.2), metric="lpips")
    row = check_against(frame, "new", images=images).rows[0]
    assert row.verdict == "pass" and "a real gain" in row.note


def test_rows_without_per_image_scores_fall_back_to_the_mean_and_say_so():
    frame, images = stored([-0.30, 0.10, 0.10, -0.14])
    report = check_against(frame, "new", images=images[images["key"] != "kn"])
    assert report.rows[0].verdict == "regression" and report.rows[0].lo is None
    assert any("without per-image scores: verdict from the bare mean" in d for d in report.details)


def test_cli_uses_the_stored_per_image_scores(tmp_path):
    matrix, results = build(tmp_path, seeds=(0, 1))
    out = CliRunner().invoke(main, ["check", "--matrix", str(matrix), "--results-dir", str(results),
                                    "--method", "fakd", "--against", "baseline"])
    assert out.exit_code == 0, out.output
    assert "[+0.2000, +0.4250]" in out.output and "interval over 4 image(s) x 2 seeds excludes 0, a real gain" \
        in out.output
    assert "not from the bare mean" in out.output and "PASS: 2 pass" in out.output
