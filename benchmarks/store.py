"""SQLite result store of the run graph: one row per cell, scores per eval cell.

Each write is one transaction, so a killed process never leaves a half-written result; only the
driver writes (executors hand outcomes back to it). Rows are keyed by cell keys, so results of
other settings or other code sit beside current ones and are never mixed in: a report reads
exactly the keys today's plan computes. Tables of the earlier run-per-row schema (`runs`,
`set_scores`, `image_scores`) are left untouched and listed as stale.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from .graph.cells import Cell, EvalCell, TrainCell, base_key, cell_key, code_versions, describe, upstream
from .graph.jobs import Outcome
from .scores import ImageScore, SetScore
from .spec import RunSpec

__all__ = ["ResultStore", "RunResult", "SetScore", "ImageScore", "CellRecord"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cells (
  key TEXT PRIMARY KEY, kind TEXT, label TEXT, status TEXT, error TEXT, base_key TEXT, code_json TEXT,
  spec_json TEXT, params INTEGER, seconds REAL, outputs_json TEXT, info_json TEXT, conditions_json TEXT,
  created TEXT
);
CREATE TABLE IF NOT EXISTS eval_scores (
  key TEXT PRIMARY KEY, model_key TEXT, dataset TEXT, metric TEXT, value REAL, note TEXT
);
CREATE TABLE IF NOT EXISTS eval_image_scores (
  key TEXT, model_key TEXT, dataset TEXT, image TEXT, metric TEXT, value REAL, PRIMARY KEY (key, image)
);
"""
_LEGACY_TABLE = "runs"


@dataclasses.dataclass(frozen=True)
class CellRecord:
    key: str
    kind: str
    label: str
    status: str  # "ok" | "failed" | "blocked"
    error: str
    base_key: str
    code: dict[str, str]
    params: int
    seconds: float | None
    outputs: dict[str, str]
    info: dict
    created: str


@dataclasses.dataclass(frozen=True)
class RunResult:
    """A whole row's result at once (imports and synthetic stores): its model and its scores."""

    key: str
    spec: RunSpec
    status: str
    error: str = ""
    params: int = 0
    train_seconds: float | None = None
    teacher_key: str | None = None
    teacher_seconds: float | None = None
    set_scores: tuple[SetScore, ...] = ()
    image_scores: tuple[ImageScore, ...] = ()
    conditions: str = "{}"
    created: str = ""


def eval_cell(spec: RunSpec, dataset: str, metric: str) -> EvalCell:
    return EvalCell(spec.model, dataset, metric)


class ResultStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    # ----------------------------------------------------------------------------- reading
    def status(self, key: str) -> str | None:
        with self._connect() as conn:
            row = conn.execute("SELECT status FROM cells WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def is_done(self, key: str) -> bool:
        return self.status(key) == "ok"

    def statuses(self, keys: Iterable[str]) -> dict[str, str]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, str] = {}
        with self._connect() as conn:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                marks = ",".join("?" * len(chunk))
                out.update(conn.execute(f"SELECT key, status FROM cells WHERE key IN ({marks})", chunk).fetchall())
        return out

    def record(self, key: str) -> CellRecord | None:
        with self._connect() as conn:
            row = conn.execute("SELECT key, kind, label, status, error, base_key, code_json, params, seconds, "
                               "outputs_json, info_json, created FROM cells WHERE key = ?", (key,)).fetchone()
        return _record(row) if row else None

    def records(self) -> list[CellRecord]:
        with self._connect() as conn:
            rows = conn.execute("SELECT key, kind, label, status, error, base_key, code_json, params, seconds, "
                                "outputs_json, info_json, created FROM cells ORDER BY created").fetchall()
        return [_record(r) for r in rows]

    def legacy_count(self) -> int:
        """Results of the earlier run-per-row schema (kept, never used)."""
        with self._connect() as conn:
            found = conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name=?",
                                 (_LEGACY_TABLE,)).fetchone()
            return conn.execute(f"SELECT COUNT(*) FROM {_LEGACY_TABLE}").fetchone()[0] if found else 0

    # ----------------------------------------------------------------------------- writing
    def put_cell(self, cell: Cell, outcome: Outcome) -> None:
        """Record a model cell's outcome (replacing an earlier failed attempt)."""
        key = cell_key(cell)
        with self._write() as conn:
            conn.execute("DELETE FROM cells WHERE key = ?", (key,))
            conn.execute("INSERT INTO cells VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         (key, cell.kind, describe(cell), outcome.status, outcome.error, base_key(cell),
                          json.dumps(code_versions(cell)), _spec_json(cell), outcome.params, outcome.seconds,
                          json.dumps(outcome.outputs), json.dumps(outcome.info), outcome.conditions,
                          outcome.created))

    def put_eval(self, cells: Sequence[EvalCell], outcome: Outcome) -> None:
        """Record the eval cells of one (model, dataset) job: a score each, or the job's error."""
        scores = {s["key"]: s for s in outcome.scores}
        with self._write() as conn:
            for cell in cells:
                key = cell_key(cell)
                score = scores.get(key)
                status = outcome.status if score is None or score["value"] is not None else "unavailable"
                error = outcome.error if score is None else score["note"]
                for table in ("cells", "eval_scores", "eval_image_scores"):
                    conn.execute(f"DELETE FROM {table} WHERE key = ?", (key,))
                conn.execute("INSERT INTO cells VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             (key, "eval", describe(cell), status, error if status != "ok" else "", base_key(cell),
                              json.dumps(code_versions(cell)), _spec_json(cell), 0, None, "{}", "{}",
                              outcome.conditions, outcome.created))
                if score is None:
                    continue
                model_key = cell.model.key()
                conn.execute("INSERT INTO eval_scores VALUES (?,?,?,?,?,?)",
                             (key, model_key, score["dataset"], cell.metric, score["value"], score["note"]))
                conn.executemany("INSERT INTO eval_image_scores VALUES (?,?,?,?,?,?)",
                                 [(key, model_key, score["dataset"], image, cell.metric, value)
                                  for image, value in score["images"]])

    def put(self, result: RunResult) -> None:
        """Write a whole row's result (its model cell and one eval cell per stored score)."""
        spec = result.spec
        outcome = Outcome(cell_key(spec.cell), result.status, result.error, result.train_seconds, result.params,
                          conditions=result.conditions, created=result.created)
        self.put_cell(spec.cell, outcome)
        from data_manifest.names import canonical_name

        for score in result.set_scores:
            cell = eval_cell(spec, canonical_name(score.dataset), score.metric)
            images = [(i.image, i.value) for i in result.image_scores
                      if i.dataset == score.dataset and i.metric == score.metric]
            self.put_eval([cell], Outcome(cell.model.key(), "ok", conditions=result.conditions, created=result.created,
                                          scores=[{"key": cell_key(cell), "metric": score.metric,
                                                   "dataset": score.dataset, "value": score.value,
                                                   "note": score.note, "images": images}]))

    def _write(self):
        return _Transaction(self._connect())

    # ----------------------------------------------------------------------------- frames
    def frame(self, specs: Sequence[RunSpec], matrix: str = "") -> pd.DataFrame:
        """Long frame (one row per spec x dataset x metric) from the cells today's plan keys.

        Two specs may share a model (an ablation row equal to a main row): each gets its rows.
        """
        columns = ["run_key", "matrix", "method", "label", "arch", "student", "scale", "seed", "profile",
                   "dataset", "metric", "value", "params", "train_seconds", "teacher_seconds", "status", "note"]
        rows = []
        for spec in specs:
            record = self.record(cell_key(spec.cell))
            if record is None:
                continue
            base = {"run_key": spec.key(), "matrix": matrix, "method": spec.id, "label": spec.label,
                    "arch": spec.student.arch, "student": spec.student.label, "scale": spec.scale,
                    "seed": spec.seed, "profile": spec.profile.name, "params": record.params,
                    "train_seconds": record.seconds if record.kind == "train" else None,
                    "teacher_seconds": self._teacher_seconds(spec), "status": record.status}
            if record.status != "ok":
                rows.append(base | {"dataset": None, "metric": None, "value": None, "note": record.error})
                continue
            keys = {cell_key(eval_cell(spec, ds, m)): (ds, m) for ds in spec.eval_sets for m in spec.metrics}
            for score in self._scores(list(keys)):
                rows.append(base | {"dataset": score[1], "metric": score[2], "value": score[3], "note": score[4] or ""})
        return pd.DataFrame(rows, columns=columns)

    def _scores(self, keys: list[str]) -> list[tuple]:
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        with self._connect() as conn:
            found = conn.execute(f"SELECT key, dataset, metric, value, note FROM eval_scores WHERE key IN ({marks})",
                                 keys).fetchall()
        order = {k: i for i, k in enumerate(keys)}
        return sorted(found, key=lambda r: order[r[0]])

    def _teacher_seconds(self, spec: RunSpec) -> float | None:
        """Training time of the teacher and everything it was made from (e.g. before pruning)."""
        if spec.teacher is None:
            return None
        total, found = 0.0, False
        for cell in upstream(spec.teacher):
            record = self.record(cell_key(cell)) if isinstance(cell, TrainCell) else None
            if record is not None and record.seconds is not None:
                total, found = total + record.seconds, True
        return total if found else None

    def conditions(self, keys: Iterable[str]) -> list[str]:
        """Stored conditions of the model cells behind these row keys."""
        cells = sorted({k.split(":")[0] for k in keys})
        marks = ",".join("?" * len(cells)) or "''"
        with self._connect() as conn:
            rows = conn.execute(f"SELECT conditions_json FROM cells WHERE key IN ({marks})", cells).fetchall()
        return [r[0] for r in rows if r[0]]

    def image_frame(self, specs: Sequence[RunSpec]) -> pd.DataFrame:
        """Per-image scores of the rows' current eval cells (columns key, dataset, image, metric, value)."""
        keys = sorted({cell_key(eval_cell(s, ds, m)) for s in specs for ds in s.eval_sets for m in s.metrics})
        marks = ",".join("?" * len(keys)) or "''"
        with self._connect() as conn:
            return pd.read_sql_query(f"SELECT model_key AS key, dataset, image, metric, value FROM eval_image_scores "
                                     f"WHERE key IN ({marks})", conn, params=keys)


class _Transaction:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN")
        return self.conn

    def __exit__(self, exc_type, *rest) -> None:
        try:
            if exc_type is None:
                self.conn.commit()
            else:
                self.conn.rollback()
        finally:
            self.conn.close()


def _record(row: tuple) -> CellRecord:
    key, kind, label, status, error, bkey, code, params, seconds, outputs, info, created = row
    return CellRecord(key, kind, label, status, error or "", bkey, json.loads(code or "{}"), params or 0, seconds,
                      json.loads(outputs or "{}"), json.loads(info or "{}"), created or "")


def _spec_json(cell: Cell) -> str:
    from .graph.cells import identity
    from .spec import canonical_json

    return canonical_json(identity(cell, with_code=False))
