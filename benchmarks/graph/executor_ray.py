"""Each ready cell as a Ray task (`bench run --executor ray`); outcomes come back to the driver.

A task runs its job exactly as the subprocess worker does (`worker.execute`, in the Ray worker
process) and returns the Outcome's JSON; only the driver writes the store. A task whose worker
dies (SIGKILL, OOM, a lost node) is retried up to `max_retries` times, and a train cell then
resumes from `runs/<key>/checkpoint.pt`, so the results folder must be on storage every node shares.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from ..errors import BenchError
from .jobs import Job, Outcome
from .worker import execute_ranks, for_remote, portable_plugins


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise BenchError("--executor ray needs Ray: pip install -e '.[ray]'") from None
    return ray


def run_cell(job_json: str, plugins: Sequence[str], gpus: int = 0) -> str:
    """The task body: one job, in the Ray worker's process, as the subprocess worker runs it (a
    train cell with several GPUs as that many data-parallel ranks)."""
    return execute_ranks(job_json, plugins, gpus)


class RayExecutor:
    """Submits every ready job as a task (`num_cpus`/`num_gpus` per cell) and yields outcomes as they finish.

    `address`: None starts a local cluster, "auto" joins the one this machine belongs to (or
    `ray://host:port`); Ray is initialised only if it is not already. `max_in_flight` caps the
    tasks submitted at once (None: all ready ones; Ray queues what its resources cannot run yet).
    `device` replaces each job's device; "auto" is resolved on the worker, which may see GPUs the
    driver does not.
    """

    batch = None  # the driver hands over every ready job at once

    def __init__(self, address: str | None = None, gpus_per_cell: float = 0, cpus_per_cell: float = 1,
                 plugins: Sequence[str] = (), max_retries: int = 3, device: str | None = None,
                 max_in_flight: int | None = None, runtime_env: dict | None = None):
        self.ray = import_ray()
        if gpus_per_cell < 0 or cpus_per_cell < 0:
            raise BenchError("--gpus-per-cell and CPUs per cell must be 0 or more")
        if max_in_flight is not None and max_in_flight < 1:
            raise BenchError(f"--workers must be at least 1, got {max_in_flight}")
        self.address, self.device, self.max_in_flight = address, device, max_in_flight
        self.plugins = portable_plugins(plugins)
        self.options = dict(num_cpus=cpus_per_cell, num_gpus=gpus_per_cell, max_retries=max_retries)
        if runtime_env:
            self.options["runtime_env"] = runtime_env
        self.started = False  # whether this executor started (and so shuts down) the Ray connection
        self._task = None

    def _connect(self):
        if not self.ray.is_initialized():
            self.ray.init(address=self.address, include_dashboard=False)
            self.started = True
        if self._task is None:
            self._task = self.ray.remote(run_cell).options(**self.options)
        return self._task

    def run(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Outcome]]:
        task = self._connect()
        waiting = list(jobs)
        running: dict[Any, Job] = {}
        limit = self.max_in_flight or len(waiting) or 1
        try:
            while waiting or running:
                while waiting and len(running) < limit:
                    job = waiting.pop(0)
                    running[task.remote(for_remote(job, self.device).to_json(), self.plugins,
                                        int(self.options["num_gpus"]))] = job
                done, _ = self.ray.wait(list(running), num_returns=1)
                for ref in done:
                    job = running.pop(ref)
                    yield job, self._outcome(job, ref)
        finally:  # the driver stopped early (Ctrl-C, an error): its tasks would run on unrecorded
            for ref in running:
                self.ray.cancel(ref, force=True)

    def _outcome(self, job: Job, ref: Any) -> Outcome:
        try:
            return Outcome.from_json(self.ray.get(ref))
        except self.ray.exceptions.RayError as exc:  # the task's worker died more often than retried
            lines = [line for line in str(exc).splitlines() if line.strip()]
            detail = lines[0] if lines else type(exc).__name__
            return Outcome(job.key, "failed", error=f"ray task failed ({type(exc).__name__}): {detail}")

    def close(self) -> None:
        if self.started and self.ray.is_initialized():
            self.ray.shutdown()
        self.started = False
