"""The planner: the cell graph of a matrix's rows in dependency order, with what is done.

Model cells (train, load, derive) come first, inputs before dependents, each once however many
rows share it; then the eval cells, grouped per (model output, test set) so a model is run over
a test set once for all its metrics. `summary()` says what will happen before anything runs.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Sequence

from ..spec import RunSpec
from ..store import ResultStore, eval_cell
from .cells import EvalCell, ModelCell, ModelRef, cell_key, upstream

_VERBS = {"train": "to train", "load": "to load", "derive": "to derive", "eval": "to evaluate"}


@dataclasses.dataclass(frozen=True)
class Step:
    """One unit of work: a model cell, or the eval cells of one model output on one test set."""

    key: str
    kind: str
    model: ModelCell | None = None
    ref: ModelRef | None = None  # eval: the model output scored
    evals: tuple[EvalCell, ...] = ()
    deps: tuple[str, ...] = ()  # model cell keys that must be done first

    @property
    def cells(self) -> list:
        return list(self.evals) if self.evals else [self.model]


@dataclasses.dataclass
class Plan:
    steps: list[Step]  # dependency order
    done: set[str]  # keys of cells already in the store
    missing_files: list[str]  # done model cells whose files are gone (they run again)

    def todo(self) -> list[Step]:
        return [s for s in self.steps if not self._step_done(s)]

    def _step_done(self, step: Step) -> bool:
        return all(cell_key(c) in self.done for c in step.cells)

    def counts(self) -> tuple[int, int, Counter]:
        total = sum(len(s.cells) for s in self.steps)
        done = sum(cell_key(c) in self.done for s in self.steps for c in s.cells)
        todo: Counter = Counter()
        for step in self.steps:
            todo[step.kind] += sum(cell_key(c) not in self.done for c in step.cells)
        return total, done, todo

    def summary(self) -> str:
        """E.g. "12 cells: 3 done, 7 to train, 2 to evaluate"."""
        total, done, todo = self.counts()
        parts = [f"{done} done"] + [f"{todo[k]} {v}" for k, v in _VERBS.items() if todo[k]]
        return f"{total} cells: " + ", ".join(parts)


def plan(specs: Sequence[RunSpec], store: ResultStore) -> Plan:
    """The steps of `specs`' cell graph; a done cell whose model file is missing runs again."""
    models: dict[str, ModelCell] = {}
    for spec in specs:
        for cell in upstream(spec.model):
            models.setdefault(cell_key(cell), cell)
    groups: dict[tuple[str, str], list[EvalCell]] = {}
    refs: dict[str, ModelRef] = {}
    for spec in specs:
        refs.setdefault(spec.model.key(), spec.model)
        for dataset in spec.eval_sets:
            group = groups.setdefault((spec.model.key(), dataset), [])
            for metric in spec.metrics:
                cell = eval_cell(spec, dataset, metric)
                if cell_key(cell) not in {cell_key(c) for c in group}:
                    group.append(cell)
    steps = [Step(key, cell.kind, model=cell, deps=tuple(cell_key(r.cell) for _, r in sorted(cell.input_refs().items())))
             for key, cell in models.items()]
    for (ref_key, dataset), cells in groups.items():
        ref = refs[ref_key]
        steps.append(Step(f"eval:{ref_key}:{dataset}", "eval", ref=ref, evals=tuple(cells),
                          deps=(cell_key(ref.cell),)))
    statuses = store.statuses([cell_key(c) for s in steps for c in s.cells])
    done = {k for k, v in statuses.items() if v == "ok"}
    missing = []
    for key in list(done):
        if key in models:
            record = store.record(key)
            if record is not None and any(not Path(p).is_file() for p in record.outputs.values()):
                done.discard(key)
                missing.append(key)
    if missing:  # a model that runs again must be evaluated again
        for step in steps:
            if step.evals and cell_key(step.ref.cell) in missing:
                done.difference_update(cell_key(c) for c in step.evals)
    return Plan(steps, done, missing)
