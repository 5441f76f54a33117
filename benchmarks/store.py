"""SQLite result store: one row per finished run plus its per-image and per-set scores.

Each `put` is one transaction, so a killed process never leaves a half-written result. Only
the driver process writes; workers return RunResults to it.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from .spec import RunSpec

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  key TEXT PRIMARY KEY, label TEXT, method TEXT, arch TEXT, student TEXT, scale INTEGER,
  seed INTEGER, profile TEXT, status TEXT, error TEXT, params INTEGER, train_seconds REAL,
  teacher_key TEXT, teacher_seconds REAL, spec_json TEXT, conditions_json TEXT, created TEXT
);
CREATE TABLE IF NOT EXISTS set_scores (
  key TEXT, dataset TEXT, metric TEXT, value REAL, note TEXT, PRIMARY KEY (key, dataset, metric)
);
CREATE TABLE IF NOT EXISTS image_scores (
  key TEXT, dataset TEXT, image TEXT, metric TEXT, value REAL, PRIMARY KEY (key, dataset, image, metric)
);
"""


@dataclasses.dataclass(frozen=True)
class SetScore:
    dataset: str
    metric: str
    value: float | None  # None: not computed (see note)
    note: str = ""


@dataclasses.dataclass(frozen=True)
class ImageScore:
    dataset: str
    image: str
    metric: str
    value: float


@dataclasses.dataclass(frozen=True)
class RunResult:
    key: str
    spec: RunSpec
    status: str  # "ok" | "failed"
    error: str = ""
    params: int = 0
    train_seconds: float | None = None
    teacher_key: str | None = None
    teacher_seconds: float | None = None
    set_scores: tuple[SetScore, ...] = ()
    image_scores: tuple[ImageScore, ...] = ()
    conditions: str = "{}"  # JSON: hardware, versions, git revision
    created: str = ""


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

    def status(self, key: str) -> str | None:
        with self._connect() as conn:
            row = conn.execute("SELECT status FROM runs WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def is_done(self, key: str) -> bool:
        return self.status(key) == "ok"

    def train_seconds(self, key: str) -> float | None:
        with self._connect() as conn:
            row = conn.execute("SELECT train_seconds FROM runs WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, result: RunResult) -> None:
        """Replace the run's rows atomically (a failed attempt is overwritten by a later one)."""
        spec = result.spec
        conn = self._connect()
        try:
            with conn:
                for table in ("runs", "set_scores", "image_scores"):
                    conn.execute(f"DELETE FROM {table} WHERE key = ?", (result.key,))
                conn.execute(
                    "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (result.key, spec.label, spec.method, spec.student.arch, spec.student.label, spec.scale,
                     spec.seed, spec.profile.name, result.status, result.error, result.params,
                     result.train_seconds, result.teacher_key, result.teacher_seconds,
                     json.dumps(spec.identity() | {"label": spec.label}), result.conditions, result.created))
                conn.executemany("INSERT INTO set_scores VALUES (?,?,?,?,?)",
                                 [(result.key, s.dataset, s.metric, s.value, s.note) for s in result.set_scores])
                conn.executemany("INSERT INTO image_scores VALUES (?,?,?,?,?)",
                                 [(result.key, s.dataset, s.image, s.metric, s.value) for s in result.image_scores])
        finally:
            conn.close()

    def frame(self, specs: Sequence[RunSpec], matrix: str = "") -> pd.DataFrame:
        """Long frame (one row per spec x dataset x metric); labels and row ids come from the specs.

        Two specs of a matrix may share a run (same key, e.g. an ablation row equal to a main
        row): each gets its own rows, from the one stored result.
        """
        columns = ["run_key", "matrix", "method", "label", "arch", "student", "scale", "seed", "profile",
                   "dataset", "metric", "value", "params", "train_seconds", "teacher_seconds", "status", "note"]
        wanted = pd.DataFrame({"key": [s.key() for s in specs], "label": [s.label for s in specs],
                               "method": [s.id for s in specs]}).drop_duplicates()
        if wanted.empty:
            return pd.DataFrame(columns=columns)
        keys = list(dict.fromkeys(wanted["key"]))
        marks = ",".join("?" * len(keys))
        with self._connect() as conn:
            runs = pd.read_sql_query(f"SELECT * FROM runs WHERE key IN ({marks})", conn, params=keys)
            scores = pd.read_sql_query(f"SELECT * FROM set_scores WHERE key IN ({marks})", conn, params=keys)
        runs = runs.drop(columns=["label", "method"])
        merged = wanted.merge(runs, on="key", how="inner").merge(scores, on="key", how="left")
        merged["matrix"] = matrix
        merged["note"] = merged["note"].fillna("")
        merged["note"] = merged["note"].where(merged["status"] == "ok", merged["error"])
        merged = merged.rename(columns={"key": "run_key"})
        return merged[columns].reset_index(drop=True)

    def conditions(self, keys: Iterable[str]) -> list[str]:
        keys = list(keys)
        marks = ",".join("?" * len(keys)) or "''"
        with self._connect() as conn:
            rows = conn.execute(f"SELECT conditions_json FROM runs WHERE key IN ({marks})", keys).fetchall()
        return [r[0] for r in rows if r[0]]

    def image_frame(self, keys: Iterable[str]) -> pd.DataFrame:
        keys = list(keys)
        marks = ",".join("?" * len(keys)) or "''"
        with self._connect() as conn:
            return pd.read_sql_query(f"SELECT * FROM image_scores WHERE key IN ({marks})", conn, params=keys)
