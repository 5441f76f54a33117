"""Frozen descriptions of what a run is: architecture, training profile, and the run spec.

A RunSpec's key hashes everything that changes its numbers (and the harness code version),
so results of different settings or code are never mixed and finished runs are skipped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from .errors import BenchError

_PKG_ROOT = Path(__file__).resolve().parent.parent
# Code whose changes change results; CLI, reports and perf scripts are excluded.
_VERSIONED = ("benchmarks/archs", "benchmarks/metrics", "benchmarks/train.py", "benchmarks/evaluate.py",
              "benchmarks/trainer_data.py", "methods", "data_manifest")


@lru_cache(maxsize=1)
def code_version() -> str:
    """Short hash of the harness source that produces numbers."""
    digest = hashlib.sha256()
    for rel in _VERSIONED:
        path = _PKG_ROOT / rel
        files = sorted(path.rglob("*.py")) + sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                digest.update(str(file.relative_to(_PKG_ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_jsonable)


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return dataclasses.asdict(obj)
    if isinstance(obj, tuple):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not serialisable: {obj!r}")


@dataclasses.dataclass(frozen=True)
class ArchSpec:
    """An architecture by registry name plus its size options (as a sorted tuple of pairs)."""

    label: str
    arch: str
    options_json: str = "{}"  # size options as canonical JSON (hashable, order-free)
    weights: str | None = None  # a checkpoint to load instead of training (zoo / user teacher)

    @classmethod
    def make(cls, label: str, arch: str, options: Mapping[str, Any] | None = None,
             weights: str | None = None) -> "ArchSpec":
        return cls(label, arch, canonical_json(dict(options or {})), weights)

    @property
    def kwargs(self) -> dict[str, Any]:
        return json.loads(self.options_json)

    def identity(self) -> dict[str, Any]:
        """What determines the network (the display label does not)."""
        ident: dict[str, Any] = {"arch": self.arch, "options": self.kwargs}
        if self.weights:
            ident["weights"] = _file_identity(self.weights)
        return ident


def _file_identity(path: str) -> str:
    p = Path(path)
    if not p.is_file():
        return path
    stat = p.stat()
    return f"{p.name}:{stat.st_size}:{int(stat.st_mtime)}"


@dataclasses.dataclass(frozen=True)
class TrainProfile:
    """How long and how a model is trained; `smoke` and `paper` come from the matrix YAML."""

    name: str
    iterations: int
    batch_size: int
    patch_size: int  # LR patch side; HR patch = patch_size * scale
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    milestones: tuple[int, ...] = ()  # steps at which the learning rate is multiplied by gamma
    gamma: float = 0.5
    checkpoint_every: int = 500
    augment: bool = True  # random flips and 90-degree rotations

    def __post_init__(self) -> None:
        for name in ("iterations", "batch_size", "patch_size", "checkpoint_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise BenchError(f"profile {self.name!r}: {name} must be a positive integer, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise BenchError(f"profile {self.name!r}: lr must be a positive number, got {self.lr!r}")

    @classmethod
    def from_mapping(cls, name: str, data: Mapping[str, Any], where: str) -> "TrainProfile":
        fields = {f.name for f in dataclasses.fields(cls)} - {"name"}
        unknown = set(data) - fields
        if unknown:
            raise BenchError(f"{where}: unknown field {sorted(unknown)[0]!r}; valid fields: {', '.join(sorted(fields))}")
        missing = {"iterations", "batch_size", "patch_size", "lr"} - set(data)
        if missing:
            raise BenchError(f"{where}: missing field {sorted(missing)[0]!r}")
        kwargs = dict(data)
        for key in ("betas", "milestones"):
            if key in kwargs:
                if not isinstance(kwargs[key], (list, tuple)):
                    raise BenchError(f"{where}.{key}: expected a list, got {kwargs[key]!r}")
                kwargs[key] = tuple(kwargs[key])
        if "lr" in kwargs:
            try:
                kwargs["lr"] = float(kwargs["lr"])
            except (TypeError, ValueError):
                raise BenchError(f"{where}.lr: expected a number, got {kwargs['lr']!r}") from None
        return cls(name=name, **kwargs)


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One cell of a matrix: train (or load) one model at one scale and seed, then evaluate it."""

    label: str
    method: str  # a registered method, or "reference" for evaluation-only models
    student: ArchSpec
    scale: int
    seed: int
    profile: TrainProfile
    train_set: str
    eval_sets: tuple[str, ...]
    metrics: tuple[str, ...]
    method_cfg_json: str = "{}"
    teacher: ArchSpec | None = None
    row_id: str = ""  # id matching the papers' rows (e.g. "ablation-sr-asr"); display only, not hashed

    @property
    def id(self) -> str:
        return self.row_id or self.method

    @property
    def is_reference(self) -> bool:
        return self.method == "reference"

    @property
    def cfg(self) -> dict[str, Any]:
        return json.loads(self.method_cfg_json)

    def identity(self) -> dict[str, Any]:
        ident: dict[str, Any] = {
            "method": self.method,
            "model": self.student.identity(),
            "scale": self.scale,
            "eval_sets": list(self.eval_sets),
            "metrics": list(self.metrics),
            "code": code_version(),
        }
        if not self.is_reference:
            ident.update(seed=self.seed, profile=dataclasses.asdict(self.profile), train_set=self.train_set,
                         method_cfg=self.cfg, teacher=self.teacher.identity() if self.teacher else None)
        return ident

    def key(self) -> str:
        return hashlib.sha256(canonical_json(self.identity()).encode()).hexdigest()[:20]

    def teacher_spec(self) -> "RunSpec":
        """The teacher's own run: the baseline method on the teacher arch, same data and profile."""
        if self.teacher is None:
            raise BenchError(f"run {self.label!r} has no teacher")
        method = "reference" if self.teacher.weights else "baseline"
        return dataclasses.replace(self, label=f"Teacher {self.teacher.label}", method=method, row_id="teacher",
                                   student=self.teacher, teacher=None, method_cfg_json="{}", seed=0)
