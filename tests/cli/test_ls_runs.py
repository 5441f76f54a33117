"""`bench ls runs`: the stored cells of a results folder, their statuses, the ones a code change
made stale (and which modules changed), legacy results, and a folder with no store."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.cli import main
from tests.conftest import TINY_MATRIX


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> Path:
    """The tiny matrix run once (6 cells: train, load, 4 evals); tests get a copy."""
    root = tmp_path_factory.mktemp("tiny")
    matrix = root / "tiny.yaml"
    matrix.write_text(TINY_MATRIX)
    out = invoke("run", "--matrix", matrix, "--results-dir", root / "results", "--quiet", "--no-report")
    assert out.exit_code == 0, out.output
    return root / "results"


@pytest.fixture
def results(tiny_store, tmp_path) -> Path:
    dest = tmp_path / "results"
    dest.mkdir()
    for f in tiny_store.glob("results.sqlite*"):
        shutil.copy(f, dest / f.name)
    return dest


def _cells(results: Path) -> list[tuple[str, str, str, dict]]:
    with sqlite3.connect(results / "results.sqlite") as conn:
        rows = conn.execute("SELECT key, kind, status, code_json FROM cells").fetchall()
    return [(k, kind, status, json.loads(code)) for k, kind, status, code in rows]


def _set_code(results: Path, key: str, code: dict) -> None:
    with sqlite3.connect(results / "results.sqlite") as conn:
        conn.execute("UPDATE cells SET code_json = ? WHERE key = ?", (json.dumps(code), key))


def _listed_keys(output: str) -> set[str]:
    """Short keys of the cell lines (not the indented details, not the summary)."""
    return {line.split()[0] for line in output.splitlines()
            if line and not line.startswith(" ") and len(line.split()[0]) == 12 and " cells" not in line}


def test_lists_every_cell_with_its_status_and_a_summary(results):
    out = invoke("ls", "runs", "--results-dir", results)
    assert out.exit_code == 0, out.output
    cells = _cells(results)
    assert len(cells) == 6
    assert _listed_keys(out.output) == {k[:12] for k, *_ in cells}
    lines = out.output.strip().splitlines()
    kinds = sorted(line.split()[1] for line in lines[:-1])
    assert kinds == ["eval"] * 4 + ["load", "train"]
    assert all(line.split()[2] == "ok" for line in lines[:-1])
    assert "train Tiny baseline" in out.output and "Bicubic" in out.output
    assert lines[-1] == "6 cells: 6 ok; none stale"


def test_stale_lists_exactly_the_cells_whose_code_changed_and_names_the_module(results):
    cells = _cells(results)
    with_baseline = {k for k, _, _, code in cells if "methods.baseline" in code}
    assert with_baseline  # the train cell of the baseline method
    for key, _, _, code in cells:
        if key in with_baseline:
            _set_code(results, key, code | {"methods.baseline": "0" * 16})

    out = invoke("ls", "runs", "--results-dir", results, "--stale")
    assert out.exit_code == 0, out.output
    assert _listed_keys(out.output) == {k[:12] for k in with_baseline}
    assert "changed: methods.baseline" in out.output
    assert f"{len(with_baseline)} stale (code changed since they ran)" in out.output
    assert out.output.strip().splitlines()[-1].startswith(f"{len(with_baseline)} shown (stale) of 6 cells: 6 ok")

    same = invoke("ls", "runs", "--results-dir", results, "--status", "stale")
    assert same.output == out.output

    everything = invoke("ls", "runs", "--results-dir", results)
    assert len(_listed_keys(everything.output)) == 6
    flagged = {line.split()[0] for line in everything.output.splitlines() if " stale " in line and "cells" not in line}
    assert flagged == {k[:12] for k in with_baseline}


def test_a_module_that_no_longer_exists_makes_a_cell_stale(results):
    key, _, _, code = next(c for c in _cells(results) if c[1] == "eval")
    _set_code(results, key, code | {"methods.old": "1" * 16, "bench_plugin_mine": "2" * 16})
    out = invoke("ls", "runs", "--results-dir", results, "--stale")
    assert _listed_keys(out.output) == {key[:12]}
    assert "removed: methods.old" in out.output
    assert "bench_plugin_mine" in out.output.splitlines()[-1]  # a plug-in not loaded: not checked, said so
    assert "changed:" not in out.output


def test_status_filter_and_error_on_one_line(results):
    train = next(k for k, kind, *_ in _cells(results) if kind == "train")
    evals = [k for k, kind, *_ in _cells(results) if kind == "eval"]
    with sqlite3.connect(results / "results.sqlite") as conn:
        conn.execute("UPDATE cells SET status='failed', error=? WHERE key=?",
                     ("RuntimeError: out of memory\nTraceback (most recent call last): ...", train))
        conn.execute("UPDATE cells SET status='blocked', error=? WHERE key=?",
                     (f"blocked: input {train} failed (RuntimeError: out of memory)", evals[0]))

    out = invoke("ls", "runs", "--results-dir", results, "--status", "failed")
    assert out.exit_code == 0, out.output
    assert _listed_keys(out.output) == {train[:12]}
    assert "    error: RuntimeError: out of memory …" in out.output
    assert "Traceback" not in out.output
    assert out.output.strip().splitlines()[-1] == \
        "1 shown (status failed) of 6 cells: 4 ok, 1 failed, 1 blocked; none stale"

    blocked = invoke("ls", "runs", "--results-dir", results, "--status", "blocked")
    assert _listed_keys(blocked.output) == {evals[0][:12]}
    assert f"error: blocked: input {train}" in blocked.output

    ok = invoke("ls", "runs", "--results-dir", results, "--status", "ok")
    assert len(_listed_keys(ok.output)) == 4


def test_legacy_runs_table_is_reported(results):
    with sqlite3.connect(results / "results.sqlite") as conn:
        conn.execute("CREATE TABLE runs (key TEXT PRIMARY KEY, status TEXT)")
        conn.executemany("INSERT INTO runs VALUES (?, ?)", [("old1", "ok"), ("old2", "failed")])
    out = invoke("ls", "runs", "--results-dir", results)
    assert out.exit_code == 0, out.output
    assert out.output.strip().splitlines()[-1] == (
        "2 results of the earlier run-per-row schema are kept in table `runs` and no longer used "
        "(their keys predate the run graph)")
    assert len(_listed_keys(out.output)) == 6  # legacy rows are not listed as cells


def test_no_store_says_so_and_creates_nothing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = invoke("ls", "runs", "--results-dir", empty)
    assert out.exit_code == 0, out.output
    assert len(out.output.strip().splitlines()) == 1 and "no results store" in out.output
    assert list(empty.iterdir()) == []

    missing = tmp_path / "missing"
    out = invoke("ls", "runs", "--results-dir", missing)
    assert out.exit_code == 0 and "no results store" in out.output
    assert not missing.exists()


def test_status_options_belong_to_runs():
    out = CliRunner().invoke(main, ["ls", "methods", "--stale"])
    assert out.exit_code == 2 and "bench ls runs" in out.output
