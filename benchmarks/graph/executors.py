"""Executors run ready jobs and hand their outcomes back; the driver alone writes the store.

`SequentialExecutor` runs each job in this process (the default). `SubprocessExecutor` runs
each in a fresh Python process from the job's JSON alone (`python -m benchmarks.graph.worker`),
up to `workers` at a time: the seam where a cluster engine (Ray, Slurm) plugs in.
"""

from __future__ import annotations

import concurrent.futures as cf
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator, Protocol, Sequence

from ..errors import BenchError
from .dispatch import run_job
from .jobs import Job, Outcome


class Executor(Protocol):
    def run(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        """Run the jobs (all ready, independent of each other); yield each with its outcome."""


class SequentialExecutor:
    """One job after another in this process."""

    batch = 1  # the driver hands jobs over one at a time, so progress lines interleave with results

    def run(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        for job in jobs:
            yield job, run_job(job)


class SubprocessExecutor:
    """Each job in its own Python process, at most `workers` at once."""

    def __init__(self, workers: int = 1, plugins: Sequence[str] = ()):
        if workers < 1:
            raise BenchError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.plugins = tuple(plugins)

    def run(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        with cf.ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(self._one, job): job for job in jobs}
            for future in cf.as_completed(futures):
                yield futures[future], future.result()

    def _one(self, job: Job) -> Outcome:
        with tempfile.TemporaryDirectory(prefix="bench-job-") as tmp:
            job_file, out_file = Path(tmp) / "job.json", Path(tmp) / "outcome.json"
            job_file.write_text(job.to_json())
            cmd = [sys.executable, "-m", "benchmarks.graph.worker", str(job_file), str(out_file)]
            for plugin in self.plugins:
                cmd += ["--plugin", plugin]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0 or not out_file.is_file():
                tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                return Outcome(job.key, "failed", error=f"worker exited with code {proc.returncode}: {tail}")
            return Outcome.from_json(out_file.read_text())
