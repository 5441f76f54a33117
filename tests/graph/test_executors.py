"""Every executor gives the same store: sequential, local workers, a local Ray cluster, submitit's
local executor; a Ray worker killed mid-cell is retried and resumes; missing extras say what to install."""

from __future__ import annotations

import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.errors import BenchError
from benchmarks.graph.executor_choice import make_executor
from benchmarks.graph.executors import SequentialExecutor, SubprocessExecutor, gpu_slots, visible_gpus
from benchmarks.reporting import with_teachers
from benchmarks.runner import RunContext, run_matrix
from benchmarks.store import ResultStore

from . import graph_methods
from .conftest import HEAD, matrix

PLUGINS = [graph_methods.__file__]  # the test methods, imported again by every worker process
SMOKE = """
methods:
  - {method: baseline, label: B}
  - {method: test-kd, label: KD, teacher: t}
"""
# One student, checkpointed every 2 of 6 steps: a kill at the second checkpoint write resumes from step 2.
KILL_HEAD = HEAD.replace("iterations: 3, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 3",
                         "iterations: 6, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 2")
KILL_BODY = "methods:\n  - {method: baseline, label: B}\n"


def run_into(folder: Path, m, executor) -> tuple[list[str], dict[tuple, float]]:
    """Run matrix `m` into `folder` with `executor`; return the stored cell keys and eval scores."""
    folder.mkdir(parents=True, exist_ok=True)
    store = ResultStore(folder / "results.sqlite")
    ctx = RunContext(results_dir=folder, device="cpu", progress=False)
    outcome = run_matrix(with_teachers(m.expand()), store, ctx, executor=executor, log=lambda _: None)
    assert outcome.failed == []
    return stored(folder)


def stored(folder: Path) -> tuple[list[str], dict[tuple, float]]:
    with sqlite3.connect(folder / "results.sqlite") as conn:
        keys = sorted(k for (k,) in conn.execute("SELECT key FROM cells WHERE status = 'ok'"))
        scores = {(k, d, m): v for k, d, m, v in conn.execute("SELECT key, dataset, metric, value FROM eval_scores")}
    return keys, scores


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[list[str], dict[tuple, float]]:
    """The smoke matrix run sequentially in this process: what every other executor must store."""
    keys, scores = run_into(tmp_path_factory.mktemp("sequential"), matrix(SMOKE), SequentialExecutor())
    assert len(scores) == 3 and all(v is not None for v in scores.values())  # teacher, student, KD student
    return keys, scores


@pytest.fixture(scope="module")
def ray_cluster():
    """A tiny local Ray cluster for this module; RayExecutor joins it rather than starting its own."""
    ray = pytest.importorskip("ray")
    import torch

    # Ray starts its workers with OMP_NUM_THREADS=1; the reference runs with this process's thread
    # count, and a different count sums floats in another order: same threads, same numbers
    threads = {"env_vars": {"OMP_NUM_THREADS": str(torch.get_num_threads())}}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=80 * 1024 ** 2,
             runtime_env=threads)
    yield ray
    ray.shutdown()


def test_local_workers_store_the_same_numbers(reference, tmp_path):
    assert run_into(tmp_path, matrix(SMOKE), SubprocessExecutor(workers=2, plugins=PLUGINS)) == reference


def test_a_ray_cluster_stores_the_same_numbers(reference, tmp_path, ray_cluster):
    executor = make_executor("ray", plugins=PLUGINS, device="cpu")
    assert run_into(tmp_path, matrix(SMOKE), executor) == reference
    executor.close()
    assert ray_cluster.is_initialized()  # it joined the fixture's cluster, so it leaves it running


def test_submitit_local_executor_stores_the_same_numbers(reference, tmp_path):
    pytest.importorskip("submitit")
    from benchmarks.graph.executor_slurm import SlurmExecutor

    executor = SlurmExecutor(tmp_path / "slurm", cluster="local", plugins=PLUGINS, poll_s=0.2, time_min=10)
    assert run_into(tmp_path / "results", matrix(SMOKE), executor) == reference
    assert list((tmp_path / "slurm").glob("*_result.pkl"))  # the cells really went through submitit's jobs


def test_a_killed_ray_worker_is_retried_and_the_cell_resumes(tmp_path, ray_cluster):
    m = matrix(KILL_BODY, head=KILL_HEAD)
    expected = run_into(tmp_path / "uninterrupted", m, SequentialExecutor())
    marker = tmp_path / "killed-once"
    # Loaded by the first worker process before its job: it arms the failpoint unless a worker already did.
    killer = tmp_path / "kill_first_attempt.py"
    killer.write_text(textwrap.dedent(f"""
        import os, pathlib
        marker = pathlib.Path({str(marker)!r})
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os.environ["BENCH_KILL_AT"] = "checkpoint-write:2"
    """))
    from benchmarks.graph.executor_ray import RayExecutor

    executor = RayExecutor(plugins=[str(killer)], max_retries=2)
    assert run_into(tmp_path / "killed", m, executor) == expected
    assert marker.is_file()  # the first attempt armed the kill
    store = ResultStore(tmp_path / "killed" / "results.sqlite")
    train = next(r for r in store.records() if r.kind == "train")
    # The retry resumed from the checkpoint the killed attempt left (killed while replacing it: the previous one).
    assert train.info["resumed"].endswith("resumed at step 2 from checkpoint.prev.pt"), train.info["resumed"]


