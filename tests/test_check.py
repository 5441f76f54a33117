"""`bench check`: published comparison and method-vs-baseline gate, on hand-made frames and stores."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from click.testing import CliRunner

from benchmarks.check import (DEFAULT_TOLERANCES, CheckReport, Tolerance, check_against, check_published,
                              parse_tolerance_option, resolve_tolerances)
from benchmarks.cli import main
from benchmarks.errors import BenchError
from benchmarks.matrix import load_matrix
from benchmarks.published_tables import published_frame
from benchmarks.store import ResultStore, RunResult, SetScore

from .conftest import TINY_MATRIX

FRAME_COLUMNS = ["run_key", "matrix", "method", "label", "arch", "student", "scale", "seed", "profile", "dataset",
                 "metric", "value", "params", "train_seconds", "teacher_seconds", "status", "note"]


def frame_of(*records: dict) -> pd.DataFrame:
    """Store-shaped long frame; each record gives method/dataset/metric/value and optionally more."""
    rows = []
    for rec in records:
        row = dict(run_key=f"k-{rec.get('method', 'baseline')}-{rec.get('seed', 0)}-{rec.get('scale', 2)}",
                   matrix="m", method="baseline", label="Student", arch="edsr", student="s", scale=2, seed=0,
                   profile="paper", dataset="Set5", metric="psnr", value=float("nan"), params=1,
                   train_seconds=1.0, teacher_seconds=None, status="ok", note="")
        row.update(rec)
        rows.append(row)
    return pd.DataFrame(rows, columns=FRAME_COLUMNS)


def published_of(*cells: dict) -> pd.DataFrame:
    rows = []
    for c in cells:
        row = dict(paper="p", table="table2", row="Student", column=c.get("dataset", "Set5"), method="baseline",
                   dataset="Set5", scale=2, metric="psnr", value=37.919, text="", decimals=3)
        row.update(c)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["scale"] = frame["scale"].astype("Int64")
    return frame


def only(report: CheckReport, **match):
    rows = [r for r in report.rows if all(getattr(r, k) == v for k, v in match.items())]
    assert len(rows) == 1, (match, report.rows)
    return rows[0]


# --------------------------------------------------------------------------- library


def test_published_value_used_in_tests_is_the_transcribed_one():
    pub = published_frame("ckd2022")
    cell = pub[(pub.table == "table2") & (pub.method == "baseline") & (pub.dataset == "Set5")]
    assert cell["value"].tolist() == [37.919]
    cell = pub[(pub.table == "table2") & (pub.method == "baseline") & (pub.dataset == "Set14")]
    assert cell["value"].tolist() == [33.439]


def test_tolerance_direction_comes_from_the_metric_registry():
    assert not Tolerance.for_metric("psnr", 0.05).lower_better
    assert Tolerance.for_metric("fid", 2.0).lower_better
    assert Tolerance.for_metric("niqe", 0.1).lower_better
    psnr = Tolerance.for_metric("psnr", 0.05)
    assert not psnr.regressed(37.869, 37.919)  # exactly the tolerance passes
    assert psnr.regressed(37.868, 37.919)
    assert not psnr.regressed(40.0, 37.919)  # better is never a regression
    fid = Tolerance.for_metric("fid", 2.0)
    assert fid.regressed(13.1, 11.0) and not fid.regressed(12.9, 11.0) and not fid.regressed(1.0, 11.0)


def test_psnr_within_tolerance_passes_and_mean_is_over_ok_seeds():
    frame = frame_of({"seed": 0, "value": 37.90, "run_key": "a"}, {"seed": 1, "value": 37.92, "run_key": "b"})
    report = check_published(frame, published_of({}))
    row = only(report, dataset="Set5")
    assert row.verdict == "pass" and row.seeds == 2
    assert math.isclose(row.measured, 37.91) and math.isclose(row.delta, 37.91 - 37.919)
    assert row.tolerance == DEFAULT_TOLERANCES["psnr"]
    assert report.comparable and not report.failed
    assert report.summary().startswith("PASS: 1 pass, 0 regression(s), 0 missing")


def test_psnr_beyond_tolerance_is_a_regression():
    report = check_published(frame_of({"value": 37.80}), published_of({}))
    row = only(report, dataset="Set5")
    assert row.verdict == "regression" and math.isclose(row.delta, 37.80 - 37.919)
    assert report.failed and report.summary().startswith("FAIL")
    assert "REGRESSION" in report.to_text()
    # A looser tolerance lets it pass.
    assert not check_published(frame_of({"value": 37.80}), published_of({}), tolerances={"psnr": 0.2}).failed


@pytest.mark.parametrize("metric, published, measured, verdict", [
    ("fid", 11.0, 12.9, "pass"),
    ("fid", 11.0, 13.5, "regression"),
    ("fid", 11.0, 5.0, "pass"),  # lower is better: far below is an improvement
    ("lpips", 0.20, 0.215, "regression"),
    ("pi", 3.0, 3.05, "pass"),
])
def test_lower_better_metrics(metric, published, measured, verdict):
    frame = frame_of({"metric": metric, "value": measured})
    report = check_published(frame, published_of({"metric": metric, "value": published}))
    assert only(report, metric=metric).verdict == verdict
    assert report.failed == (verdict == "regression")


def test_niqe_lower_better_against_baseline():
    frame = frame_of({"method": "baseline", "metric": "niqe", "value": 5.0},
                     {"method": "new", "label": "New", "metric": "niqe", "value": 5.3})
    report = check_against(frame, "new", "baseline")
    row = only(report, metric="niqe")
    assert row.verdict == "regression" and math.isclose(row.delta, 0.3)
    assert check_against(frame, "new", "baseline", tolerances={"niqe": 0.5}).rows[0].verdict == "pass"


def test_smoke_profile_is_never_compared():
    frame = frame_of({"profile": "smoke", "value": 30.0})  # far below the paper: must not be a regression
    report = check_published(frame, published_of({}))
    assert not report.comparable and not report.failed
    assert all(r.verdict == "not comparable" for r in report.rows) and report.rows
    assert all(r.delta is None for r in report.rows)
    assert "profile smoke is not comparable to published numbers: nothing was checked" in report.note
    assert report.summary().startswith("NOT CHECKED")


def test_custom_profile_is_not_comparable_either():
    report = check_published(frame_of({"profile": "long", "value": 37.919}), published_of({}))
    assert not report.comparable
    assert "profile long is not comparable to published numbers" in report.note


def test_failed_run_is_missing_with_its_error_and_fails_only_when_strict():
    frame = frame_of({"status": "failed", "dataset": None, "metric": None, "note": "TrainingDiverged: loss is nan"})
    report = check_published(frame, published_of({}))
    row = only(report, dataset="Set5")
    assert row.verdict == "missing" and "run failed: TrainingDiverged: loss is nan" in row.note
    assert not report.failed and report.summary().startswith("NOTHING COMPARED")
    assert "missing does not fail without --strict" in report.summary()
    strict = check_published(frame, published_of({}), strict=True)
    assert strict.failed and "--strict" in strict.summary()


def test_one_failed_seed_among_ok_ones_is_noted():
    frame = frame_of({"seed": 0, "run_key": "a", "value": 37.92},
                     {"seed": 1, "run_key": "b", "status": "failed", "dataset": None, "metric": None, "note": "OOM"})
    row = only(check_published(frame, published_of({})), dataset="Set5")
    assert row.verdict == "pass" and row.seeds == 1 and "1 of 2 run(s) failed (OOM)" in row.note


def test_not_computed_metric_is_missing_with_the_note():
    frame = frame_of({"metric": "fid", "value": float("nan"), "note": "not computed: weights missing"})
    row = only(check_published(frame, published_of({"metric": "fid", "value": 10.0})), metric="fid")
    assert row.verdict == "missing" and "weights missing" in row.note


def test_expected_cells_scope_missing_and_outside():
    frame = frame_of({"value": 37.92})
    pub = published_of({}, {"dataset": "Set14", "column": "Set14", "value": 33.439},
                       {"dataset": "Urban100", "column": "Urban100", "value": 31.7},
                       {"method": "fakd", "row": "FAKD", "value": 37.976})
    expected = {("baseline", "Set5", 2, "psnr"), ("baseline", "Set14", 2, "psnr")}
    report = check_published(frame, pub, expected=expected)
    assert only(report, dataset="Set5").verdict == "pass"
    assert only(report, dataset="Set14").verdict == "missing"
    assert len(report.rows) == 2
    assert any("2 published cell(s) outside this matrix" in d for d in report.details)


def test_unscored_metrics_and_ambiguous_ids_are_skipped_with_a_note():
    frame = frame_of({"value": 37.92})
    pub = published_of({}, {"metric": "train_hours", "value": 10.0, "dataset": None, "scale": None},
                       {"table": "table5", "row": "A", "method": "baseline", "value": 37.0},
                       {"table": "table5", "row": "B", "method": "baseline", "value": 38.0})
    report = check_published(frame, pub)
    assert len(report.rows) == 1 and report.rows[0].table == "table2"
    text = "\n".join(report.details)
    assert "train_hours" in text
    assert "table5: method id 'baseline' names rows 'A', 'B'; skipped as ambiguous" in text


def test_average_cell_is_the_mean_of_the_row_sets():
    frame = frame_of({"dataset": "Set5", "value": 38.0}, {"dataset": "Set14", "value": 34.0})
    pub = published_of({"value": 38.0}, {"dataset": "Set14", "column": "Set14", "value": 34.0},
                       {"dataset": "Average", "column": "Average", "value": 36.0})
    row = only(check_published(frame, pub), dataset="Average")
    assert row.verdict == "pass" and math.isclose(row.measured, 36.0)
    lone = published_of({"table": "table1", "dataset": "Average", "column": "Average", "value": 36.0})
    report = check_published(frame, lone)
    assert not report.rows and any("do not say which sets they average" in d for d in report.details)


def test_against_baseline_pass_regression_min_seeds_and_profile_note():
    frame = frame_of({"method": "baseline", "value": 30.00, "profile": "smoke", "run_key": "b"},
                     {"method": "ds", "label": "DS", "value": 29.97, "profile": "smoke", "run_key": "d"},
                     {"method": "baseline", "dataset": "Set14", "value": 28.0, "profile": "smoke", "run_key": "b"},
                     {"method": "ds", "label": "DS", "dataset": "Set14", "value": 27.9, "profile": "smoke",
                      "run_key": "d"})
    report = check_against(frame, "ds")
    assert report.comparable and report.profile == "smoke" and "profile smoke" in report.note
    assert only(report, dataset="Set5").verdict == "pass"
    assert only(report, dataset="Set14").verdict == "regression"
    assert report.failed
    gated = check_against(frame, "ds", min_seeds=2)
    assert {r.verdict for r in gated.rows} == {"missing"} and "--min-seeds 2" in gated.rows[0].note


def test_against_unknown_ids_list_the_row_ids():
    frame = frame_of({"value": 30.0})
    with pytest.raises(BenchError, match=r"unknown method id 'nope'; row ids in this matrix: baseline, ds"):
        check_against(frame, "nope", row_ids=["baseline", "ds"])
    with pytest.raises(BenchError, match="--against"):
        check_against(frame, "baseline", "baseline")


def test_tolerance_options_and_file(tmp_path):
    assert parse_tolerance_option("psnr=0.1") == ("psnr", 0.1)
    for bad in ("psnr", "psnr=", "psnr=abc", "psnr=-1"):
        with pytest.raises(BenchError):
            parse_tolerance_option(bad)
    path = tmp_path / "tol.yaml"
    path.write_text("psnr: 0.2\nfid: 5\n")
    tols = resolve_tolerances({"fid": 1.0}, path)
    assert tols["psnr"].abs == 0.2 and tols["fid"].abs == 1.0 and tols["ssim"].abs == 0.002
    with pytest.raises(BenchError, match="unknown metric 'psnrr'"):
        resolve_tolerances({"psnrr": 0.1})


# --------------------------------------------------------------------------- CLI

CHECK_MATRIX = """
name: tinycheck
description: tiny matrix compared with ckd2022
paper: ckd2022
train_set: embedded-train
eval_sets: [set5, set14]
metrics: [psnr, ssim]
scales: [2]
seeds: [0, 1]
default_profile: smoke
profiles:
  smoke: {iterations: 4, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 2}
  paper: {iterations: 8, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 4}
