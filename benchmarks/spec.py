"""Frozen descriptions of a matrix row: architectures, and the row (RunSpec) a report shows.

A RunSpec is one row of a matrix: a label, the model it shows (a reference into the run graph,
benchmarks/graph/cells.py), the profile, and what it is scored on. Its key is its model's key;
what makes a number (the cells and their keys) lives in the graph.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .errors import BenchError
from .profile import TrainProfile

if TYPE_CHECKING:
    from .graph.cells import ModelRef


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

    def structure(self) -> dict[str, Any]:
        """What determines the network's shape (not the label, not the weights file)."""
        return {"arch": self.arch, "options": self.kwargs}


def file_identity(path: str) -> str:
    """A weights file by content (SHA-256), so a renamed copy keys the same and an edit re-keys."""
    p = Path(path)
    if not p.is_file():
        return f"missing:{path}"
    stat = p.stat()
    return _sha256_cached(str(p.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=None)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


@lru_cache(maxsize=None)
def dataset_identity(name: str) -> str:
    """A dataset by its manifest entry (pixel hashes, layout): other entries do not matter."""
    from data_manifest.manifest import read_manifest_yaml

    entry = read_manifest_yaml()["datasets"].get(name)
    if entry is None:
        return name
    return name + ":" + hashlib.sha256(canonical_json(entry).encode()).hexdigest()[:16]



@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One row of a matrix: the model it shows, scored on `eval_sets` with `metrics`."""

    label: str
    method: str  # the row's method, "reference" for evaluation-only models
    model: "ModelRef"
    profile: TrainProfile
    eval_sets: tuple[str, ...]
    metrics: tuple[str, ...]
    row_id: str = ""  # id matching the papers' rows (e.g. "ablation-sr-asr"); display only

    @property
    def id(self) -> str:
        return self.row_id or self.method

    @property
    def cell(self):
        return self.model.cell

    @property
    def is_reference(self) -> bool:
        return self.method == "reference"

    @property
    def student(self) -> ArchSpec:
        """The architecture of the row's network (for a derived model, its source's)."""
        cell = self.cell
        while not hasattr(cell, "arch"):
            cell = cell.source.cell
        return cell.arch

    @property
    def scale(self) -> int:
        return self.cell.scale

    @property
    def seed(self) -> int:
        return getattr(self.cell, "seed", 0)

    @property
    def cfg(self) -> dict[str, Any]:
        return json.loads(getattr(self.cell, "cfg_json", "{}"))

    @property
    def train_set(self) -> str | None:
        return getattr(self.cell, "train_set", None)

    @property
    def teacher(self) -> "ModelRef | None":
        inputs = getattr(self.cell, "inputs", ())
        return dict(inputs).get("teacher")

    def key(self) -> str:
        return self.model.key()

    def teacher_spec(self) -> "RunSpec":
        """The teacher's own row (row id "teacher"), scored like this row."""
        teacher = self.teacher
        if teacher is None:
            raise BenchError(f"run {self.label!r} has no teacher")
        cell = teacher.cell
        method = getattr(cell, "method", "reference" if cell.kind == "load" else cell.kind)
        label = getattr(cell, "label", "") or getattr(getattr(cell, "arch", None), "label", "")
        return dataclasses.replace(self, label=f"Teacher {label}".strip(), method=method, model=teacher,
                                   row_id="teacher")
