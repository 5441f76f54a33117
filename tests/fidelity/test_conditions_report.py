"""The report's conditions state every inferred setting with its source, where each teacher came
from, which rows are reconstructions, and the teacher beside its architecture's published numbers.

Stored scores here are SYNTHETIC (tests/test_reporting.py's made-up values, no training); only the
published numbers (benchmarks/published/*.yaml) and the matrix annotations are real.
"""

from __future__ import annotations

import html as html_lib
import re

import pytest
from click.testing import CliRunner

from benchmarks.annotations import for_profile
from benchmarks.cli import main
from benchmarks.fidelity import anchor_rows, fidelity_conditions
from benchmarks.matrix import load_matrix
from benchmarks.metrics.weights import set_weights_dir
from benchmarks.reporting import with_teachers
from benchmarks.store import ResultStore
from tests.test_reporting import build_report


def text(page: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def no_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_WEIGHTS_DIR", str(tmp_path / "empty-weights"))
    set_weights_dir(None)


def test_paper_report_from_a_smoke_store_states_every_inferred_setting(tmp_path, no_weights):
    build_report(tmp_path, "smoke")  # a store holding (synthetic) smoke results of clsd2023
    out = CliRunner().invoke(main, ["report", "--matrix", "clsd2023", "--profile", "paper",
                                    "--results-dir", str(tmp_path), "--out", str(tmp_path / "paper")])
    assert out.exit_code == 0, out.output
    page = (tmp_path / "paper" / "index.html").read_text(encoding="utf-8")
    assert "srkd-bench: clsd2023 (paper profile)" in page
    section = text(page[page.index('id="inferred-settings"'):page.index('id="teacher-sources"')])
    matrix = load_matrix("clsd2023")
    expected = [a for a in for_profile(matrix.annotations, "paper")]
    assert len(expected) >= 30
    for a in expected:
        row = f"paper {a.setting} {a.value} {a.source_label} {a.note}".strip()
        assert row in section, row
    for setting in ("profile paper: iterations", "profile paper: patch_size", "profile paper: milestones",
                    "profile paper: pixel_range", "profile paper: teacher_weights.edsr-32x256", "epoch",
                    "x3/x4 initialisation", "fakd: taps (default)", "clsd: detach_main (default)"):
        assert setting in section
    teachers = text(page[page.index('id="teacher-sources"'):page.index('id="reconstructed"')])
    for scale, name in ((2, "edsr_x2-0edfb8a3.pt"), (3, "edsr_x3-ea3ef2c6.pt"), (4, "edsr_x4-4f62e9ef.pt")):
        assert f"Teacher edsr-32x256 (trained from scratch) x{scale}: trained from scratch" in teachers
        assert f"checkpoint {name} not found" in teachers
        assert f"download https://cv.snu.ac.kr/research/EDSR/models/{name}" in teachers
    recon = text(page[page.index('id="reconstructed"'):page.index('id="anchors"')])
    assert "LFD (LSFD, reconstructed) ( lsfd ): reconstructed" in recon
    assert "not measured" in text(page[page.index('id="anchors"'):])  # paper rows have not run


def test_smoke_report_leaves_out_what_smoke_overrides(tmp_path, no_weights):
    _, page = build_report(tmp_path, "smoke")
    section = text(page[page.index('id="inferred-settings"'):page.index('id="teacher-sources"')])
    assert "profile smoke: pixel_range 255 cited code" in section
    assert "student edsr-16x64: num_blocks" not in section  # smoke shrinks the student
    assert "train_set div2k-train" not in section          # smoke trains on embedded photos
    assert "profile paper:" not in section


def test_teacher_beside_the_edsr_papers_numbers(tmp_path, no_weights):
    _, page = build_report(tmp_path, "paper")  # SYNTHETIC teacher: base + 0.3 dB
    matrix = load_matrix("clsd2023")
    specs = matrix.expand("paper")
    frame = ResultStore(tmp_path / "results.sqlite").frame(with_teachers(specs))
    rows = {(r["row"], r["scale"], r["dataset"], r["metric"]): r for r in anchor_rows(matrix, specs, frame)}
    teacher = rows["Teacher edsr-32x256 (trained from scratch)", 2, "Set5", "psnr"]
    assert teacher["published"] == "38.11" and teacher["paper"] == "edsr2017 (EDSR)"
    assert teacher["measured"] == pytest.approx(37.9 + 0.3) and teacher["delta"] == pytest.approx(0.09)
    baseline = rows["Baseline", 4, "Urban100", "psnr"]
    assert baseline["published"] == "26.04" and baseline["delta"] == pytest.approx(25.9 - 26.04)
    assert ("Baseline", 3, "Set5", "psnr") not in rows  # EDSR-baseline x3 is not transcribed
    assert not any(r[0] == "L_SR" for r in rows)       # the ablation row shares the baseline's run
    anchors = text(page[page.index('id="anchors"'):])
    assert "Teacher edsr-32x256 (trained from scratch) ×2 Set5 psnr 38.11 38.2 0.09 edsr2017 (EDSR)" in anchors


def test_fakd2020_compares_in_its_own_tables_not_twice(no_weights):
    matrix = load_matrix("fakd2020")
    specs = matrix.expand("paper")
    import pandas as pd

    assert anchor_rows(matrix, specs, pd.DataFrame(columns=["run_key", "status"])) == []
    conditions = fidelity_conditions(matrix, specs, pd.DataFrame(columns=["run_key", "status"]))["fidelity"]
    assert conditions["reconstructed"] == []
    assert any("RCAN_BIX2.pt not found" in line and "drive.google.com" in line for line in conditions["teachers"])
