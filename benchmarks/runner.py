"""The driver: plan a matrix's cells, hand ready ones to an executor, write every outcome.

Cells whose inputs are done run (in plan order); a failed cell blocks its dependents, which
are recorded as blocked with the failed input named, and everything else goes on. Only this
process writes the store.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Sequence

import torch

from .errors import BenchError
from .graph.cells import ModelRef, cell_key, describe
from .graph.executors import Executor, SequentialExecutor
from .graph.jobs import Job, Outcome, now
from .graph.plan import Plan, Step, plan
from .spec import RunSpec
from .store import ResultStore

SR_DIR = "sr"  # under a model cell's folder: [<output>/]<dataset>/x<scale>/<image>.png when --save-images
HR_DIR = "hr"  # under the results dir: the modcropped references, same layout


@dataclasses.dataclass(frozen=True)
class RunContext:
    results_dir: Path
    data_dir: str | None = None
    device: str = "auto"
    progress: bool = True
    save_images: bool = False

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
    failed: dict[str, str] = {}
    roots: dict[str, tuple[str, str]] = {}  # blocked step -> (the failed cell behind it, its error)
    failures: list[str] = []
    counter = {"n": 0, "total": len(pending)}
    while pending:
        blocked = [s for s in pending if any(d in failed for d in s.deps)]
        for step in blocked:
            dep = next(d for d in step.deps if d in failed)
            root, cause = roots.get(dep, (dep, failed[dep]))
            error = f"blocked: input {root} failed ({cause})"
            _write(store, step, Outcome(step.key, "blocked", error=error, created=now()))
            failed[step.key], roots[step.key] = error, (root, cause)
            failures.append(f"{_name(step)}: {error}")
            log(f"    BLOCKED {_name(step)}: input {root} failed")
        ready = [s for s in pending if s not in blocked and all(d in the_plan.done for d in s.deps)]
        pending = [s for s in pending if s not in blocked and s not in ready]
        if not ready:
            if pending:
                raise BenchError(f"{len(pending)} cells wait on inputs that are not planned (a bug)")
            break
        size = getattr(executor, "batch", None) or len(ready)
        for i in range(0, len(ready), size):
            _run_batch(ready[i:i + size], store, ctx, executor, the_plan, failed, failures, counter, log)
    return MatrixOutcome(the_plan, failures)


def _run_batch(ready: list[Step], store: ResultStore, ctx: RunContext, executor: Executor, the_plan: Plan,
               failed: dict[str, str], failures: list[str], counter: dict, log: Callable[[str], None]) -> None:
    jobs = {}
    for step in ready:
        counter["n"] += 1
        log(f"[{counter['n']}/{counter['total']}] {_name(step)}")
        try:
            jobs[step.key] = step, _job(step, store, ctx)
        except BenchError as exc:
            _record(step, Outcome(step.key, "failed", error=str(exc), created=now()), store, the_plan, failed,
                    failures, log)
    for job, outcome in executor.run([j for _, j in jobs.values()]):
        _record(jobs[job.key][0], outcome, store, the_plan, failed, failures, log)


def _record(step: Step, outcome: Outcome, store: ResultStore, the_plan: Plan, failed: dict[str, str],
            failures: list[str], log: Callable[[str], None]) -> None:
    """The single writer: store the outcome, and mark the step done or failed for the loop."""
    _write(store, step, outcome)
    if outcome.status == "ok":
        the_plan.done.update(cell_key(c) for c in step.cells)
        log("    " + _ok_line(step, outcome))
    else:
        failed[step.key] = outcome.error
        failures.append(f"{_name(step)}: {outcome.error}")
        log(f"    FAILED: {outcome.error}")

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
    return f"ok{secs}: {outcome.params:,} parameters"


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