students:
  tiny: {arch: edsr, num_blocks: 1, num_feat: 4}
methods:
  - {method: baseline, label: Student}
  - {method: ds, label: DS}
"""


@pytest.fixture
def check_matrix(tmp_path):
    path = tmp_path / "tinycheck.yaml"
    path.write_text(CHECK_MATRIX)
    return path


def populate(matrix_path, results, profile, psnr, status="ok", error=""):
    """Store a result for every run: psnr[(row id, dataset)] (default 0.0); ssim 0.9 everywhere."""
    store = ResultStore(results / "results.sqlite")
    for spec in load_matrix(str(matrix_path)).expand(profile):
        scores = tuple(SetScore(ds, "psnr", psnr.get((spec.id, ds), 0.0)) for ds in ("Set5", "Set14"))
        scores += tuple(SetScore(ds, "ssim", 0.9) for ds in ("Set5", "Set14"))
        store.put(RunResult(key=spec.key(), spec=spec, status=status, error=error,
                            set_scores=scores if status == "ok" else ()))


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


PAPER_OK = {("baseline", "Set5"): 37.90, ("baseline", "Set14"): 33.45, ("ds", "Set5"): 37.95,
            ("ds", "Set14"): 33.46}


def test_cli_paper_profile_pass(tmp_path, check_matrix):
    populate(check_matrix, tmp_path, "paper", PAPER_OK)
    out = invoke("check", "--matrix", check_matrix, "--profile", "paper", "--results-dir", tmp_path)
    assert out.exit_code == 0, out.output
    assert "against published ckd2022" in out.output
    assert "PASS: 2 pass, 0 regression(s), 0 missing" in out.output
    assert "37.9000" in out.output and "37.9190" in out.output


def test_cli_paper_profile_regression_exits_1_and_tolerance_option(tmp_path, check_matrix):
    populate(check_matrix, tmp_path, "paper", PAPER_OK | {("baseline", "Set5"): 37.80})
    args = ["check", "--matrix", check_matrix, "--profile", "paper", "--results-dir", tmp_path]
    out = invoke(*args)
    assert out.exit_code == 1, out.output
    assert "REGRESSION" in out.output and "FAIL: 1 pass, 1 regression(s)" in out.output
    assert invoke(*args, "--tolerance", "psnr=0.2").exit_code == 0
    tol = tmp_path / "tol.yaml"
    tol.write_text("psnr: 0.2\n")
    assert invoke(*args, "--tolerances", tol).exit_code == 0
    bad = invoke(*args, "--tolerance", "psnr")
    assert bad.exit_code == 2 and "expected METRIC=VALUE" in bad.output


def test_cli_smoke_profile_not_compared_exit_0(tmp_path, check_matrix):
    populate(check_matrix, tmp_path, "smoke", {("baseline", "Set5"): 25.0, ("baseline", "Set14"): 24.0})
    out = invoke("check", "--matrix", check_matrix, "--profile", "smoke", "--results-dir", tmp_path)
    assert out.exit_code == 0, out.output
    assert "profile smoke is not comparable to published numbers: nothing was checked" in out.output
    assert "NOT CHECKED" in out.output and "REGRESSION" not in out.output and "PASS" not in out.output


def test_cli_failed_runs_missing_and_strict(tmp_path, check_matrix):
    populate(check_matrix, tmp_path, "paper", {}, status="failed", error="TrainingDiverged: loss is nan")
    args = ["check", "--matrix", check_matrix, "--profile", "paper", "--results-dir", tmp_path]
    out = invoke(*args)
    assert out.exit_code == 0, out.output
    assert "run failed: TrainingDiverged: loss is nan" in out.output and "2 missing" in out.output
    assert invoke(*args, "--strict").exit_code == 1


def test_cli_method_against_baseline(tmp_path, check_matrix):
    populate(check_matrix, tmp_path, "smoke", {("baseline", "Set5"): 30.0, ("ds", "Set5"): 30.02,
                                               ("baseline", "Set14"): 28.0, ("ds", "Set14"): 27.99})
    args = ["check", "--matrix", check_matrix, "--results-dir", tmp_path, "--method", "ds"]
    out = invoke(*args)
    assert out.exit_code == 0, out.output
    assert "ds against baseline, both at profile smoke" in out.output and "PASS: 4 pass" in out.output

    populate(check_matrix, tmp_path, "smoke", {("baseline", "Set5"): 30.0, ("ds", "Set5"): 29.8})
    out = invoke(*args, "--against", "baseline")
    assert out.exit_code == 1, out.output
    assert "REGRESSION" in out.output


@pytest.mark.parametrize("extra, needle", [
    (["--method", "nope"], "--method: unknown method id 'nope' in matrix tinycheck; row ids: baseline, ds"),
    (["--method", "ds", "--against", "fakd"], "--against: unknown method id 'fakd'"),
    (["--against", "baseline"], "--against needs --method"),
])
def test_cli_bad_ids_exit_2(tmp_path, check_matrix, extra, needle):
    populate(check_matrix, tmp_path, "smoke", {})
    out = invoke("check", "--matrix", check_matrix, "--results-dir", tmp_path, *extra)
    assert out.exit_code == 2, out.output
    assert needle in out.output and "Traceback" not in out.output


def test_cli_nothing_stored_exit_2(tmp_path, check_matrix):
    out = invoke("check", "--matrix", check_matrix, "--profile", "paper", "--results-dir", tmp_path / "empty")
    assert out.exit_code == 2 and "bench run --matrix" in out.output
    assert not (tmp_path / "empty" / "results.sqlite").exists()
    populate(check_matrix, tmp_path, "smoke", {})  # a store, but not of the paper profile
    out = invoke("check", "--matrix", check_matrix, "--profile", "paper", "--results-dir", tmp_path)
    assert out.exit_code == 2 and "no stored runs of matrix tinycheck at profile paper" in out.output


def test_cli_matrix_without_paper_exit_2(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_MATRIX)
    out = invoke("check", "--matrix", path, "--results-dir", tmp_path)
    assert out.exit_code == 2
    assert "matrix tiny has no published tables; use --method/--against" in out.output


def test_cli_help_lists_the_options():
    out = invoke("check", "--help")
    assert out.exit_code == 0
    for opt in ("--matrix", "--profile", "--results-dir", "--seeds", "--method", "--against", "--tolerance",
                "--tolerances", "--strict", "--plugin"):
        assert opt in out.output
