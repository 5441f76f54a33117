"""The shared training loop: per-group optimizers, one `train_step`, checkpoints, resume, NaN guard.

Methods decide *what* is optimised (Method.param_groups / Method.losses); `train_step` only
steps the groups in the order the method yields them, so it has no per-method cases. The same
`train_step` runs in the trainer, the step-time benchmark and the method tests.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import sys
import time
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Mapping

import torch
from torch import Tensor
from torch.optim import Adam
from torch.optim.lr_scheduler import LambdaLR
from tqdm import tqdm

from methods.base import Method

from .errors import BenchError
from .faults.failpoints import reached
from .loss_log import LossLog
from .distributed import DistContext
from .precision import Precision
from .profile import GroupSettings, TrainProfile
from .step_meter import StepMeter
from .trainer_data import BatchSource

CHECKPOINT = "checkpoint.pt"
PREVIOUS_CHECKPOINT = "checkpoint.prev.pt"  # the one before: what a corrupt latest falls back to
TRAIN_LOG = "train.log"  # one line per training segment: where it started, and from what
_STATE_KEYS = ("step", "elapsed", "method", "optim", "sched", "digest")


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
    losses: dict[str, Tensor]  # "group/term" -> detached 0-dim tensor on the device (back-propagated)
    diagnostics: dict[str, Tensor]  # "group/name" -> detached tensor (logged only)
    stepped: tuple[str, ...]  # groups whose optimizer stepped, in order

    def floats(self) -> dict[str, float]:
        """Losses and diagnostics as host floats (a device sync: not for every step of a run)."""
        return {k: float(v) for k, v in (self.losses | self.diagnostics).items()}


def train_step(method: Method, optim: Optimization, lr: Tensor, hr: Tensor, step: int,
               forward_context: Callable[[], ContextManager] | None = None,
               scalers: Mapping[str, torch.amp.GradScaler] | None = None,
               sync_grads: Callable[[list], None] | None = None) -> StepResult:
    """One iteration: for each yielded group, back-propagate its summed terms and step it; then
    advance the schedules of the groups that stepped.

    `forward_context` (e.g. autocast) wraps the method's forwards and losses only, not backward
    or the optimizer steps; `scalers` (fp16) scale each group's loss before backward;
    `sync_grads` (data-parallel runs) averages a group's gradients over the ranks before its step.
    Nothing here reads a value back to the host (except an fp16 scaler's skip decision), so
    steps queue on the device; the trainer checks the terms for NaN/inf every few steps.
    """
    losses: dict[str, Tensor] = {}
    diagnostics: dict[str, Tensor] = {}
    stepped: list[str] = []
    for item in _yielded(method.losses(lr, hr, step), forward_context):
        group, terms = item[0], item[1]
        if group not in optim.optimizers:
            raise BenchError(f"method {method.name!r} yielded group {group!r}; its groups: "
                             f"{', '.join(optim.optimizers)}")
        loss = sum(terms.values())
        losses.update({f"{group}/{name}": value.detach() for name, value in terms.items()})
        if len(item) > 2:
            diagnostics.update({f"{group}/{name}": torch.as_tensor(value).detach()
                                for name, value in item[2].items()})
        if _backward_and_step(optim.optimizers[group], loss, scalers.get(group) if scalers else None, sync_grads):
            stepped.append(group)
    for group in dict.fromkeys(stepped):
        optim.schedulers[group].step()
    return StepResult(losses, diagnostics, tuple(stepped))


def _backward_and_step(optimizer: torch.optim.Optimizer, loss: Tensor, scaler=None, sync_grads=None) -> bool:
    """Back-propagate and step; False when an fp16 scaler skipped the step (inf/NaN gradients)."""
    optimizer.zero_grad(set_to_none=True)
    (loss if scaler is None else scaler.scale(loss)).backward()
    if sync_grads is not None:
        sync_grads([p for g in optimizer.param_groups for p in g["params"]])
    if scaler is None:
        optimizer.step()
        return True
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
    resumed: str = ""  # how this segment started when not from scratch, e.g. "resumed at step 200 from checkpoint.pt"
    data: str = ""  # where batches came from (BatchSource.describe())
    precision: str = "fp32"


def train(method: Method, source: BatchSource, profile: TrainProfile, run_dir: Path, device: torch.device,
          progress: bool = True, desc: str = "train", dist: DistContext | None = None) -> TrainOutcome:
    """Train `method` for profile.iterations steps, resuming from run_dir/checkpoint.pt if present.

    The batch of step k is `source.batch(k)`, a pure function of (seed, k): a resumed run sees
    the batches an uninterrupted one would. Under data-parallel training (`dist`) every rank
    runs this loop on its slice of the batch; only rank 0 writes checkpoints and logs.
    """
    dist = dist or DistContext()
    precision = Precision(profile.precision)
    run_dir.mkdir(parents=True, exist_ok=True)
    method.to(device).train()
    if profile.channels_last:
        method.to(memory_format=torch.channels_last)
    optim = Optimization.for_profile(method, profile)
    scalers = precision.scalers(optim.optimizers, device)
    step, elapsed = 0, 0.0
    resume = load_checkpoint(run_dir, device, method, rename_corrupt=dist.is_main)
    if resume.state is not None:
        state = resume.state
        method.load_state_dict(state["method"])
        optim.load_state_dict(state)
        for group, scaler in (scalers or {}).items():
            if group in state.get("scalers", {}):
                scaler.load_state_dict(state["scalers"][group])
        step, elapsed = int(state["step"]), float(state["elapsed"])
    dist.broadcast(method)
    if dist.is_main:
        resume.announce(run_dir)
    log = LossLog(run_dir, every=profile.log_every) if dist.is_main else None
    if log is not None:
        log.resume(step)
    if profile.compile:
        compile_networks(method)
    meter = StepMeter(dist, start_step=step)
    forward_context = precision.forward_context(device)
    sync = dist.sync_grads if dist.active else None
    last: dict[str, float] = {}
    bar = tqdm(total=profile.iterations, initial=step, desc=desc, disable=not (progress and dist.is_main), leave=False)
    started = time.perf_counter()
    try:
        with precision.backend_flags(device):
            while step < profile.iterations:
                lr, hr = source.batch(step)
                if profile.channels_last:
                    lr, hr = (t.contiguous(memory_format=torch.channels_last) for t in (lr, hr))
                result = train_step(method, optim, lr, hr, step, forward_context, scalers, sync)
                meter.add(result.losses | {f"diag/{k}": v for k, v in result.diagnostics.items()})
                step += 1
                bar.update(1)
                if step % profile.log_every == 0 or step == profile.iterations:
                    last = meter.read(step)  # the only regular host sync: every log_every steps
                    if log is not None:
                        log.add(step, last)
                    bar.set_postfix({k: f"{v:.4g}" for k, v in last.items()}, refresh=False)
                if step % profile.checkpoint_every == 0 or step == profile.iterations:
                    meter.check(step)  # never checkpoint weights a NaN has reached
                    if device.type == "cuda":
                        torch.cuda.synchronize(device)
                    now = time.perf_counter()
                    elapsed, started = elapsed + (now - started), now
                    if dist.is_main:
                        _save_checkpoint(run_dir / CHECKPOINT, method, optim, scalers, step, elapsed)
    finally:
        if log is not None:
            log.close()
        bar.close()
    if dist.is_main:
        _note(run_dir, "finish", step, f"{elapsed:.1f}s of training in all")
    return TrainOutcome(seconds=elapsed, steps=step, last_losses=last, resumed=resume.describe(),
                        data=source.describe(), precision=precision.name)


def compile_networks(method: Method) -> None:
    """torch.compile the evaluated networks and the teacher in place (state-dict keys unchanged)."""
    nets = list(method.sr_models().values())
    if method.inputs.get("teacher") is not None:
        nets.append(method.teacher)
    for net in nets:
        net.compile()


def _save_checkpoint(path: Path, method: Method, optim: Optimization,
                     scalers: Mapping[str, torch.amp.GradScaler] | None, step: int, elapsed: float) -> None:
    """Write the checkpoint to a temporary file (synced to disk), move the current one to
    checkpoint.prev.pt, then move the new one in. A kill at any moment leaves at least one whole
    checkpoint: the current, or the previous while the new one is being moved in."""
    state = {"step": step, "elapsed": elapsed, "method": method.state_dict(), **optim.state_dict()}
    if scalers:
        state["scalers"] = {g: s.state_dict() for g, s in scalers.items()}
    state["digest"] = _digest(state)  # torch.load does not notice a flipped bit in tensor data; this does
    tmp = path.with_suffix(".tmp")
    buffer = io.BytesIO()
    torch.save(state, buffer)  # serialised first: a short write (full disk) is then an OSError, not a torch zip error
    with open(tmp, "wb") as fh:
        fh.write(buffer.getbuffer())
        fh.flush()
        os.fsync(fh.fileno())
    if path.is_file():
        os.replace(path, path.with_name(PREVIOUS_CHECKPOINT))
    reached("checkpoint-write")  # the kill soak's moment: no checkpoint.pt, only the previous one
    os.replace(tmp, path)


@dataclasses.dataclass(frozen=True)
class Resume:
    """Where a training segment starts: a checkpoint's state, or None (step 0)."""

    state: dict | None
    source: str = ""  # the file the state came from
    problems: tuple[str, ...] = ()  # checkpoints that could not be used, one phrase each

    def describe(self) -> str:
        """One line for the run's log; "" for a plain start from scratch."""
        said = "; ".join(self.problems)
        if self.state is not None:
            where = f"resumed at step {int(self.state['step'])} from {self.source}"
            return f"{said}; {where}" if said else where
        return f"{said}; restarted from step 0" if said else ""

    def announce(self, run_dir: Path) -> None:
        """Append the segment's start to run_dir/train.log; warn on stderr when a checkpoint was unusable."""
        step = int(self.state["step"]) if self.state is not None else 0
        event = "resume" if self.state is not None else "start"
        if self.problems:
            event = "fallback" if self.state is not None else "restart"
            print(f"warning: {run_dir}: {self.describe()}", file=sys.stderr)
        _note(run_dir, event, step, self.describe() or "no checkpoint")


def load_checkpoint(run_dir: Path, device: torch.device, method: Method | None = None,
                    rename_corrupt: bool = True) -> Resume:
    """The newest usable checkpoint of run_dir: checkpoint.pt, else checkpoint.prev.pt, else none.

    A file that does not load, lacks a field or does not fit `method` (truncated, corrupt) is
    renamed to <name>.corrupt, so the next save does not rotate it into the fallback slot.
    """
    problems: list[str] = []
    for name in (CHECKPOINT, PREVIOUS_CHECKPOINT):
        path = run_dir / name
        if not path.is_file():
            if name == CHECKPOINT and (run_dir / PREVIOUS_CHECKPOINT).is_file():
                problems.append(f"{CHECKPOINT} missing (killed while replacing it)")
            continue
        try:
            state = torch.load(path, map_location=device, weights_only=True)
            _check_state(state, method)
        except Exception as exc:  # a truncated zip, a flipped bit, a foreign file: fall back
            if rename_corrupt:  # one writer: under data-parallel training, rank 0
                os.replace(path, path.with_name(name + ".corrupt"))
            problems.append(f"{name} unreadable ({_cause(exc)}), kept as {name}.corrupt")
            continue
        return Resume(state, name, tuple(problems))
    return Resume(None, "", tuple(problems))


def _cause(exc: Exception) -> str:
    """A short cause: the exception's type and the first line of its message."""
    text = (str(exc).strip().splitlines() or [""])[0]
    if text.startswith("Weights only load failed"):  # torch's long advice about weights_only=False
        text = "not a file torch.load(weights_only=True) can read"
    return f"{type(exc).__name__}: {text[:120]}"


def _check_state(state, method: Method | None) -> None:
    if not isinstance(state, dict) or any(k not in state for k in _STATE_KEYS):
        raise ValueError(f"not a training checkpoint (fields {sorted(state) if isinstance(state, dict) else type(state)})")
    if _digest({k: v for k, v in state.items() if k != "digest"}) != state["digest"]:
        raise ValueError("its content does not match its SHA-256 (corrupt)")
    if method is not None:
        want = {k: tuple(v.shape) for k, v in method.state_dict().items()}
        got = {k: tuple(v.shape) for k, v in state["method"].items()}
        if want != got:
            wrong = sorted(set(want) ^ set(got)) or sorted(k for k in want if want[k] != got[k])
            raise ValueError(f"does not fit the model (first difference: {wrong[0]})")


def _digest(state: dict) -> str:
    """SHA-256 over a checkpoint's fields in a fixed order: tensors by dtype, shape and bytes."""
    digest = hashlib.sha256()

    def feed(value) -> None:
        if isinstance(value, Tensor):
            flat = value.detach().cpu().contiguous().reshape(-1)
            digest.update(f"T{value.dtype}{tuple(value.shape)}".encode())
            digest.update(flat.view(torch.uint8).numpy() if flat.numel() else b"")
        elif isinstance(value, Mapping):
            digest.update(b"{")
            for key in sorted(value, key=repr):
                digest.update(repr(key).encode())
                feed(value[key])
            digest.update(b"}")
        elif isinstance(value, (list, tuple)):
            digest.update(b"[")
            for item in value:
                feed(item)
            digest.update(b"]")
        else:
            digest.update(repr(value).encode())

    feed(state)
    return digest.hexdigest()


def _note(run_dir: Path, event: str, step: int, detail: str) -> None:
    """One tab-separated line of run_dir/train.log: time, event, step, detail."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    with open(run_dir / TRAIN_LOG, "a", encoding="utf-8") as fh:
        fh.write(f"{stamp}\t{event}\t{step}\t{detail}\n")
