"""Cells of the run graph and their keys.

Model cells produce networks: `TrainCell` (a method trains a network, with named input models),
`LoadCell` (a checkpoint file, keyed by its content hash; or a parameter-free arch such as
bicubic), `DeriveCell` (a transform of another model, e.g. pruning). An `EvalCell` scores one
model output on one test set with one metric. A cell's key hashes its own inputs, its input
cells' keys and the version of the code it executes (codeversion.py): a new method, metric or
dataset entry never re-keys finished work, and one more metric evaluates, never retrains.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from typing import Any, ClassVar, Union

from ..archs import ARCHS
from ..profile import TrainProfile
from ..spec import ArchSpec, canonical_json, dataset_identity, file_identity
from .codeversion import KEY_SCHEMA, default_index, fingerprint

MAIN = ""  # a model reference's output name for the cell's main (first evaluated) network


def _arch_module(name: str) -> str:
    return ARCHS.get(name).__module__


@dataclasses.dataclass(frozen=True)
class TrainCell:
    """A method trains `arch` at `scale` from `seed` under `profile` on `train_set`."""

    kind: ClassVar[str] = "train"
    method: str
    arch: ArchSpec
    scale: int
    seed: int
    profile: TrainProfile
    train_set: str
    cfg_json: str = "{}"
    inputs: tuple[tuple[str, "ModelRef"], ...] = ()  # (role, model), roles sorted
    label: str = ""  # display only

    def own(self) -> dict[str, Any]:
        return {"method": self.method, "arch": self.arch.structure(), "scale": self.scale, "seed": self.seed,
                "profile": self.profile.identity(), "train_set": dataset_identity(self.train_set),
                "cfg": json.loads(self.cfg_json)}

    def code_roots(self) -> list[str]:
        from methods import METHODS

        return ["benchmarks.graph.run_train", METHODS.get(self.method).__module__, _arch_module(self.arch.arch)]

    def input_refs(self) -> dict[str, "ModelRef"]:
        return dict(self.inputs)

    def input(self, role: str) -> "ModelRef | None":
        return self.input_refs().get(role)


@dataclasses.dataclass(frozen=True)
class LoadCell:
    """A network from a checkpoint file (`arch.weights`), or a parameter-free arch (no file)."""

    kind: ClassVar[str] = "load"
    arch: ArchSpec
    scale: int
    label: str = ""

    def own(self) -> dict[str, Any]:
        return {"arch": self.arch.structure(), "scale": self.scale,
                "weights": file_identity(self.arch.weights) if self.arch.weights else None}

    def code_roots(self) -> list[str]:
        return ["benchmarks.graph.run_load", _arch_module(self.arch.arch)]

    def input_refs(self) -> dict[str, "ModelRef"]:
        return {}


@dataclasses.dataclass(frozen=True)
class DeriveCell:
    """A transform (registered in benchmarks.derive) applied to another model."""

    kind: ClassVar[str] = "derive"
    transform: str
    params_json: str
    source: "ModelRef"
    label: str = ""

    def own(self) -> dict[str, Any]:
        return {"transform": self.transform, "params": json.loads(self.params_json)}

    def code_roots(self) -> list[str]:
        from ..derive import TRANSFORMS

        return ["benchmarks.graph.run_derive", TRANSFORMS.get(self.transform).__module__]

    def input_refs(self) -> dict[str, "ModelRef"]:
        return {"source": self.source}

    @property
    def scale(self) -> int:
        return self.source.cell.scale


ModelCell = Union[TrainCell, LoadCell, DeriveCell]


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """One network of a model cell: its main output, or a named one (e.g. "discriminator")."""

    cell: ModelCell
    output: str = MAIN

    def key(self) -> str:
        return cell_key(self.cell) + (f":{self.output}" if self.output else "")


@dataclasses.dataclass(frozen=True)
class EvalCell:
    """One model output scored on one test set with one metric, in the field's convention."""

    kind: ClassVar[str] = "eval"
    model: ModelRef
    dataset: str
    metric: str

    def own(self) -> dict[str, Any]:
        return {"dataset": dataset_identity(self.dataset), "metric": self.metric, "scale": self.scale}

    def code_roots(self) -> list[str]:
        from ..metrics import get_metric

        return ["benchmarks.graph.run_eval", type(get_metric(self.metric)).__module__]

    def input_refs(self) -> dict[str, ModelRef]:
        return {"model": self.model}

    @property
    def scale(self) -> int:
        return self.model.cell.scale


Cell = Union[TrainCell, LoadCell, DeriveCell, EvalCell]


def identity(cell: Cell, with_code: bool = True) -> dict[str, Any]:
    """What the key hashes: kind, own fields, inputs' keys and (optionally) the code version."""
    ident: dict[str, Any] = {"kind": cell.kind, "own": cell.own(),
                             "inputs": {role: ref.key() for role, ref in sorted(cell.input_refs().items())}}
    if with_code:
        ident["code"] = fingerprint(code_versions(cell))
    return ident


@functools.lru_cache(maxsize=None)
def code_versions(cell: Cell) -> dict[str, str]:
    """{module: hash} of the code this cell executes."""
    return default_index().versions(cell.code_roots())


@functools.lru_cache(maxsize=None)
def cell_key(cell: Cell) -> str:
    return hashlib.sha256(canonical_json(identity(cell)).encode()).hexdigest()[:20]


@functools.lru_cache(maxsize=None)
def base_key(cell: Cell) -> str:
    """The key without the code version: equal base keys with different keys = code changed."""
    ident = identity(cell, with_code=False) | {"schema": KEY_SCHEMA}
    return hashlib.sha256(canonical_json(ident).encode()).hexdigest()[:20]


def upstream(ref: ModelRef) -> list[ModelCell]:
    """The model cells `ref` depends on, inputs before dependents, each once."""
    out: list[ModelCell] = []
    seen: set[str] = set()

    def visit(cell: ModelCell) -> None:
        key = cell_key(cell)
        if key in seen:
            return
        seen.add(key)
        for _, dep in sorted(cell.input_refs().items()):
            visit(dep.cell)
        out.append(cell)

    visit(ref.cell)
    return out


def describe(cell: Cell) -> str:
    """A short human name for logs and `bench ls runs`."""
    if isinstance(cell, TrainCell):
        arch = f" ({cell.arch.label})" if cell.label != cell.arch.label else ""
        return f"train {cell.label or cell.method}{arch} x{cell.scale} s{cell.seed}"
    if isinstance(cell, LoadCell):
        what = cell.arch.weights or "no weights"
        return f"load {cell.label or cell.arch.label} x{cell.scale} ({what})"
    if isinstance(cell, DeriveCell):
        return f"{cell.transform} {cell.label} of {describe(cell.source.cell)}"
    return f"eval {describe(cell.model.cell)}{'[' + cell.model.output + ']' if cell.model.output else ''} " \
           f"on {cell.dataset} {cell.metric}"


def clear_key_caches() -> None:
    """Forget computed keys (after the code index or the dataset manifest changed)."""
    for fn in (code_versions, cell_key, base_key):
        fn.cache_clear()
