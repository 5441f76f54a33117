"""The driver: plan a matrix's cells, hand ready ones to an executor, write every outcome.

Cells whose inputs are done run (in plan order); a failed cell blocks its dependents, which
are recorded as blocked with the failed input named, and everything else goes on. Only this
process writes the store.

Several drivers may share one results folder: each takes a step's lease in the store before it
runs the step (benchmarks/lease.py), refreshes its leases from a background thread while it
works, skips steps another live driver holds and polls until they are done, and takes over a
step whose owner died (the cell resumes from its checkpoint). A step another driver failed
during this run counts as failed here too, rather than being tried twice.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable, Sequence

import torch

from .errors import BenchError
from .graph.cells import ModelRef, cell_key, describe
from .graph.executors import Executor, SequentialExecutor
from .graph.jobs import Job, Outcome, now
from .graph.plan import Plan, Step, plan
from .lease import Heartbeat, LeasePolicy, Owner, owner_is_dead
from .spec import RunSpec
from .store import Claim, ResultStore

SR_DIR = "sr"  # under a model cell's folder: [<output>/]<dataset>/x<scale>/<image>.png when --save-images
HR_DIR = "hr"  # under the results dir: the modcropped references, same layout


@dataclasses.dataclass(frozen=True)
class RunContext:
    results_dir: Path
    data_dir: str | None = None
    device: str = "auto"
    progress: bool = True
    save_images: bool = False
    lease: LeasePolicy = LeasePolicy()

    def torch_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def run_dir(self, key: str) -> Path:
        return self.results_dir / "runs" / key

    def sr_dir(self, ref: ModelRef) -> Path:
        """Where a model output's SR images are saved (with --save-images)."""
        base = self.run_dir(cell_key(ref.cell)) / SR_DIR
        return base / ref.output if ref.output else base


@dataclasses.dataclass(frozen=True)
class MatrixOutcome:
    plan: Plan
    failed: list[str]  # one line per failed or blocked step


def _rekeyed(pending, store: ResultStore) -> int:
    """How many model cells about to run have a finished twin that differs only in code version."""
    from .graph.cells import base_key

    models = [step.model for step in pending if step.kind != "eval" and step.model is not None]
    done = store.done_base_keys(base_key(cell) for cell in models)
    return sum(base_key(cell) in done for cell in models)


def run_matrix(specs: Sequence[RunSpec], store: ResultStore, ctx: RunContext, executor: Executor | None = None,
               log: Callable[[str], None] = print) -> MatrixOutcome:
    """Run every cell of `specs` not yet done; see the module docstring."""
    executor = executor or SequentialExecutor()
    the_plan = plan(specs, store)
    legacy = store.legacy_count()
    if legacy:
        log(f"note: {legacy} results of the earlier run-per-row schema in {store.path} are kept but not reused "
            "(their keys predate the run graph); `bench ls runs` lists them")
    for key in the_plan.missing_files:
        log(f"model files of finished cell {key} are missing; it runs again")
    pending = the_plan.todo()
    log(the_plan.summary() + (f" ({len(pending)} job{'s' if len(pending) != 1 else ''})" if pending else ""))
    rekeyed = _rekeyed(pending, store)
    if rekeyed:
        log(f"note: {rekeyed} of the cells to train/derive were finished under an earlier version of the code "
            "they run; that code changed, so they run again (`bench ls runs --stale` lists what changed)")
    driver = _Driver(store, ctx, executor, the_plan, log, len(pending))
    with Heartbeat(store, driver.owner, ctx.lease.heartbeat_s, log):
        while pending:
            blocked = True
            while blocked:  # to a fixpoint: what depends on a blocked step is blocked too
                blocked = [s for s in pending if s.key not in driver.failed and any(d in driver.failed for d in s.deps)]
                for step in blocked:
                    driver.block(step)
            pending = [s for s in pending if s.key not in driver.failed]
            ready = [s for s in pending if all(d in the_plan.done for d in s.deps)]
            if not ready:
                if pending:
                    raise BenchError(f"{len(pending)} cells wait on inputs that are not planned (a bug)")
                break
            ran = driver.run_ready(ready)
            progressed = ran or any(driver.settled(s) for s in ready)
            pending = [s for s in pending if not driver.settled(s)]
            if not progressed and pending:
                time.sleep(ctx.lease.poll_s)  # everything ready is another driver's: look again
        # Leases a killed run left on steps that finished anyway (killed between storing and releasing).
        store.release_dead_leases(lambda lease: owner_is_dead(lease, ctx.lease))
    return MatrixOutcome(the_plan, driver.failures)


