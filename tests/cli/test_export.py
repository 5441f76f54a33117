"""`bench export`: the whole store (or one matrix's rows) in long form, as CSV or Parquet."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from click.testing import CliRunner

from benchmarks.cli import main
from benchmarks.export import COLUMNS
from tests.reports.kd_store import IMAGES, build, psnr_of


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def kd(tmp_path_factory):
    return build(tmp_path_factory.mktemp("export"), seeds=(0, 1), failed=("clsd",))


def test_whole_store_to_csv(kd, tmp_path):
    _, results = kd
    out = invoke("export", "--results-dir", results, "--output", tmp_path / "all.csv")
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(tmp_path / "all.csv")
    assert list(frame.columns) == COLUMNS
    scores = frame[frame["metric"].notna()]
    # bicubic, teacher (seed 0 only: every row's teacher is the same cell), baseline x2 seeds, fakd x2 seeds
    assert scores["run_key"].nunique() == 1 + 1 + 2 + 2 and len(scores) == 6 * 2
    fakd = scores[(scores["method"] == "fakd") & (scores["seed"] == 1) & (scores["metric"] == "psnr")].iloc[0]
    assert math.isclose(fakd["value"], sum(psnr_of("fakd", im, 1) for im in IMAGES) / len(IMAGES))
    assert fakd["arch"] == "edsr" and fakd["params"] == 12_000 and fakd["profile"] == "smoke"
    assert fakd["git_revision"] == "abc123" and fakd["hardware"] == "CPU: synthetic"
    assert fakd["train_seconds"] == 14.0 and fakd["teacher_seconds"] == 17.0  # the teacher cell's seconds
    assert len(fakd["code_version"]) == 16 and len(fakd["eval_code_version"]) == 16
    assert fakd["dataset"] == "embedded-test" and '"num_feat": 8' in fakd["options"]
    failed = frame[frame["status"] == "failed"]
    assert len(failed) == 2 and failed["metric"].isna().all() and "planted failure" in failed["note"].iloc[0]
    assert "2 failed cells" in out.output


def test_one_matrix_to_parquet_under_its_row_ids(kd, tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs pyarrow")
    matrix, results = kd
    out = invoke("export", "--matrix", matrix, "--profile", "smoke", "--results-dir", results,
                 "-o", tmp_path / "m.parquet")
    assert out.exit_code == 0, out.output
    frame = pd.read_parquet(tmp_path / "m.parquet")
    assert set(frame["method"]) == {"baseline", "fakd", "clsd", "bicubic", "teacher"}
    assert set(frame.loc[frame["method"] == "baseline", "label"]) == {"Student (no KD)"}
    assert (frame["matrix"] == "kdsynth").all() and (frame["profile"] == "smoke").all()
    teacher = frame[frame["method"] == "teacher"]
    assert set(teacher["student"]) == {"teach"} and len(teacher) == 2  # one teacher cell, psnr and ssim
    assert set(frame.loc[frame["method"] == "clsd", "status"]) == {"failed"}


@pytest.mark.parametrize("args, needle", [
    (["--output", "x.xlsx"], "unknown file type '.xlsx'; valid choices: .csv, .parquet"),
    (["--output", "x.csv", "--profile", "smoke"], "--profile applies with --matrix"),
])
def test_bad_options(kd, tmp_path, args, needle):
    _, results = kd
    out = invoke("export", "--results-dir", results, *[a if not a.startswith("x.") else tmp_path / a for a in args])
    assert out.exit_code == 2 and needle in out.output


def test_no_store_is_an_error_and_creates_nothing(tmp_path):
    out = invoke("export", "--results-dir", tmp_path / "none", "--output", tmp_path / "a.csv")
    assert out.exit_code == 2 and "no result store" in out.output
    assert not (tmp_path / "none").exists() and not (tmp_path / "a.csv").exists()
