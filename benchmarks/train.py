"""The shared training loop: per-group optimizers, one `train_step`, checkpoints, resume, NaN guard.

Methods decide *what* is optimised (Method.param_groups / Method.losses); `train_step` only
steps the groups in the order the method yields them, so it has no per-method cases. The same
`train_step` runs in the trainer, the step-time benchmark and the method tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import time
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Mapping

import torch
from torch import Tensor
from torch.optim import Adam
from torch.optim.lr_scheduler import LambdaLR
from tqdm import tqdm

from methods.base import Method

from .errors import BenchError, TrainingDiverged
from .loss_log import LossLog
from .profile import GroupSettings, TrainProfile
from .trainer_data import PatchSampler

CHECKPOINT = "checkpoint.pt"


class Optimization:
    """One Adam and one step-decay/warm-up schedule per parameter group.

    A group's schedule counts that group's own steps: a group not stepped in an iteration (a
    discriminator updated every other step) does not advance its learning-rate schedule.
    """

    def __init__(self, method: Method, settings: Mapping[str, GroupSettings]):
        groups = method.param_groups()
        missing = set(groups) - set(settings)
        if missing:
            raise BenchError(f"no optimizer settings for group(s) {sorted(missing)}")
        self.settings = dict(settings)
        self.optimizers = {g: Adam(params, lr=settings[g].lr, betas=settings[g].betas) for g, params in groups.items()}
        self.schedulers = {g: LambdaLR(opt, settings[g].factor) for g, opt in self.optimizers.items()}

    @classmethod
    def for_profile(cls, method: Method, profile: TrainProfile) -> "Optimization":
        overrides = method.optim_settings()
        return cls(method, {g: profile.group_settings(g, overrides.get(g)) for g in method.param_groups()})

    @classmethod
    def uniform(cls, method: Method, lr: float, betas: tuple[float, float] = (0.9, 0.999)) -> "Optimization":
        """Every group with the same plain Adam (tests, benchmarks)."""
        return cls(method, {g: GroupSettings(lr, betas) for g in method.param_groups()})

    def lr(self, group: str) -> float:
        return float(self.optimizers[group].param_groups[0]["lr"])

    def state_dict(self) -> dict:
        return {"optim": {g: o.state_dict() for g, o in self.optimizers.items()},
                "sched": {g: s.state_dict() for g, s in self.schedulers.items()}}

    def load_state_dict(self, state: dict) -> None:
        for g, opt in self.optimizers.items():
            opt.load_state_dict(state["optim"][g])
            self.schedulers[g].load_state_dict(state["sched"][g])


@dataclasses.dataclass(frozen=True)
class StepResult:
    losses: dict[str, float]  # "group/term" -> value (back-propagated)
    diagnostics: dict[str, float]  # "group/name" -> value (logged only)
    stepped: tuple[str, ...]  # groups whose optimizer stepped, in order


def train_step(method: Method, optim: Optimization, lr: Tensor, hr: Tensor, step: int,
               forward_context: Callable[[], ContextManager] | None = None,
               scalers: Mapping[str, torch.amp.GradScaler] | None = None) -> StepResult:
    """One iteration: for each yielded group, back-propagate its summed terms and step it; then
    advance the schedules of the groups that stepped.

    `forward_context` (e.g. autocast) wraps the method's forwards and losses only, not backward
    or the optimizer steps; `scalers` (fp16) scale each group's loss before backward.
    """
    losses: dict[str, float] = {}
    diagnostics: dict[str, float] = {}
    stepped: list[str] = []
    for item in _yielded(method.losses(lr, hr, step), forward_context):
        group, terms = item[0], item[1]
        if group not in optim.optimizers:
            raise BenchError(f"method {method.name!r} yielded group {group!r}; its groups: "
                             f"{', '.join(optim.optimizers)}")
        loss = _checked_sum(group, terms, step)
        losses.update({f"{group}/{name}": float(value.detach()) for name, value in terms.items()})
        if len(item) > 2:
            diagnostics.update({f"{group}/{name}": float(torch.as_tensor(value).detach())
                                for name, value in item[2].items()})
        if _backward_and_step(optim.optimizers[group], loss, scalers.get(group) if scalers else None):
            stepped.append(group)
    for group in dict.fromkeys(stepped):
        optim.schedulers[group].step()
    return StepResult(losses, diagnostics, tuple(stepped))


def _backward_and_step(optimizer: torch.optim.Optimizer, loss: Tensor, scaler=None) -> bool:
    """Back-propagate and step; False when an fp16 scaler skipped the step (inf/NaN gradients)."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        optimizer.step()
        return True
    scaler.scale(loss).backward()
    before = scaler.get_scale()
    scaler.step(optimizer)
    scaler.update()
    return scaler.get_scale() >= before


def _yielded(items: Iterator, context: Callable[[], ContextManager] | None) -> Iterator:
    """The method's yields, each computed inside `context` when one is given."""
    while True:
        with context() if context is not None else contextlib.nullcontext():
            try:
                item = next(items)
            except StopIteration:
                return
        yield item


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
    optim = Optimization.for_profile(method, profile)
    step, elapsed = 0, 0.0
    ckpt_path = run_dir / CHECKPOINT
    if ckpt_path.is_file():
        state = torch.load(ckpt_path, map_location=device, weights_only=True)
        method.load_state_dict(state["method"])
        optim.load_state_dict(state)
        sampler.load_state(state["sampler"].cpu())
        step, elapsed = int(state["step"]), float(state["elapsed"])
    log = LossLog(run_dir, every=profile.log_every)
    log.resume(step)
    last: dict[str, float] = {}
    bar = tqdm(total=profile.iterations, initial=step, desc=desc, disable=not progress, leave=False)
    started = time.perf_counter()
    try:
        while step < profile.iterations:
            lr, hr = (t.to(device, non_blocking=True) for t in sampler.batch(profile.batch_size))
            result = train_step(method, optim, lr, hr, step)
            last = result.losses
            step += 1
            log.add(step, result.losses | {f"diag/{k}": v for k, v in result.diagnostics.items()})
            bar.update(1)
            if progress and step % 10 == 0:
                bar.set_postfix({k: f"{v:.4g}" for k, v in last.items()}, refresh=False)
            if step % profile.checkpoint_every == 0 or step == profile.iterations:
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                now = time.perf_counter()
                elapsed, started = elapsed + (now - started), now
                _save_checkpoint(ckpt_path, method, optim, sampler, step, elapsed)
    finally:
        log.close()
        bar.close()
    return TrainOutcome(seconds=elapsed, steps=step, last_losses=last)


def _checked_sum(group: str, terms: dict[str, Tensor], step: int) -> Tensor:
    for name, value in terms.items():
        v = float(value.detach())
        if not math.isfinite(v):
            raise TrainingDiverged(f"loss term {group}/{name} is {v} at step {step}; "
                                   f"the last checkpoint is kept (lower the learning rate?)")
    return sum(terms.values())  # type: ignore[return-value]


def _save_checkpoint(path: Path, method: Method, optim: Optimization, sampler: PatchSampler, step: int,
                     elapsed: float) -> None:
    state = {"step": step, "elapsed": elapsed, "method": method.state_dict(), "sampler": sampler.state(),
             **optim.state_dict()}
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a kill leaves the previous checkpoint intact
