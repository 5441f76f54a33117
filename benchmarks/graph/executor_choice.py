"""`bench run --executor NAME` and its options -> an executor; the CLI stays thin, the engines stay optional.

Ray and submitit are imported only when chosen; without them the error names the extra to install.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import BenchError
from .executors import Executor, SequentialExecutor, SubprocessExecutor

EXECUTORS = ("inline", "local", "ray", "slurm")


def make_executor(name: str, *, workers: int | None = None, gpus_per_cell: int = 0, plugins: Sequence[str] = (),
                  results_dir: str | Path = "bench-results", device: str = "auto", ray_address: str | None = None,
                  slurm_partition: str | None = None, slurm_time: str | None = None,
                  slurm_cluster: str = "slurm") -> Executor:
    """The executor `bench run` uses. `workers`: cells at once (local: default 1; ray/slurm: default
    every ready cell, as the cluster's resources allow)."""
    if name not in EXECUTORS:
        raise BenchError(f"unknown executor {name!r}; choose one of: {', '.join(EXECUTORS)}")
    if name != "slurm" and (slurm_partition or slurm_time):
        raise BenchError("--slurm-partition and --slurm-time need --executor slurm")
    if name != "ray" and ray_address:
        raise BenchError("--ray-address needs --executor ray")
    if name == "inline":
        if (workers or 1) > 1:
            raise BenchError("--workers needs --executor local, ray or slurm")
        if gpus_per_cell == 1:
            raise BenchError("--gpus-per-cell 1 needs --executor local, ray or slurm (alone, --gpus N of 2 or more "
                             "trains each cell data-parallel on N GPUs)")
        if gpus_per_cell > 1:  # `bench run --gpus N`: one cell at a time, train cells data-parallel on N GPUs
            return SubprocessExecutor(workers=1, plugins=plugins, gpus_per_cell=gpus_per_cell)
        return SequentialExecutor()
    if name == "local":
        return SubprocessExecutor(workers=workers or 1, plugins=plugins, gpus_per_cell=gpus_per_cell)
    # On a cluster "auto" is decided where the cell runs: the driver (a login node) may have no GPU.
    remote_device = device if device == "auto" else None
    if name == "ray":
        from .executor_ray import RayExecutor

        return RayExecutor(address=ray_address, gpus_per_cell=gpus_per_cell, plugins=plugins, device=remote_device,
                           max_in_flight=workers)
    from .executor_slurm import SlurmExecutor, parse_minutes

    return SlurmExecutor(Path(results_dir) / "slurm", cluster=slurm_cluster, partition=slurm_partition,
                         time_min=parse_minutes(slurm_time), gpus_per_cell=gpus_per_cell, plugins=plugins,
                         device=remote_device, max_in_flight=workers)
