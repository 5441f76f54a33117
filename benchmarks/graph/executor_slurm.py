"""Each ready cell as a Slurm job through submitit (`bench run --executor slurm`), from the login node.

A job runs its cell exactly as the subprocess worker does (`worker.execute`) and returns the
Outcome's JSON to the driver, which alone writes the store. A job that times out or is
preempted is requeued by submitit (the callable is checkpointable) and a train cell resumes
from `runs/<key>/checkpoint.pt`; one that fails outright (a lost node) is resubmitted up to
`max_retries` times. `cluster="local"` runs the same code path on this machine, without a scheduler.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import BenchError
from .jobs import Job, Outcome
from .worker import execute_ranks, for_remote, portable_plugins

DEFAULT_TIME_MIN = 24 * 60


def import_submitit() -> Any:
    try:
        import submitit
    except ImportError:
        raise BenchError("--executor slurm needs submitit: pip install -e '.[slurm]'") from None
    return submitit


def parse_minutes(text: str | int | None) -> int:
    """A Slurm time limit in minutes, written as sbatch takes it: 'M', 'M:S', 'H:M:S', 'D-H', 'D-H:M', 'D-H:M:S'."""
    if text is None:
        return DEFAULT_TIME_MIN
    value = str(text).strip()
    match = re.fullmatch(r"(?:(\d+)-)?(\d+(?::\d+){0,2})", value)
    if not match or (match.group(1) is None and value.count(":") > 2):
        raise BenchError(f"--slurm-time {value!r}: give minutes, H:MM:SS or D-HH:MM (as sbatch --time takes)")
    days, rest = match.group(1), [int(p) for p in match.group(2).split(":")]
    if days is None:
        h, m, s = rest if len(rest) == 3 else (0, *rest, 0)[:3]  # M or M:S
    else:
        h, m, s = (rest + [0, 0])[:3]
    minutes = int(days or 0) * 24 * 60 + h * 60 + m + (1 if s else 0)  # seconds round up: never cut a job short
    if minutes < 1:
        raise BenchError(f"--slurm-time {value!r}: must be at least one minute")
    return minutes


class SlurmCell:
    """What a Slurm job runs: one job from its JSON. `checkpoint` makes submitit requeue it on
    timeout or preemption (the cell's own checkpoint holds its progress, so nothing else is saved)."""

    def __init__(self, job_json: str, plugins: Sequence[str], gpus: int = 0):
        self.job_json, self.plugins, self.gpus = job_json, tuple(plugins), gpus

    def __call__(self) -> str:
        return execute_ranks(self.job_json, self.plugins, self.gpus)

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        import submitit

        return submitit.helpers.DelayedSubmission(SlurmCell(self.job_json, self.plugins, self.gpus), *args, **kwargs)


class SlurmExecutor:
    """Submits one job per ready cell and yields outcomes as the jobs finish (polled every `poll_s`).

    `folder` holds submitit's job files and logs (<results>/slurm). `cluster`: "slurm", or "local"
    / "debug" to run here (tests); None lets submitit pick. `device` replaces each job's device;
    "auto" is resolved on the compute node.
    """

    batch = None  # the driver hands over every ready job at once

    def __init__(self, folder: str | Path, cluster: str | None = "slurm", partition: str | None = None,
                 time_min: int = DEFAULT_TIME_MIN, gpus_per_cell: int = 0, cpus_per_cell: int = 1,
                 plugins: Sequence[str] = (), max_retries: int = 2, device: str | None = None,
                 poll_s: float = 5.0, max_in_flight: int | None = None, **parameters: Any):
        submitit = import_submitit()
        if gpus_per_cell < 0 or cpus_per_cell < 1:
            raise BenchError("--gpus-per-cell must be 0 or more and CPUs per cell at least 1")
        if max_in_flight is not None and max_in_flight < 1:
            raise BenchError(f"--workers must be at least 1, got {max_in_flight}")
        if cluster == "slurm" and shutil.which("sbatch") is None:
            raise BenchError("--executor slurm: no `sbatch` on this machine; run `bench run` on a Slurm login node")
        self.executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
        params: dict[str, Any] = dict(timeout_min=time_min, cpus_per_task=cpus_per_cell, nodes=1, tasks_per_node=1,
                                      name="bench-cell")
        if gpus_per_cell:
            params["gpus_per_node"] = gpus_per_cell
        if partition:
            params["slurm_partition"] = partition
        self.executor.update_parameters(**params, **parameters)
        self.plugins, self.gpus_per_cell = portable_plugins(plugins), gpus_per_cell
        self.max_retries, self.device, self.poll_s, self.max_in_flight = max_retries, device, poll_s, max_in_flight

    def run(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        waiting = list(jobs)
        running: list[tuple[Job, Any, int]] = []  # (job, submitit job, attempt)
        limit = self.max_in_flight or len(waiting) or 1
        try:
            while waiting or running:
                while waiting and len(running) < limit:
                    job = waiting.pop(0)
                    running.append((job, self._submit(job), 1))
                finished = [entry for entry in running if entry[1].done()]
                if not finished:
                    time.sleep(self.poll_s)
                    continue
                for entry in finished:
                    running.remove(entry)
                    job, handle, attempt = entry
                    try:
                        outcome = Outcome.from_json(handle.result())
                    except Exception as exc:  # the job itself failed (node lost, cancelled): the cell never reported
                        if attempt <= self.max_retries:
                            running.append((job, self._submit(job), attempt + 1))
                            continue
                        outcome = Outcome(job.key, "failed", error=f"slurm job {handle.job_id} failed after "
                                                                   f"{attempt} attempt(s): {_one_line(exc)}")
                    yield job, outcome
        finally:  # the driver stopped early (Ctrl-C, an error): its jobs would run on unrecorded
            for _, handle, _ in running:
                handle.cancel(check=False)

    def _submit(self, job: Job) -> Any:
        cell = SlurmCell(for_remote(job, self.device).to_json(), self.plugins, self.gpus_per_cell)
        return self.executor.submit(cell)


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
