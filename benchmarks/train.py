"""The shared training loop: one optimizer per parameter group, checkpoints, resume, NaN guard.

Methods decide *what* is optimised (Method.param_groups / Method.losses); this loop only
steps the groups in the order the method yields them, so it has no per-method cases.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from pathlib import Path

import torch
from torch.optim import Adam
from torch.optim.lr_scheduler import MultiStepLR
from tqdm import tqdm

from methods.base import Method

from .errors import TrainingDiverged
from .spec import TrainProfile
from .trainer_data import PatchSampler

CHECKPOINT = "checkpoint.pt"


@dataclasses.dataclass(frozen=True)
class TrainOutcome:
    seconds: float  # wall-clock training time, summed over resumed segments
    steps: int
    last_losses: dict[str, float]


def train(method: Method, sampler: PatchSampler, profile: TrainProfile, run_dir: Path,
          device: torch.device, progress: bool = True, desc: str = "train") -> TrainOutcome:
    """Train `method` for profile.iterations steps, resuming from run_dir/checkpoint.pt if present."""
    run_dir.mkdir(parents=True, exist_ok=True)
    method.to(device).train()
    groups = method.param_groups()
    optimizers = {g: Adam(params, lr=profile.lr, betas=profile.betas) for g, params in groups.items()}
    schedulers = {g: MultiStepLR(opt, milestones=list(profile.milestones), gamma=profile.gamma)
                  for g, opt in optimizers.items()}
    step, elapsed = 0, 0.0
    ckpt_path = run_dir / CHECKPOINT
    if ckpt_path.is_file():
        state = torch.load(ckpt_path, map_location=device, weights_only=True)
        method.load_state_dict(state["method"])
        for g, opt in optimizers.items():
            opt.load_state_dict(state["optim"][g])
            schedulers[g].load_state_dict(state["sched"][g])
        sampler.load_state(state["sampler"].cpu())
        step, elapsed = int(state["step"]), float(state["elapsed"])

    last: dict[str, float] = {}
    bar = tqdm(total=profile.iterations, initial=step, desc=desc, disable=not progress, leave=False)
    started = time.perf_counter()
    while step < profile.iterations:
        lr, hr = (t.to(device, non_blocking=True) for t in sampler.batch(profile.batch_size))
        for group, terms in method.losses(lr, hr, step):
            loss = _checked_sum(group, terms, step)
            optimizer = optimizers[group]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            last.update({f"{group}/{name}": float(value.detach()) for name, value in terms.items()})
        for scheduler in schedulers.values():
            scheduler.step()
        step += 1
        bar.update(1)
        if progress and step % 10 == 0:
            bar.set_postfix({k: f"{v:.4g}" for k, v in last.items()}, refresh=False)
        if step % profile.checkpoint_every == 0 or step == profile.iterations:
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            now = time.perf_counter()
            elapsed, started = elapsed + (now - started), now
            _save_checkpoint(ckpt_path, method, optimizers, schedulers, sampler, step, elapsed)
    bar.close()
    return TrainOutcome(seconds=elapsed, steps=step, last_losses=last)


def _checked_sum(group: str, terms: dict[str, torch.Tensor], step: int) -> torch.Tensor:
    for name, value in terms.items():
        v = float(value.detach())
        if not math.isfinite(v):
            raise TrainingDiverged(f"loss term {group}/{name} is {v} at step {step}; "
                                   f"the last checkpoint is kept (lower the learning rate?)")
    return sum(terms.values())  # type: ignore[return-value]


def _save_checkpoint(path: Path, method: Method, optimizers, schedulers, sampler, step: int, elapsed: float) -> None:
    state = {
        "step": step,
        "elapsed": elapsed,
        "method": method.state_dict(),
        "optim": {g: o.state_dict() for g, o in optimizers.items()},
        "sched": {g: s.state_dict() for g, s in schedulers.items()},
        "sampler": sampler.state(),
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a kill leaves the previous checkpoint intact