# Errors of a job that say the machine cannot write: the rest of the matrix would fail the same way.
_ENVIRONMENT_FAULTS = ("No space left on device", "Disk quota exceeded", "Read-only file system", "File too large")


class _Driver:
    """The loop's state: leases, failures, the progress counter; the single writer of the store."""

    def __init__(self, store: ResultStore, ctx: RunContext, executor: Executor, the_plan: Plan,
                 log: Callable[[str], None], total: int):
        self.store, self.ctx, self.executor, self.plan, self.log = store, ctx, executor, the_plan, log
        self.owner = Owner.current()
        self.started = now()
        self.failed: dict[str, str] = {}
        self.roots: dict[str, tuple[str, str]] = {}  # blocked step -> (the failed cell behind it, its error)
        self.failures: list[str] = []
        self.counter = {"n": 0, "total": total}
        self.waiting: dict[str, str] = {}  # step -> owner id it was last seen held by (said once)

    def settled(self, step: Step) -> bool:
        return step.key in self.failed or all(cell_key(c) in self.plan.done for c in step.cells)

    def block(self, step: Step) -> None:
        dep = next(d for d in step.deps if d in self.failed)
        root, cause = self.roots.get(dep, (dep, self.failed[dep]))
        error = f"blocked: input {root} failed ({cause})"
        _write(self.store, step, Outcome(step.key, "blocked", error=error, created=now()))
        self.failed[step.key], self.roots[step.key] = error, (root, cause)
        self.failures.append(f"{_name(step)}: {error}")
        self.log(f"    BLOCKED {_name(step)}: input {root} failed")

    def run_ready(self, ready: list[Step]) -> bool:
        """Claim ready steps in order and run them in batches of the executor's size; False when
        every one was held by another driver (or settled by one)."""
        size = getattr(self.executor, "batch", None) or getattr(self.executor, "workers", None) or len(ready)
        batch: list[Step] = []
        ran = False
        for step in ready:
            if self._claim(step):
                batch.append(step)
            if len(batch) == size:
                self._run_batch(batch)
                batch, ran = [], True
        if batch:
            self._run_batch(batch)
            ran = True
        return ran

    def _claim(self, step: Step) -> bool:
        """Take the step's lease; settle it instead when another driver finished or failed it."""
        keys = [cell_key(c) for c in step.cells]
        claim = self.store.acquire_lease(step.key, self.owner, keys,
                                         lambda lease: owner_is_dead(lease, self.ctx.lease))
        if claim.state == "done":
            self.plan.done.update(keys)
            self.log(f"    done by another run: {_name(step)}")
            return False
        if claim.state == "held":
            if self.waiting.get(step.key) != claim.holder.owner.id:
                self.waiting[step.key] = claim.holder.owner.id
                self.log(f"    waiting: {_name(step)} is running in another run ({claim.holder.owner.describe()})")
            return False
        recorded = self._recorded_elsewhere(claim, keys)
        if recorded is not None:
            self.store.release_lease(step.key, self.owner)
            if recorded:
                self.failed[step.key] = recorded
                self.failures.append(f"{_name(step)}: {recorded} (recorded by another run)")
                self.log(f"    FAILED in another run: {_name(step)}: {recorded}")
            else:  # e.g. a metric another run found unavailable: tried once per run, not twice
                self.plan.done.update(keys)
                self.log(f"    done by another run: {_name(step)}")
            return False
        if claim.holder is not None:
            lease = claim.holder
            why = (f"no heartbeat for {lease.age():.0f}s" if lease.age() > self.ctx.lease.stale_after_s
                   else "its process is gone")
            self.log(f"    taking over {_name(step)} from {lease.owner.describe()} ({why})")
        return True

    def _recorded_elsewhere(self, claim: Claim, keys: list[str]) -> str | None:
        """None unless another driver recorded every cell of the step since this run began; then
        the error of a failed or blocked one, or "" (recorded, nothing failed)."""
        found = [claim.cells.get(k) for k in keys]
        if not keys or any(f is None or f[2] < self.started for f in found):
            return None
        return next((error for status, error, _ in found if status in ("failed", "blocked")), "")

    def _run_batch(self, ready: list[Step]) -> None:
        jobs = {}
        for step in ready:
            self.counter["n"] += 1
            self.log(f"[{self.counter['n']}/{self.counter['total']}] {_name(step)}")
            try:
                jobs[step.key] = step, _job(step, self.store, self.ctx)
            except BenchError as exc:
                self._record(step, Outcome(step.key, "failed", error=str(exc), created=now()))
        for job, outcome in self.executor.run([j for _, j in jobs.values()]):
            self._record(jobs[job.key][0], outcome)

    def _record(self, step: Step, outcome: Outcome) -> None:
        """The single writer: store the outcome, free the lease, mark the step done or failed."""
        _write(self.store, step, outcome)
        self.store.release_lease(step.key, self.owner)
        if outcome.status == "ok":
            self.plan.done.update(cell_key(c) for c in step.cells)
            self.log("    " + _ok_line(step, outcome))
            return
        self.failed[step.key] = outcome.error
        self.failures.append(f"{_name(step)}: {outcome.error}")
        self.log(f"    FAILED: {outcome.error}")
        if any(fault in outcome.error for fault in _ENVIRONMENT_FAULTS):
            raise BenchError(f"{_name(step)}: {outcome.error}; stopping, as every other cell would fail the same way "
                             f"(free space or fix the folder, then run again: finished cells are kept)")


