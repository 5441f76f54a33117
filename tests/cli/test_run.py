"""`bench run` / `bench report` end to end on a tiny matrix; skipping finished runs; bad input."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from benchmarks.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_run_trains_evaluates_stores_reports_and_skips_done(tmp_path, tiny_matrix):
    results = tmp_path / "results"
    out = invoke("run", "--matrix", str(tiny_matrix), "--results-dir", str(results), "--quiet")
    assert out.exit_code == 0, out.output
    assert "6 cells: 0 done, 1 to train, 1 to load, 4 to evaluate (4 jobs)" in out.output  # the plan, first
    with sqlite3.connect(results / "results.sqlite") as conn:
        rows = conn.execute("SELECT kind, status FROM cells WHERE kind != 'eval' ORDER BY kind").fetchall()
        psnr = conn.execute("SELECT COUNT(*) FROM eval_scores WHERE metric='psnr' AND value > 10").fetchone()[0]
    assert rows == [("load", "ok"), ("train", "ok")]
    assert psnr == 2
    html = (results / "reports" / "tiny-smoke" / "index.html").read_text()
    assert "Bicubic" in html and "Tiny baseline" in html and "smoke" in html

    again = invoke("run", "--matrix", str(tiny_matrix), "--results-dir", str(results), "--quiet")
    assert again.exit_code == 0
    assert "6 cells: 6 done" in again.output and "[1/" not in again.output

    rep = invoke("report", "--matrix", str(tiny_matrix), "--results-dir", str(results), "--out", str(tmp_path / "rep"))
    assert rep.exit_code == 0 and (tmp_path / "rep" / "index.html").is_file()


@pytest.mark.parametrize("args, needle", [
    (["run", "--matrix", "nonexistent"], "unknown matrix 'nonexistent'; valid choices:"),
    (["run", "--profile", "huge"], "unknown profile 'huge'; valid choices: smoke, paper"),
    (["eval", "--arch", "nope", "--scale", "2", "--datasets", "embedded-test"], "unknown arch 'nope'; valid choices:"),
    (["eval", "--arch", "bicubic", "--scale", "2", "--datasets", "Set6"], "unknown dataset"),
    (["eval", "--arch", "bicubic", "--scale", "2", "--datasets", "embedded-test", "--metrics", "psnrr"],
     "unknown metric 'psnrr'"),
    (["eval", "--arch", "imdn", "--scale", "2", "--datasets", "embedded-test"], "give --weights FILE"),
    (["eval", "--arch", "imdn", "--scale", "2", "--weights", "/nonexistent/w.pth"], "/nonexistent/w.pth"),
])
def test_bad_input_is_one_line_and_exit_code_2(args, needle):
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 2, out.output
    assert needle in out.output
    assert "Traceback" not in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_malformed_matrix_file_exit_code_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    out = CliRunner().invoke(main, ["run", "--matrix", str(bad)])
    assert out.exit_code == 2 and "malformed YAML" in out.output


def test_scale_outside_choices_is_usage_error():
    out = CliRunner().invoke(main, ["eval", "--arch", "bicubic", "--scale", "5"])
    assert out.exit_code == 2


def test_eval_bicubic_writes_csv_and_per_image(tmp_path):
    out_csv = tmp_path / "o.csv"
    out = invoke("eval", "--arch", "bicubic", "--scale", "3", "--datasets", "embedded-test", "--output", str(out_csv),
                 "--quiet")
    assert out.exit_code == 0, out.output
    lines = out_csv.read_text().splitlines()
    assert lines[0] == "dataset,scale,metric,value"
    assert lines[1].startswith("embedded-test,3,psnr,")
    per_image = (tmp_path / "o.per_image.csv").read_text().splitlines()
    assert per_image[0] == "dataset,scale,image,metric,value" and len(per_image) > 2


@pytest.mark.parametrize("what", ["matrices", "methods", "archs", "datasets", "metrics"])
def test_ls(what):
    out = invoke("ls", what)
    assert out.exit_code == 0 and out.output.startswith(f"{what}:")


def test_every_command_has_help():
    for cmd in main.list_commands(None):
        out = CliRunner().invoke(main, [cmd, "--help"])
        assert out.exit_code == 0 and "Usage:" in out.output
