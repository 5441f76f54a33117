"""`bench ls runs --matrix NAME` (one matrix's cells, and how many are not run yet) and
`--status running` (the steps a live `bench run` holds now, with since / heartbeat / process)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from benchmarks.cli import main
from benchmarks.lease import Owner
from benchmarks.matrix import load_matrix
from benchmarks.reporting import with_teachers
from benchmarks.store import ResultStore
from tests.conftest import TINY_MATRIX
from tests.reports.kd_store import build


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def kd(tmp_path):
    return build(tmp_path, failed=("clsd",))


def test_matrix_filter_keeps_its_cells_and_counts_the_rest(kd, tmp_path):
    matrix, results = kd
    other = tmp_path / "tiny.yaml"
    other.write_text(TINY_MATRIX)
    out = invoke("ls", "runs", "--results-dir", results, "--matrix", other)
    # only the bicubic cells are shared (a load cell does not depend on the matrix): 1 model + 2 evals
    assert out.output.strip().splitlines()[-1] == f"matrix {other}: 3 cells: 3 ok; none stale; 6 of its 9 cells " \
        "not run yet"

    out = invoke("ls", "runs", "--results-dir", results, "--matrix", matrix)
    lines = out.output.strip().splitlines()
    # smoke: 5 model cells (bicubic, teacher, baseline, fakd, clsd), 4 rows x 2 metrics scored (clsd failed)
    assert lines[-1].startswith(f"matrix {matrix}: 13 cells: 12 ok, 1 failed; none stale;")
    assert "of its" in lines[-1] and "cells not run yet" in lines[-1]  # the paper profile's cells
    assert "    error: RuntimeError: planted failure …" in out.output

    failed = invoke("ls", "runs", "--results-dir", results, "--matrix", matrix, "--status", "failed")
    assert [line.split()[2] for line in failed.output.splitlines() if not line.startswith(" ")][:-1] == ["failed"]


def test_running_lists_live_leases_with_times_and_owner(kd):
    matrix, results = kd
    store = ResultStore(results / "results.sqlite")
    spec = next(s for s in with_teachers(load_matrix(str(matrix)).expand("paper")) if s.id == "fakd")
    from benchmarks.graph.cells import cell_key

    key = cell_key(spec.cell)
    claim = store.acquire_lease(key, Owner.current(), [key], lambda lease: False)
    assert claim.state == "acquired"
    dead = Owner("elsewhere:1:x", "elsewhere", 1, "")
    store.acquire_lease("eval:" + key + ":embedded-test", dead, [], lambda lease: False)
    with store._write() as conn:  # the other driver stopped beating five minutes ago: dead
        conn.execute("UPDATE leases SET heartbeat = heartbeat - 300 WHERE owner = ?", (dead.id,))

    out = invoke("ls", "runs", "--results-dir", results, "--status", "running")
    lines = out.output.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(key[:12]) and " running " in lines[0]
    assert "since 20" in lines[0] and "heartbeat" in lines[0] and "pid" in lines[0]
    assert lines[-1].startswith("1 shown (status running) of 13 cells") and "1 step(s) running now" in lines[-1]

    scoped = invoke("ls", "runs", "--results-dir", results, "--status", "running", "--matrix", matrix)
    assert "train FAKD (tiny) x2 s0" in scoped.output  # its description, from the matrix's graph
    everything = invoke("ls", "runs", "--results-dir", results)
    assert sum(" since " in line for line in everything.output.splitlines()) == 1


def test_matrix_option_belongs_to_runs():
    out = CliRunner().invoke(main, ["ls", "methods", "--matrix", "quick"])
    assert out.exit_code == 2 and "bench ls runs" in out.output
