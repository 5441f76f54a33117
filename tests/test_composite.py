"""Composite matrices (`--matrix full`): members planned together, one page each plus an index."""

from __future__ import annotations

import sqlite3
import textwrap

import pytest
from click.testing import CliRunner

from benchmarks.cli import main
from benchmarks.composite import is_composite, load_composite
from benchmarks.errors import BenchError
from tests.conftest import TINY_MATRIX


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def composite(tmp_path):
    a = write(tmp_path, "a.yaml", TINY_MATRIX.replace("name: tiny", "name: alpha"))
    b = write(tmp_path, "b.yaml", TINY_MATRIX.replace("name: tiny", "name: beta").replace(
        "Tiny baseline", "Same student - other label"))
    return write(tmp_path, "both.yaml", f"name: both\ndescription: two\nincludes: [{a}, {b}]\n")


def test_members_share_cells_and_the_report_has_an_index(tmp_path, composite):
    results = tmp_path / "results"
    out = CliRunner().invoke(main, ["run", "--matrix", str(composite), "--results-dir", str(results), "--quiet"])
    assert out.exit_code == 0, out.output
    # the two members' student and bicubic are the same cells: planned once
    assert "6 cells: 0 done, 1 to train, 1 to load, 4 to evaluate" in out.output
    with sqlite3.connect(results / "results.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM cells WHERE kind = 'train'").fetchone()[0] == 1
    index = (results / "reports" / "both-smoke" / "index.html").read_text()
    assert 'href="alpha/index.html"' in index and 'href="beta/index.html"' in index
    assert "no published tables" in index
    assert "Same student - other label" in (results / "reports" / "both-smoke" / "beta" / "index.html").read_text()
    check = CliRunner().invoke(main, ["check", "--matrix", str(composite), "--results-dir", str(results)])
    assert "== alpha" in check.output and "== beta" in check.output


def test_the_shipped_full_matrix_includes_the_paper_matrices():
    assert is_composite("full")
    full = load_composite("full")
    assert {"clsd2023", "ckd2022"} <= {m.name for m in full.members}
    assert all(m.paper for m in full.members)
    for member, specs in full.expand("smoke"):
        assert specs and all(s.profile.name == "smoke" for s in specs)


def test_bad_composites_are_one_line_errors(tmp_path):
    bad = write(tmp_path, "bad.yaml", "name: bad\nincludes: [nope]\n")
    with pytest.raises(BenchError, match="includes: unknown matrix 'nope'"):
        load_composite(str(bad))
    odd = write(tmp_path, "odd.yaml", "name: odd\nincludes: [quick]\nmethods: []\n")
    with pytest.raises(BenchError, match="unknown field 'methods'"):
        load_composite(str(odd))


def test_the_index_leaves_each_papers_own_notes_to_its_page(tmp_path):
    from benchmarks.matrix import load_matrix
    from benchmarks.reporting import run_conditions
    from benchmarks.store import ResultStore

    matrix, store = load_matrix("esrgan-prune2024"), ResultStore(tmp_path / "results.sqlite")
    own = run_conditions(matrix, [], store, "bench report")["notes"]
    index = run_conditions(matrix, [], store, "bench report", paper_notes=False)["notes"]
    assert any("RRDBNet 23x64" in n for n in own) and not any("RRDBNet 23x64" in n for n in index)