@pytest.mark.parametrize("name, module, extra", [("ray", "ray", "ray"), ("slurm", "submitit", "slurm")])
def test_a_missing_engine_names_the_extra_to_install(monkeypatch, tmp_path, name, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # `import <module>` now raises ImportError
    engine = "Ray" if name == "ray" else "submitit"
    message = f"--executor {name} needs {engine}: pip install -e '.[{extra}]'"
    with pytest.raises(BenchError) as err:
        make_executor(name, results_dir=tmp_path)
    assert str(err.value) == message
    from benchmarks.cli import main

    result = CliRunner().invoke(main, ["run", "--executor", name, "--results-dir", str(tmp_path), "--quiet"])
    assert result.exit_code == 2 and f"Error: {message}" in result.output.splitlines()


def test_gpu_slots_are_disjoint_slices_and_too_few_gpus_is_an_error():
    assert gpu_slots(2, 1, ["0", "1", "2"]) == [("0",), ("1",)]
    assert gpu_slots(2, 2, ["0", "1", "2", "3"]) == [("0", "1"), ("2", "3")]
    assert gpu_slots(3, 0, []) == [(), (), ()]
    with pytest.raises(BenchError, match=r"--workers 2 x --gpus-per-cell 2 needs 4 GPUs; 3 visible \(0,1,2\)"):
        gpu_slots(2, 2, ["0", "1", "2"])
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "3,5"}) == ["3", "5"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == [] and visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}) == []


def test_each_local_worker_gets_its_own_cuda_visible_devices(monkeypatch):
    import subprocess

    from benchmarks.graph.jobs import Job, Outcome

    seen: list[tuple[str, str]] = []

    def fake_worker(cmd, env=None, **kw):  # stands in for `python -m benchmarks.graph.worker JOB OUT`
        job = Job.from_json(Path(cmd[3]).read_text())
        seen.append((env["CUDA_VISIBLE_DEVICES"], job.device))
        Path(cmd[4]).write_text(Outcome(job.key, "ok").to_json())
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr("benchmarks.graph.worker.subprocess.run", fake_worker)
    jobs = [Job(f"k{i}", "eval", {}, {}, "/nowhere", device="cuda:1") for i in range(6)]
    executor = SubprocessExecutor(workers=2, gpus_per_cell=2, gpus=["a", "b", "c", "d"])
    assert sorted(j.key for j, o in executor.run(jobs) if o.status == "ok") == [j.key for j in jobs]
    assert len(seen) == 6 and {s for s, _ in seen} <= {"a,b", "c,d"}
    assert {d for _, d in seen} == {"cuda"}  # its slot's first GPU: the worker sees no other


def test_executor_options_that_do_not_fit_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch here, whatever the machine has
    for kw, needle in [(dict(name="inline", workers=2), "--workers needs --executor local, ray or slurm"),
                       (dict(name="inline", gpus_per_cell=1), "--gpus-per-cell 1 needs --executor local"),
                       (dict(name="local", ray_address="auto"), "--ray-address needs --executor ray"),
                       (dict(name="ray", slurm_partition="gpu"), "--slurm-partition and --slurm-time need"),
                       (dict(name="local", workers=2, gpus_per_cell=1), "needs 2 GPUs; 1 visible (0)"),
                       (dict(name="slurm", slurm_time="soon"), "--slurm-time 'soon': give minutes"),
                       (dict(name="slurm", slurm_cluster="slurm"), "no `sbatch` on this machine")]:
        with pytest.raises(BenchError) as err:
            make_executor(results_dir=tmp_path, **kw)
        assert needle in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("text, minutes", [("90", 90), ("90:30", 91), ("1:30:00", 90), ("2-00", 2880),
                                           ("1-01:30", 1530)])
def test_slurm_time_is_read_as_sbatch_reads_it(text, minutes):
    from benchmarks.graph.executor_slurm import parse_minutes

    assert parse_minutes(text) == minutes


def test_a_job_shipped_to_another_node_names_absolute_paths(tmp_path):
    from benchmarks.graph.jobs import Job
    from benchmarks.graph.worker import for_remote

    job = Job("k", "eval", {"dataset": "Set5", "save_dir": "res/runs/k/sr"}, {"model": "res/runs/t/models/main.pt"},
              "res/runs/k", data_dir="/data", device="cpu")
    shipped = for_remote(job, device="auto", base=tmp_path)
    assert shipped.run_dir == str(tmp_path / "res/runs/k") and shipped.data_dir == "/data"
    assert shipped.inputs == {"model": str(tmp_path / "res/runs/t/models/main.pt")}
    assert shipped.spec == {"dataset": "Set5", "save_dir": str(tmp_path / "res/runs/k/sr")}
    assert shipped.device == "auto" and for_remote(job).device == "cpu" and shipped.key == job.key


def test_gpus_alone_runs_cells_one_at_a_time_with_train_cells_on_all_of_them(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    executor = make_executor("inline", gpus_per_cell=2)  # `bench run --gpus 2`
    assert isinstance(executor, SubprocessExecutor) and executor.workers == 1
    assert executor.slots == [("0", "1")]  # a train cell gets both: two torchrun ranks