def _name(step: Step) -> str:
    if step.model is not None:
        return describe(step.model)
    return f"eval {describe(step.ref.cell)} on {step.evals[0].dataset} ({', '.join(c.metric for c in step.evals)})"


def _write(store: ResultStore, step: Step, outcome: Outcome) -> None:
    if step.model is not None:
        store.put_cell(step.model, outcome)
    else:
        store.put_eval(step.evals, outcome)


def _ok_line(step: Step, outcome: Outcome) -> str:
    if step.kind == "eval":
        parts = [f"{s['dataset']} {s['metric']} {s['value']:.4f}" if s["value"] is not None
                 else f"{s['dataset']} {s['metric']} n/a" for s in outcome.scores]
        return "ok: " + ", ".join(parts)
    secs = f" ({outcome.seconds:.1f}s training)" if outcome.seconds else ""
    resumed = outcome.info.get("resumed") if isinstance(outcome.info, dict) else ""
    return f"ok{secs}: {outcome.params:,} parameters" + (f"; {resumed}" if resumed else "")


def _model_file(store: ResultStore, ref: ModelRef) -> str:
    record = store.record(cell_key(ref.cell))
    if record is None or record.status != "ok":
        raise BenchError(f"input model {ref.key()} is not done")
    if ref.output not in record.outputs:
        saved = ", ".join(o or "main" for o in record.outputs) or "none"
        raise BenchError(f"cell {describe(ref.cell)} saved no output {ref.output!r}; it saved: {saved}")
    return record.outputs[ref.output]


def _job(step: Step, store: ResultStore, ctx: RunContext) -> Job:
    common = dict(data_dir=ctx.data_dir, device=str(ctx.torch_device()), progress=ctx.progress)
    if step.model is None:
        ref = step.ref
        spec = {"dataset": step.evals[0].dataset, "scale": step.evals[0].scale,
                "metrics": [{"key": cell_key(c), "metric": c.metric} for c in step.evals]}
        if ctx.save_images:
            spec |= {"save_dir": str(ctx.sr_dir(ref)), "hr_save_dir": str(ctx.results_dir / HR_DIR)}
        return Job(step.key, "eval", spec, {"model": _model_file(store, ref)}, str(ctx.run_dir(cell_key(ref.cell))),
                   label=_name(step), **common)
    cell = step.model
    inputs = {role: _model_file(store, ref) for role, ref in cell.input_refs().items()}
    if cell.kind == "train":
        spec = {"method": cell.method, "arch": cell.arch.arch, "options": cell.arch.kwargs, "scale": cell.scale,
                "seed": cell.seed, "profile": dataclasses.asdict(cell.profile), "train_set": cell.train_set,
                "cfg_json": cell.cfg_json}
    elif cell.kind == "load":
        spec = {"arch": cell.arch.arch, "options": cell.arch.kwargs, "scale": cell.scale, "weights": cell.arch.weights}
    else:
        spec = {"transform": cell.transform, "params_json": cell.params_json}
    return Job(step.key, cell.kind, spec, inputs, str(ctx.run_dir(step.key)), label=cell.label or cell.kind, **common)

