"""A corrupt or foreign results database is refused untouched; a full disk or unwritable folder is
one line and leaves a valid store."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import sqlite3

import pytest
from click.testing import CliRunner

from benchmarks.cli import main
from benchmarks.faults.compare import compare
from benchmarks.lease import LeasePolicy, owner_is_dead
from benchmarks.matrix import parse_matrix
from benchmarks.store import ImageScore, ResultStore, RunResult, SetScore, StoreError
from tests.test_matrix import tiny

from .conftest import bench, run_args, write_matrix


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(out) -> str:
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), out.output
    return lines[0]


def run_into(results, tiny_matrix):
    return CliRunner().invoke(main, ["run", "--matrix", str(tiny_matrix), "--results-dir", str(results), "--quiet",
                                     "--no-report"])


def filled_store(path):
    store = ResultStore(path)
    spec = parse_matrix(tiny()).expand()[0]
    store.put(RunResult(spec.key(), spec, "ok", params=5,
                        set_scores=(SetScore("embedded-test", "psnr", 30.0),),
                        image_scores=tuple(ImageScore("embedded-test", f"img{i}", "psnr", float(i)) for i in range(300))))
    return store


def foreign(path):
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
        conn.execute("INSERT INTO customers VALUES (1, 'Ada')")
    conn.close()


def other_layout(path):
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE cells (key TEXT PRIMARY KEY, value REAL)")
    conn.close()


def garbage(path):
    path.write_bytes(b"these are not the bytes of a SQLite database " * 40)


def broken_pages(path):
    filled_store(path)
    data = bytearray(path.read_bytes())
    data[4096 * 2:4096 * 3] = bytes((i * 7) % 256 for i in range(4096))  # a b-tree page, header intact
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("make, needle", [
    (garbage, "is not a SQLite file (corrupt or foreign)"),
    (broken_pages, "is corrupt (SQLite's quick_check: "),
    (foreign, "is not a srkd-bench results database (it holds tables customers)"),
    (other_layout, "has a 'cells' table of another layout (key, value)"),
])
def test_a_corrupt_or_foreign_database_is_refused_and_left_as_it_was(tmp_path, tiny_matrix, make, needle):
    results = tmp_path / "results"
    results.mkdir()
    db = results / "results.sqlite"
    make(db)
    before = digest(db)
    for args in (["run", "--matrix", str(tiny_matrix), "--results-dir", str(results), "--quiet", "--no-report"],
                 ["ls", "runs", "--results-dir", str(results)],
                 ["report", "--matrix", str(tiny_matrix), "--results-dir", str(results)]):
        line = one_line_error(CliRunner().invoke(main, args))
        assert str(db) in line and needle in line and "writing nothing" in line, line
    assert digest(db) == before  # nothing written
    assert sorted(p.name for p in results.iterdir()) == ["results.sqlite"]  # no -wal, -shm, runs/ or reports/


def test_a_results_folder_that_cannot_be_created_is_one_line(tmp_path, tiny_matrix):
    (tmp_path / "a-file").write_text("x")
    line = one_line_error(run_into(tmp_path / "a-file" / "results", tiny_matrix))
    assert line == f"Error: cannot create results folder {tmp_path / 'a-file' / 'results'}: Not a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_results_folder_is_one_line(tmp_path, tiny_matrix):
    results = tmp_path / "results"
    results.mkdir()
    results.chmod(0o500)
    try:
        line = one_line_error(run_into(results, tiny_matrix))
    finally:
        results.chmod(0o700)
    assert f"results database {results / 'results.sqlite'}: unable to open database file" in line


def limited(max_bytes):
    """preexec_fn: no file this process writes may grow past max_bytes (a full disk, per file)."""
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    return apply


def store_is_valid(db, leases: bool = True):
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    store = ResultStore(db)
    if leases:
        assert store.leases() == []  # released on the way out
    return store


@pytest.mark.slow  # three `bench run` processes: ~45 s on a busy 2-core CPU
def test_a_full_disk_during_a_store_write_is_one_line_and_the_store_stays_valid(tmp_path, single_run):
    results = tmp_path / "results"
    first = bench(*run_args(write_matrix(tmp_path, scales=(2,), name="one.yaml"), results))
    assert first.returncode == 0, first.stderr
    db = results / "results.sqlite"
    done = {r.key: r.status for r in ResultStore(db).records()}
    checkpoint = max(p.stat().st_size for p in single_run.parent.glob("runs/*/checkpoint*.pt"))
    room = max(db.stat().st_size, checkpoint) + 4096  # every checkpoint fits; the database cannot grow much
    assert room < single_run.stat().st_size, "the finished database must not fit"

    matrix = write_matrix(tmp_path)
    full = bench(*run_args(matrix, results), preexec_fn=limited(room))
    assert full.returncode == 2, full.stdout + full.stderr
    *warned, error = full.stderr.strip().splitlines()  # e.g. "warning: LR cache ... is not writable"
    assert "Traceback" not in full.stderr and all(line.startswith("warning: ") for line in warned)
    assert error.startswith(f"Error: results database {db}: ")
    assert "could not be written" in error and "the failed write left the store as it was" in error
    store = store_is_valid(db, leases=False)
    # releasing its lease is a write too, which a full disk may refuse: a lease left behind is
    # the dead run's, so the next run takes it over at once
    assert all(owner_is_dead(lease, LeasePolicy()) for lease in store.leases())
    after = {r.key: r.status for r in store.records()}
    assert all(after[k] == v for k, v in done.items())  # what was there is kept

    again = bench(*run_args(matrix, results))
    assert again.returncode == 0, again.stdout + again.stderr
    assert compare(single_run, db).equal and store.leases() == []


def test_a_full_disk_inside_a_cell_stops_the_run_with_one_line(tmp_path):
    results = tmp_path / "results"
    room = 128 * 1024  # the store, its -shm and write-ahead log fit; a checkpoint of this student (~220 KiB) does not
    full = bench(*run_args(write_matrix(tmp_path, scales=(2,), feat=16), results), preexec_fn=limited(room))
    assert full.returncode == 2, full.stdout + full.stderr
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in full.stderr
    assert lines[0].startswith("Error: train Tiny (tiny) x2 s0: OSError: [Errno 27] File too large; stopping")
    assert "[2/" not in full.stdout  # nothing after the failed cell was tried
    store = store_is_valid(results / "results.sqlite")
    assert [(r.kind, r.status, r.error) for r in store.records()] == [
        ("train", "failed", "OSError: [Errno 27] File too large")]  # recorded; the next run retries it
    (tmp,) = results.glob("runs/*/checkpoint.tmp")
    assert tmp.stat().st_size == room and not list(results.glob("runs/*/checkpoint.pt"))


def test_store_errors_name_the_file(tmp_path):
    store = filled_store(tmp_path / "r.sqlite")
    (tmp_path / "r.sqlite").unlink()
    (tmp_path / "r.sqlite").mkdir()  # the database vanished and a folder took its place
    with pytest.raises(StoreError, match=r"results database .*r\.sqlite: unable to open database file"):
        store.records()
