"""Runs matrices: teachers first (once each), then every run not already in the store."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import traceback
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import nn

from data_manifest import load_train_images
from methods import build_method

from .archs import build_arch, count_params
from .archs.zoo import load_pretrained
from .conditions import describe
from .errors import BenchError
from .evaluate import evaluate_model
from .spec import RunSpec
from .store import ResultStore, RunResult
from .train import train
from .trainer_data import PatchSampler

MODEL_FILE = "model.pt"
SR_DIR = "sr"  # under a run's folder: <dataset>/x<scale>/<image>.png when --save-images
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


def run_one(spec: RunSpec, ctx: RunContext, teacher_seconds: float | None = None) -> RunResult:
    """Train (or load) and evaluate one run. Never raises: a failure is a recorded result."""
    key = spec.key()
    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    device = ctx.torch_device()
    conditions = json.dumps(describe(device))
    try:
        torch.manual_seed(spec.seed)
        run_dir = ctx.run_dir(key)
        train_seconds, teacher_key = None, None
        if spec.is_reference:
            model = _reference_model(spec)
        else:
            teacher = None
            if spec.teacher is not None:
                teacher_key = spec.teacher_spec().key()
                teacher = _teacher_model(spec, ctx).to(device)
            student = build_arch(spec.student.arch, spec.scale, **spec.student.kwargs)
            method = build_method(spec.method, student, spec.cfg, teacher=teacher, scale=spec.scale)
            sampler = PatchSampler(load_train_images(spec.train_set, ctx.data_dir), spec.scale,
                                   spec.profile.patch_size, spec.profile.augment, seed=spec.seed)
            outcome = train(method, sampler, spec.profile, run_dir, device, ctx.progress,
                            desc=f"{spec.label} x{spec.scale} s{spec.seed}")
            train_seconds = outcome.seconds
            model = method.sr_model()
            _save_model(model, run_dir / MODEL_FILE)
        set_scores, image_scores = evaluate_model(
            model, spec.scale, spec.eval_sets, spec.metrics, ctx.data_dir, device,
            save_dir=run_dir / SR_DIR if ctx.save_images else None, progress=ctx.progress,
            hr_save_dir=ctx.results_dir / HR_DIR if ctx.save_images else None)
        return RunResult(key, spec, "ok", params=count_params(model), train_seconds=train_seconds,
                         teacher_key=teacher_key, teacher_seconds=teacher_seconds,
                         set_scores=tuple(set_scores), image_scores=tuple(image_scores),
                         conditions=conditions, created=created)
    except KeyboardInterrupt:
        raise
    except BenchError as exc:
        return RunResult(key, spec, "failed", error=str(exc), conditions=conditions, created=created)
    except Exception as exc:  # recorded, the matrix goes on
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return RunResult(key, spec, "failed", error=detail, conditions=conditions, created=created)


def _reference_model(spec: RunSpec) -> nn.Module:
    if spec.student.weights:
        return load_pretrained(spec.student.arch, spec.student.weights, spec.scale, **spec.student.kwargs)
    return build_arch(spec.student.arch, spec.scale, **spec.student.kwargs)


def _teacher_model(spec: RunSpec, ctx: RunContext) -> nn.Module:
    teacher = spec.teacher
    assert teacher is not None
    if teacher.weights:
        return load_pretrained(teacher.arch, teacher.weights, spec.scale, **teacher.kwargs)
    path = ctx.run_dir(spec.teacher_spec().key()) / MODEL_FILE
    return load_pretrained(teacher.arch, path, spec.scale, **teacher.kwargs)


def _save_model(model: nn.Module, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)


def run_matrix(specs: Sequence[RunSpec], store: ResultStore, ctx: RunContext,
               log: Callable[[str], None] = print) -> list[RunResult]:
    """Run every spec not yet done; teachers of KD runs are trained (or loaded) once, first."""
    teachers: dict[str, RunSpec] = {}
    for spec in specs:
        if spec.teacher is not None:
            tspec = spec.teacher_spec()
            teachers.setdefault(tspec.key(), tspec)
    results: list[RunResult] = []
    teacher_seconds: dict[str, float | None] = {}
    for key, tspec in teachers.items():
        if not store.is_done(key):
            log(f"teacher {tspec.student.label} x{tspec.scale} ({tspec.profile.name})")
            result = run_one(tspec, ctx)
            store.put(result)
            results.append(result)
            _log_result(result, log)
        teacher_seconds[key] = store.train_seconds(key)
    first: dict[str, RunSpec] = {}
    for spec in specs:
        first.setdefault(spec.key(), spec)  # a run shared by two rows (an ablation row) runs once
    unique = list(first.values())
    todo = [s for s in unique if not store.is_done(s.key())]
    log(f"{len(unique)} runs in the matrix, {len(unique) - len(todo)} already done, {len(todo)} to run")
    for i, spec in enumerate(todo, 1):
        tkey = spec.teacher_spec().key() if spec.teacher is not None else None
        if tkey is not None and store.status(tkey) != "ok":
            result = RunResult(spec.key(), spec, "failed", error=f"teacher run {tkey} failed; see its error")
        else:
            log(f"[{i}/{len(todo)}] {spec.label} ({spec.student.label}) x{spec.scale} seed {spec.seed}")
            result = run_one(spec, ctx, teacher_seconds=teacher_seconds.get(tkey) if tkey else None)
        store.put(result)
        results.append(result)
        _log_result(result, log)
    return results


def _log_result(result: RunResult, log: Callable[[str], None]) -> None:
    if result.status != "ok":
        log(f"    FAILED: {result.error}")
        return
    parts = [f"{s.dataset} {s.metric} {s.value:.4f}" if s.value is not None else f"{s.dataset} {s.metric} n/a"
             for s in result.set_scores]
    secs = f" ({result.train_seconds:.1f}s training)" if result.train_seconds else ""
    log(f"    ok{secs}: " + ", ".join(parts))
