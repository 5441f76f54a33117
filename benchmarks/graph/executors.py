"""Executors run ready jobs and hand their outcomes back; the driver alone writes the store.

`SequentialExecutor` runs each job in this process (the default). `SubprocessExecutor` runs
each in a fresh Python process from the job's JSON alone (`python -m benchmarks.graph.worker`),
up to `workers` at a time, each worker on its own slice of the GPUs when `gpus_per_cell` > 0.
Cluster engines plug in at the same seam: executor_ray.py, executor_slurm.py.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import os
import queue
from typing import Iterator, Mapping, Protocol, Sequence

from ..errors import BenchError
from .dispatch import run_job
from .jobs import Job, Outcome
from .worker import run_in_processes


class Executor(Protocol):
    def run(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        """Run the jobs (all ready, independent of each other); yield each with its outcome."""


class SequentialExecutor:
    """One job after another in this process."""

    batch = 1  # the driver hands jobs over one at a time, so progress lines interleave with results

    def run(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        for job in jobs:
            yield job, run_job(job)


def visible_gpus(env: Mapping[str, str] | None = None) -> list[str]:
    """The GPUs this process may hand out: CUDA_VISIBLE_DEVICES's entries, else every device torch sees."""
    env = os.environ if env is None else env
    listed = env.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        ids = [g.strip() for g in listed.split(",") if g.strip()]
        return [] if ids[:1] == ["-1"] else ids
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def gpu_slots(workers: int, gpus_per_cell: int, gpus: Sequence[str]) -> list[tuple[str, ...]]:
    """Split `gpus` into `workers` disjoint slices of `gpus_per_cell` each (the first ones, in order)."""
    if gpus_per_cell < 0:
        raise BenchError(f"--gpus-per-cell must be 0 or more, got {gpus_per_cell}")
    if gpus_per_cell == 0:
        return [()] * workers
    need = workers * gpus_per_cell
    if need > len(gpus):
        raise BenchError(f"--workers {workers} x --gpus-per-cell {gpus_per_cell} needs {need} "
                         f"GPU{'s' if need > 1 else ''}; {len(gpus)} visible ({','.join(gpus) or 'none'})")
    return [tuple(gpus[i * gpus_per_cell:(i + 1) * gpus_per_cell]) for i in range(workers)]


class SubprocessExecutor:
    """Each job in its own Python process, at most `workers` at once; with `gpus_per_cell` > 0 each
    running job holds a free slice of the GPUs (its CUDA_VISIBLE_DEVICES) and gives it back after."""

    def __init__(self, workers: int = 1, plugins: Sequence[str] = (), gpus_per_cell: int = 0,
                 gpus: Sequence[str] | None = None):
        if workers < 1:
            raise BenchError(f"--workers must be at least 1, got {workers}")
        self.workers = workers
        self.plugins = tuple(plugins)
        self.gpus_per_cell = gpus_per_cell
        if gpus is None:
            gpus = visible_gpus() if gpus_per_cell else []
        self.slots = gpu_slots(workers, gpus_per_cell, gpus)

    def run(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        free: queue.Queue[tuple[str, ...]] = queue.Queue()
        for slot in self.slots:
            free.put(slot)
        with cf.ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(self._with_slot, free, job): job for job in jobs}
            for future in cf.as_completed(futures):
                yield futures[future], future.result()

    def _with_slot(self, free: "queue.Queue[tuple[str, ...]]", job: Job) -> Outcome:
        slot = free.get()  # never blocks long: at most `workers` jobs run, and there are `workers` slots
        try:
            return self._one(job, slot)
        finally:
            free.put(slot)

    def _one(self, job: Job, slot: tuple[str, ...] = ()) -> Outcome:
        env = None
        if self.gpus_per_cell:
            env = dict(os.environ, CUDA_VISIBLE_DEVICES=",".join(slot))
            if job.device.startswith("cuda"):
                job = dataclasses.replace(job, device="cuda")  # the slot's first GPU: it sees no other
        return run_in_processes(job, self.plugins, len(slot), env)  # 2+ GPUs: data-parallel train cell
