"""Run one job in a fresh process: `python -m benchmarks.graph.worker JOB.json OUTCOME.json [--plugin P]`.

The job file is all the worker knows (cell fields, input model paths, folders); the outcome
is written as JSON for the driver, which alone writes the result store. `execute` is the same
logic for workers that are not a fresh process of their own (a Ray task, a Slurm job).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

from .dispatch import run_job
from .jobs import Job, Outcome

_loaded: set[str] = set()  # plugins imported by this process: a reused worker imports each once


def load_plugins(plugins: Sequence[str]) -> None:
    """Import the user's method modules (once per process) so their methods are registered."""
    from methods import load_plugin

    for plugin in plugins:
        if plugin not in _loaded:
            load_plugin(plugin)
            _loaded.add(plugin)


def portable_plugins(plugins: Sequence[str]) -> tuple[str, ...]:
    """Plugin files as absolute paths, so a worker with another working directory finds them."""
    return tuple(str(Path(p).resolve()) if p.endswith(".py") else p for p in plugins)


def for_remote(job: Job, device: str | None = None, base: Path | None = None) -> Job:
    """The job as a worker on another node needs it: its paths absolute against the driver's working
    directory (the worker's is another), and `device` in place of the driver's when given."""
    base = Path.cwd() if base is None else base

    def absolute(path: str | None) -> str | None:
        return str(base / path) if path and not Path(path).is_absolute() else path

    spec = {k: absolute(v) if k in ("save_dir", "hr_save_dir") else v for k, v in job.spec.items()}
    return dataclasses.replace(job, spec=spec, run_dir=absolute(job.run_dir), data_dir=absolute(job.data_dir),
                               inputs={role: absolute(path) for role, path in job.inputs.items()},
                               device=device or job.device)


def resolve_device(name: str) -> str:
    """'auto' is decided where the job runs: the driver (a login node) may see no GPU."""
    if name != "auto":
        return name
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def execute(job_json: str, plugins: Sequence[str] = ()) -> str:
    """Run a job given as JSON in this process; return its Outcome as JSON (never raises for the cell)."""
    load_plugins(plugins)
    job = Job.from_json(job_json)
    job = dataclasses.replace(job, device=resolve_device(job.device))
    return run_job(job).to_json()


def execute_ranks(job_json: str, plugins: Sequence[str] = (), gpus: int = 0) -> str:
    """`execute`, except that a train cell given several GPUs runs as that many data-parallel
    ranks (torchrun on this node) while this process waits; the Outcome JSON either way."""
    job = Job.from_json(job_json)
    if job.kind != "train" or gpus < 2:
        return execute(job_json, plugins)
    return run_in_processes(job, plugins, gpus).to_json()


def run_in_processes(job: Job, plugins: Sequence[str] = (), gpus: int = 0,
                     env: Mapping[str, str] | None = None) -> Outcome:
    """Run a job in fresh processes from its JSON: one worker, or (a train cell given 2 or more
    GPUs) that many data-parallel ranks; a failed Outcome when they die without reporting."""
    ranks = gpus if job.kind == "train" and gpus > 1 else 1
    with tempfile.TemporaryDirectory(prefix="bench-job-") as tmp:
        job_file, out_file = Path(tmp) / "job.json", Path(tmp) / "outcome.json"
        job_file.write_text(job.to_json())
        proc = subprocess.run(command(job_file, out_file, plugins, processes=ranks), capture_output=True,
                              text=True, env=None if env is None else dict(env))
        if proc.returncode != 0 or not out_file.is_file():
            who = f"{ranks} ranks" if ranks > 1 else "worker"
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return Outcome(job.key, "failed", error=f"{who} exited with code {proc.returncode}: {tail}")
        return Outcome.from_json(out_file.read_text())


def command(job_file: str | Path, out_file: str | Path, plugins: Sequence[str] = (), processes: int = 1) -> list[str]:
    """The command that runs a job file in fresh processes: one, or `processes` data-parallel ranks
    on this node through torchrun (a train cell then averages gradients over them; benchmarks/distributed.py)."""
    if processes > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "-m", "benchmarks.graph.worker"]
    else:
        cmd = [sys.executable, "-m", "benchmarks.graph.worker"]
    cmd += [str(job_file), str(out_file)]
    for plugin in plugins:
        cmd += ["--plugin", plugin]
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.graph.worker")
    parser.add_argument("job")
    parser.add_argument("outcome")
    parser.add_argument("--plugin", action="append", default=[])
    args = parser.parse_args(argv)
    outcome = execute(Path(args.job).read_text(), args.plugin)
    if int(os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0"))) != 0:
        return 0  # under a data-parallel launch rank 0 reports the cell
    tmp = Path(args.outcome).with_suffix(".tmp")
    tmp.write_text(outcome)
    os.replace(tmp, args.outcome)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
