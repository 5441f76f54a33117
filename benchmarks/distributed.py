"""Data-parallel training of one run: ranks from torchrun (or srun), gradients averaged by all-reduce.

The harness averages each parameter group's gradients between backward and the optimizer step
instead of wrapping modules in DistributedDataParallel: a method steps several groups (G, D,
peers) with their own forwards, and averaging per group is exactly what DDP computes for each.
Every rank draws the same global batch from (seed, step) and keeps its slice, so the global
batch equals the profile's batch whatever the number of processes; rank 0 alone writes files.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Iterable

import torch
import torch.distributed as dist
from torch import nn

from .errors import BenchError


@dataclasses.dataclass(frozen=True)
class DistContext:
    """This process's place in a data-parallel run (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def sync_grads(self, params: Iterable[nn.Parameter]) -> None:
        """Average the gradients of `params` over the ranks, in one flat all-reduce per dtype."""
        if not self.active:
            return
        grads = [p.grad for p in params if p.grad is not None]
        by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
        for g in grads:
            by_dtype.setdefault(g.dtype, []).append(g)
        for group in by_dtype.values():
            flat = torch.cat([g.reshape(-1) for g in group])
            dist.all_reduce(flat)
            flat.div_(self.world_size)
            offset = 0
            for g in group:
                g.copy_(flat[offset:offset + g.numel()].view_as(g))
                offset += g.numel()

    def broadcast(self, module: nn.Module) -> None:
        """Make every rank hold rank 0's parameters and buffers (after init or resume)."""
        if not self.active:
            return
        with torch.no_grad():
            for tensor in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(tensor.data, src=0)

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """The mean of a tensor over the ranks (logged losses are the global batch's)."""
        if not self.active:
            return values
        values = values.clone()
        dist.all_reduce(values)
        return values / self.world_size

    def barrier(self) -> None:
        if self.active:
            dist.barrier()


def from_env(device_type: str = "cpu") -> DistContext:
    """The context torchrun (RANK, WORLD_SIZE, LOCAL_RANK) or Slurm (SLURM_PROCID, SLURM_NTASKS,
    SLURM_LOCALID, with MASTER_ADDR/MASTER_PORT set) gives this process; joins the process group
    (NCCL on CUDA, gloo on CPU) on first use."""
    env = os.environ
    if "WORLD_SIZE" in env and "RANK" in env:
        rank, world, local = int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", 0))
    elif int(env.get("SLURM_NTASKS", "1")) > 1 and "MASTER_ADDR" in env:
        rank, world, local = int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"]), int(env.get("SLURM_LOCALID", 0))
        env.setdefault("MASTER_PORT", "29500")
    else:
        return DistContext()
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        try:
            dist.init_process_group(backend, rank=rank, world_size=world)
        except Exception as exc:  # a wrong MASTER_ADDR, a missing backend: say which launch failed
            raise BenchError(f"cannot join the {backend} process group as rank {rank} of {world}: {exc}") from exc
    return DistContext(rank, world, local)


def local_device(device: str, ctx: DistContext) -> str:
    """Each rank's own GPU under a multi-GPU launch ('cuda' -> 'cuda:<local rank>')."""
    if ctx.active and device == "cuda":
        return f"cuda:{ctx.local_rank}"
    return device
