"""`bench run` + `bench report --format ...` on a tiny KD matrix trained for real: the report has the
KD table, the gains section and a visual comparison whose SR crops are re-generated from the stored
models (no --save-images) and are the very outputs that were scored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from benchmarks.cli import main
from benchmarks.matrix import load_matrix
from benchmarks.metrics import get_metric
from benchmarks.reporting import with_teachers
from benchmarks.sr_outputs import REGENERATED, ModelOutputs
from benchmarks.store import ResultStore

KD_TINY = """
name: kdtiny
description: tiny KD matrix trained for real
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr, ssim]
scales: [2]
seeds: [0]
default_profile: smoke
profiles:
  smoke: {iterations: 2, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 2}
  paper: {iterations: 8, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 4}
students:
  tiny: {arch: edsr, num_blocks: 3, num_feat: 4}
teachers:
  teach: {arch: edsr, num_blocks: 3, num_feat: 8}
methods:
  - {method: baseline, label: Student (no KD)}
  - {method: fakd, label: FAKD, teacher: teach}
  - {method: clsd, label: CLSD, cfg: {head_blocks: 1}}
references:
  - {label: Bicubic, arch: bicubic}
figures:
  - {dataset: embedded-test, image: camera, box: [120, 96, 64, 48]}
"""


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("kdtiny")
    matrix = root / "kdtiny.yaml"
    matrix.write_text(KD_TINY)
    out = invoke("run", "--matrix", matrix, "--results-dir", root / "results", "--quiet", "--no-report")
    assert out.exit_code == 0, out.output
    return matrix, root / "results"


def test_report_has_the_kd_table_gains_and_a_regenerated_figure(trained):
    matrix, results = trained
    out = invoke("report", "--matrix", matrix, "--results-dir", results)
    assert out.exit_code == 0, out.output
    folder = results / "reports" / "kdtiny-smoke"
    html = (folder / "index.html").read_text()
    for label in ("Student (no KD)", "FAKD", "CLSD", "Bicubic", "Teacher teach"):
        assert label in html
    assert 'id="gains"' in html and 'src="gains.png"' in html
    assert 'src="figures/compare_embedded-test_camera.png"' in html and REGENERATED in html
    assert (folder / "figures" / "compare_embedded-test_camera.pdf").read_bytes().startswith(b"%PDF")
    for name in ("tables.tex", "tables.md", "tables.csv"):
        assert (folder / name).is_file() and f'href="{name}"' in html, name
    assert (folder / "latex" / "psnr.tex").is_file() and (folder / "latex" / "ssim.tex").is_file()
    assert f"latex: {folder / 'tables.tex'}" in out.output


def test_regenerated_outputs_are_the_scored_ones(trained):
    matrix, results = trained
    specs = with_teachers(load_matrix(str(matrix)).expand())
    store = ResultStore(results / "results.sqlite")
    images = store.image_frame(specs)
    outputs = ModelOutputs(store, results)
    hr = outputs.hr("embedded-test", 2, "camera")
    psnr = get_metric("psnr")
    for spec in specs:
        sr, source = outputs.sr(spec, "embedded-test", "camera")
        assert source == REGENERATED and sr.shape == hr.shape and sr.dtype == np.uint8
        stored = images[(images["key"] == spec.key()) & (images["image"] == "camera")
                        & (images["metric"] == "psnr")]["value"].iloc[0]
        assert psnr.score([sr], [hr], crop_border=2).per_image[0] == pytest.approx(stored, abs=1e-6)


def test_format_option_selects_the_files(trained, tmp_path):
    matrix, results = trained
    out = invoke("report", "--matrix", matrix, "--results-dir", results, "--out", tmp_path / "r", "--format", "md")
    assert out.exit_code == 0, out.output
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["tables.md"]
    table = (tmp_path / "r" / "tables.md").read_text()
    assert "| ×2 | Student (no KD) |" in table and "*Bicubic*" in table
    bad = invoke("report", "--matrix", matrix, "--results-dir", results, "--format", "html,pdf")
    assert bad.exit_code == 2 and "--format: unknown value 'pdf'; valid choices: html, latex, md, csv" in bad.output


def test_csv_table_matches_the_store(trained, tmp_path):
    matrix, results = trained
    invoke("report", "--matrix", matrix, "--results-dir", results, "--out", tmp_path / "c", "--format", "csv")
    csv = pd.read_csv(tmp_path / "c" / "tables.csv")
    frame = ResultStore(results / "results.sqlite").frame(with_teachers(load_matrix(str(matrix)).expand()))
    fakd = frame[(frame["method"] == "fakd") & (frame["metric"] == "psnr")]["value"].iloc[0]
    assert csv[(csv["method"] == "fakd") & (csv["metric"] == "psnr")]["mean"].iloc[0] == pytest.approx(fakd)
