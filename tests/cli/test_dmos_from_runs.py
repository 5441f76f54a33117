"""`bench dmos export --matrix`: a blinded study built from finished runs' saved outputs."""

from __future__ import annotations

import csv

from click.testing import CliRunner

from benchmarks.cli import main


def test_export_from_finished_runs(tmp_path, tiny_matrix):
    results = tmp_path / "results"
    run = CliRunner().invoke(main, ["run", "--matrix", str(tiny_matrix), "--results-dir", str(results),
                                    "--save-images", "--no-report", "--quiet"])
    assert run.exit_code == 0, run.output
    out = CliRunner().invoke(main, ["dmos", "export", "--matrix", str(tiny_matrix), "--results-dir", str(results),
                                    "--dataset", "embedded-test", "--scale", "2", "--n", "2", "--out",
                                    str(tmp_path / "study")])
    assert out.exit_code == 0, out.output
    with (tmp_path / "study" / "key.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    methods = {r["method"] for r in rows}
    assert {"Bicubic", "Tiny baseline"} <= methods
    assert len({r["image"] for r in rows}) == 2


def test_export_without_saved_images_is_a_clear_error(tmp_path, tiny_matrix):
    out = CliRunner().invoke(main, ["dmos", "export", "--matrix", str(tiny_matrix), "--results-dir", str(tmp_path),
                                    "--dataset", "embedded-test", "--scale", "2", "--out", str(tmp_path / "s")])
    assert out.exit_code == 2 and "--save-images" in out.output
