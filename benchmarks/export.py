"""The result store in long form, one row per score, for pandas users (`bench export`).

Every stored evaluation score becomes a row: the model it scores (run key, method, arch and its
options, parameters, scale, seed, profile, training set), the test set, metric, value and note,
the code that made it (a fingerprint of the model cell's modules, another of the metric's), the
git revision and hardware recorded with the model, its training seconds and its teacher's. A
model cell that failed (or was blocked) has one row with no metric, its error as the note.

With `specs` (a matrix's rows) only their scores are exported, each under the row's id, label and
student name (a model shared by several rows appears once per row); without, the whole store,
each model described by its stored identity (method name, arch).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from .errors import BenchError
from .spec import RunSpec
from .store import ResultStore

COLUMNS = ["run_key", "eval_key", "matrix", "method", "label", "arch", "student", "options", "params", "scale",
           "seed", "profile", "train_set", "dataset", "metric", "value", "status", "note", "code_version",
           "eval_code_version", "git_revision", "hardware", "train_seconds", "teacher_seconds", "created"]
SUFFIXES = (".csv", ".parquet")


def _fingerprint(code_json: str | None) -> str:
    from .graph.codeversion import fingerprint

    return fingerprint(json.loads(code_json or "{}")) if code_json else ""


def _conditions(text: str | None) -> dict:
    try:
        return json.loads(text or "{}") or {}
    except json.JSONDecodeError:
        return {}


class _Models:
    """Stored model cells by key: identity, status, params, seconds, code, conditions."""

    def __init__(self, conn: sqlite3.Connection):
        rows = conn.execute("SELECT key, kind, label, status, error, spec_json, params, seconds, code_json, "
                            "conditions_json, created FROM cells WHERE kind != 'eval'").fetchall()
        self.cells = {r[0]: dict(zip(("key", "kind", "label", "status", "error", "spec", "params", "seconds",
                                      "code", "conditions", "created"), r)) for r in rows}

    def describe(self, model_key: str) -> dict:
        key, _, output = model_key.partition(":")
        cell = self.cells.get(key)
        if cell is None:
            return {"run_key": model_key}
        ident = json.loads(cell["spec"] or "{}")
        own = ident.get("own", {})
        arch = own.get("arch") or {}
        conditions = _conditions(cell["conditions"])
        profile = own.get("profile") or {}
        method = own.get("method") or ("reference" if cell["kind"] == "load" else own.get("transform", cell["kind"]))
        return {"run_key": model_key, "method": method + (f":{output}" if output else ""), "label": cell["label"],
                "arch": arch.get("arch", ""), "student": arch.get("arch", ""),
                "options": json.dumps(arch.get("options", {}), sort_keys=True),
                "params": cell["params"], "scale": own.get("scale"), "seed": own.get("seed"),
                "profile": profile.get("name", ""), "train_set": str(own.get("train_set") or "").split(":")[0],
                "code_version": _fingerprint(cell["code"]), "git_revision": conditions.get("git_revision", ""),
                "hardware": conditions.get("hardware", ""),
                "train_seconds": cell["seconds"] if cell["kind"] == "train" else None,
                "teacher_seconds": self.teacher_seconds(ident), "created": cell["created"]}

    def teacher_seconds(self, ident: dict) -> float | None:
        """Training seconds of the teacher input and every trained cell it was made from."""
        teacher = (ident.get("inputs") or {}).get("teacher")
        if not teacher:
            return None
        total, found, todo, seen = 0.0, False, [teacher.split(":")[0]], set()
        while todo:
            key = todo.pop()
            cell = self.cells.get(key)
            if key in seen or cell is None:
                continue
            seen.add(key)
            if cell["kind"] == "train" and cell["seconds"] is not None:
                total, found = total + cell["seconds"], True
            todo += [k.split(":")[0] for k in (json.loads(cell["spec"] or "{}").get("inputs") or {}).values()]
        return total if found else None


def export_frame(store: ResultStore, specs: Sequence[RunSpec] | None = None, matrix: str = "") -> pd.DataFrame:
    """The long frame of COLUMNS (see the module docstring)."""
    with sqlite3.connect(store.path) as conn:
        models = _Models(conn)
        scores = conn.execute("SELECT s.key, s.model_key, s.dataset, s.metric, s.value, s.note, e.status, "
                              "e.code_json, e.created FROM eval_scores s JOIN cells e ON e.key = s.key").fetchall()
    by_key = {r[0]: r for r in scores}
    rows = []
    if specs is None:
        for key, model_key, dataset, metric, value, note, status, code, created in scores:
            rows.append(models.describe(model_key) | _score(key, dataset, metric, value, note, status, code, created))
        for cell in models.cells.values():
            if cell["status"] != "ok":
                rows.append(models.describe(cell["key"]) | {"status": cell["status"], "note": cell["error"]})
    else:
        rows = list(_matrix_rows(specs, models, by_key, matrix))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["matrix", "run_key", "dataset", "metric"], kind="stable", na_position="first") \
        .reset_index(drop=True) if specs is None else frame


def _score(key, dataset, metric, value, note, status, code, created) -> dict:
    return {"eval_key": key, "dataset": dataset, "metric": metric, "value": value, "note": note or "",
            "status": status, "eval_code_version": _fingerprint(code), "created": created}


def _matrix_rows(specs: Sequence[RunSpec], models: _Models, by_key: dict, matrix: str) -> Iterable[dict]:
    from .graph.cells import cell_key
    from .store import eval_cell

    for spec in specs:
        model = models.describe(spec.key())
        if "method" not in model:  # never run
            continue
        common = model | {"matrix": matrix, "method": spec.id, "label": spec.label, "student": spec.student.label,
                          "profile": spec.profile.name}
        cell = models.cells[spec.key().split(":")[0]]
        if cell["status"] != "ok":
            yield common | {"status": cell["status"], "note": cell["error"]}
            continue
        for dataset in spec.eval_sets:
            for metric in spec.metrics:
                row = by_key.get(cell_key(eval_cell(spec, dataset, metric)))
                if row is not None:
                    yield common | _score(row[0], *row[2:])


def write_export(frame: pd.DataFrame, output: str | Path) -> Path:
    """CSV or Parquet by the file's suffix; a one-line BenchError for anything else."""
    path = Path(output)
    if path.suffix.lower() not in SUFFIXES:
        raise BenchError(f"--output {output}: unknown file type {path.suffix or '(none)'!r}; valid choices: "
                         f"{', '.join(SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
        return path
    try:
        frame.to_parquet(path, index=False)
    except ImportError:
        raise BenchError(f"--output {output}: writing Parquet needs pyarrow (pip install pyarrow); "
                         "or write a .csv") from None
    return path
