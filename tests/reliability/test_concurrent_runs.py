"""Two `bench run` processes on one results folder; a killed run's lease taken over."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from benchmarks.faults.compare import compare
from benchmarks.graph.cells import cell_key
from benchmarks.graph.jobs import Outcome, now
from benchmarks.lease import LeasePolicy, Owner
from benchmarks.matrix import load_matrix
from benchmarks.reporting import with_teachers
from benchmarks.runner import RunContext, run_matrix
from benchmarks.store import ResultStore

from .conftest import ROOT, bench, bench_cmd, bench_env, run_args, write_matrix

STEP = re.compile(r"^\[\d+/\d+\] (.*)$", re.MULTILINE)


def train_segments(results: Path) -> dict[str, list[str]]:
    """Per trained cell, the events of its train.log (start, resume, fallback, restart, finish)."""
    return {log.parent.name: [line.split("\t")[1] for line in log.read_text().splitlines()]
            for log in (results / "runs").glob("*/train.log")}


@pytest.mark.slow  # three `bench run` processes (two together, one alone): ~50 s on a busy 2-core CPU
def test_two_processes_share_a_results_folder_and_train_every_cell_once(tmp_path, single_run):
    matrix = write_matrix(tmp_path)
    results = tmp_path / "results"
    procs = [subprocess.Popen(bench_cmd(*run_args(matrix, results)), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=bench_env(), cwd=ROOT) for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs

    ran = [STEP.findall(out) for out in outputs]
    trained = [name for steps in ran for name in steps if name.startswith("train ")]
    assert sorted(trained) == sorted(set(trained)) and len(trained) == 3, ran  # each student once, by one process
    every = [name for steps in ran for name in steps]
    assert len(every) == len(set(every)) == 12  # 3 train, 3 load (bicubic), 6 eval steps; none twice
    # They really ran together: both ran steps, or one waited on / found a step of the other.
    shared = all(ran) or any("waiting:" in out or "done by another run" in out for out in outputs)
    assert shared, outputs
    assert all(events == ["start", "finish"] for events in train_segments(results).values())  # no second segment

    result = compare(single_run, results / "results.sqlite")
    assert result.equal, result
    assert result.compared > 12 + 6  # cells, scores and per-image scores
    assert ResultStore(results / "results.sqlite").leases() == []


@pytest.mark.slow  # three `bench run` processes one after the other: ~45 s on a busy 2-core CPU
def test_a_killed_runs_lease_is_taken_over_and_its_cell_resumes(tmp_path):
    matrix = write_matrix(tmp_path, scales=(2,), iterations=200, every=5)
    results = tmp_path / "results"
    proc = subprocess.Popen(bench_cmd(*run_args(matrix, results)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=bench_env(), cwd=ROOT)
    deadline = time.time() + 240
    while not list((results / "runs").glob("*/checkpoint.prev.pt")) and proc.poll() is None:
        assert time.time() < deadline, "no checkpoint written"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    store = ResultStore(results / "results.sqlite")
    leases = store.leases()
    assert len(leases) == 1 and leases[0].owner.pid == proc.pid  # the dead run's lease is still there

    again = bench(*run_args(matrix, results))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "taking over train Tiny (tiny) x2 s0 from " in again.stdout and "its process is gone" in again.stdout
    (events,) = [e for e in train_segments(results).values() if e[0] == "start"]
    assert events[:2] == ["start", "resume"] and events[-1] == "finish"
    resumed = re.search(r"ok \([\d.]+s training\): [\d,]+ parameters; resumed at step (\d+) from checkpoint.pt",
                        again.stdout)
    assert resumed and 10 <= int(resumed.group(1)) < 200, again.stdout
    assert store.leases() == []

    reference = tmp_path / "reference"
    single = bench(*run_args(matrix, reference))
    assert single.returncode == 0
    result = compare(reference / "results.sqlite", results / "results.sqlite")
    assert result.equal, result  # resuming changed no number


def _driver(tmp_path, matrix: Path):
    specs = with_teachers(load_matrix(str(matrix)).expand())
    store = ResultStore(tmp_path / "results" / "results.sqlite")
    ctx = RunContext(results_dir=tmp_path / "results", device="cpu", progress=False,
                     lease=LeasePolicy(heartbeat_s=0.05, stale_after_s=30, poll_s=0.05))
    return specs, store, ctx


def test_a_step_leased_by_a_live_run_is_waited_for_then_taken_when_freed(tmp_path):
    matrix = write_matrix(tmp_path, scales=(2,), iterations=4, every=2)
    specs, store, ctx = _driver(tmp_path, matrix)
    train = next(s.cell for s in specs if s.cell.kind == "train")
    other = Owner.current()  # this process: alive
    store.acquire_lease(cell_key(train), other, [cell_key(train)], lambda lease: False)
    freed_at: list[float] = []

    def free_later():
        time.sleep(1.0)
        freed_at.append(time.time())
        store.release_lease(cell_key(train), other)  # the other run gave up without a result

    thread = threading.Thread(target=free_later)
    thread.start()
    lines: list[str] = []
    outcome = run_matrix(specs, store, ctx, log=lambda line: lines.append((time.time(), line)))
    thread.join()
    assert outcome.failed == []
    texts = [line for _, line in lines]
    waits = [t for t, line in lines if line.startswith("    waiting: train Tiny")]
    assert len(waits) == 1  # said once, however often it looked
    started = [t for t, line in lines if line.endswith("] train Tiny (tiny) x2 s0")]
    assert started and started[0] >= freed_at[0] > waits[0]  # it ran only once the lease was free
    assert any(line.startswith("    ok") for line in texts) and store.is_done(cell_key(train))


def test_a_step_another_run_failed_meanwhile_is_failed_here_not_retried(tmp_path):
    matrix = write_matrix(tmp_path, scales=(2,), iterations=4, every=2)
    specs, store, ctx = _driver(tmp_path, matrix)
    train = next(s.cell for s in specs if s.cell.kind == "train")
    key = cell_key(train)
    other = Owner.current()
    store.acquire_lease(key, other, [key], lambda lease: False)

    def fail_later():
        time.sleep(0.5)
        store.put_cell(train, Outcome(key, "failed", error="CUDA out of memory (the other run)", created=now()))
        store.release_lease(key, other)

    thread = threading.Thread(target=fail_later)
    thread.start()
    lines: list[str] = []
    outcome = run_matrix(specs, store, ctx, log=lines.append)
    thread.join()
    assert not any(line.endswith("] train Tiny (tiny) x2 s0") for line in lines)  # never run here
    assert "train Tiny (tiny) x2 s0: CUDA out of memory (the other run) (recorded by another run)" in outcome.failed
    blocked = [f for f in outcome.failed if "blocked: input" in f]
    assert blocked and all("CUDA out of memory" in f for f in blocked)  # its evaluation is blocked
    assert store.status(key) == "failed"
    bicubic = next(s for s in specs if s.cell.kind == "load")
    assert store.is_done(cell_key(bicubic.cell))  # the rest of the matrix went on
    assert not list((tmp_path / "results" / "runs").glob(f"{key}/train.log"))


def test_an_owner_that_stopped_beating_is_taken_over_by_the_runner(tmp_path):
    matrix = write_matrix(tmp_path, scales=(2,), iterations=4, every=2)
    specs, store, ctx = _driver(tmp_path, matrix)
    ctx = RunContext(results_dir=ctx.results_dir, device="cpu", progress=False,
                     lease=LeasePolicy(heartbeat_s=0.05, stale_after_s=0.5, poll_s=0.05))
    train = next(s.cell for s in specs if s.cell.kind == "train")
    remote = Owner("gpu-node-7:4242:beef", "gpu-node-7", 4242, "")  # another host: only its heartbeat tells
    store.acquire_lease(cell_key(train), remote, [], lambda lease: False)
    lines: list[str] = []
    outcome = run_matrix(specs, store, ctx, log=lines.append)
    assert outcome.failed == []
    assert any(l.startswith("    waiting: train Tiny (tiny) x2 s0 is running in another run (gpu-node-7 pid 4242)")
               for l in lines)
    taking = [l for l in lines if l.startswith("    taking over train Tiny (tiny) x2 s0 from gpu-node-7 pid 4242")]
    assert len(taking) == 1 and "no heartbeat for" in taking[0]
    assert store.is_done(cell_key(train)) and store.leases() == []


def test_a_lease_a_killed_run_left_on_a_finished_step_is_cleared(tmp_path):
    """Killed between storing a result and releasing its lease: the step is done, the lease stays
    until the next run ends."""
    matrix = write_matrix(tmp_path, scales=(2,), iterations=4, every=2)
    specs, store, ctx = _driver(tmp_path, matrix)
    assert run_matrix(specs, store, ctx, log=lambda line: None).failed == []
    proc = subprocess.Popen(["true"])
    proc.wait()
    gone = Owner("host:x:gone", Owner.current().host, proc.pid, "")
    train = next(s.cell for s in specs if s.cell.kind == "train")
    store.acquire_lease(cell_key(train), gone, [], lambda lease: False)
    lines: list[str] = []
    run_matrix(specs, store, ctx, log=lines.append)
    assert lines[-1].endswith(" done") and store.leases() == []
