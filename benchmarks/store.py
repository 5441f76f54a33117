"""SQLite result store of the run graph: one row per cell, scores per eval cell.

Each write is one transaction, so a killed process never leaves a half-written result; only the
driver writes (executors hand outcomes back to it). Rows are keyed by cell keys, so results of
other settings or other code sit beside current ones and are never mixed in: a report reads
exactly the keys today's plan computes. Tables of the earlier run-per-row schema (`runs`,
`set_scores`, `image_scores`) are left untouched and listed as stale.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import pandas as pd

from .errors import BenchError
from .faults.failpoints import reached
from .graph.cells import Cell, EvalCell, TrainCell, base_key, cell_key, code_versions, describe, upstream
from .graph.jobs import Outcome
from .lease import Lease, Owner
from .scores import ImageScore, SetScore
from .spec import RunSpec

__all__ = ["ResultStore", "RunResult", "SetScore", "ImageScore", "CellRecord", "Claim", "StoreError"]

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
CREATE TABLE IF NOT EXISTS leases (
  key TEXT PRIMARY KEY, owner TEXT, host TEXT, pid INTEGER, pid_started TEXT, acquired REAL, heartbeat REAL
);
"""
_LEGACY_TABLE = "runs"
# Tables a results database of this harness may hold (the current ones and the earlier schema's).
_OUR_TABLES = {"cells", "eval_scores", "eval_image_scores", "leases", _LEGACY_TABLE, "set_scores", "image_scores"}
_CELL_COLUMNS = ("key", "kind", "label", "status", "error", "base_key", "code_json", "spec_json", "params", "seconds",
                 "outputs_json", "info_json", "conditions_json", "created")
_SQLITE_HEADER = b"SQLite format 3\x00"


class StoreError(BenchError):
    """The results database cannot be used: corrupt, foreign, unwritable, or the disk is full."""


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
class Claim:
    """What `acquire_lease` found: "acquired" (the caller runs the step), "done" (every cell of
    the step is ok), or "held" (a live owner runs it)."""

    state: str
    holder: Lease | None = None  # held: who holds it; acquired: the dead owner taken over, if any
    cells: dict[str, tuple[str, str, str]] = dataclasses.field(default_factory=dict)  # key -> status, error, created


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
    """The results database. An existing file that is not one (corrupt, or another program's
    SQLite file) is refused with a `StoreError` naming it, before anything is written to it;
    every later SQLite failure (a full disk, an unwritable folder) is a `StoreError` too, and a
    failed write leaves the database as it was."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create results folder {self.path.parent}: {exc.strerror or exc}") from None
        _refuse_unless_ours(self.path)
        with self._db() as conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading (closed afterwards); SQLite errors become StoreErrors."""
        with _store_errors(self.path):
            conn = self._connect()
            try:
                yield conn
            finally:
                conn.close()

    # ----------------------------------------------------------------------------- reading
    def status(self, key: str) -> str | None:
        with self._db() as conn:
            row = conn.execute("SELECT status FROM cells WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def is_done(self, key: str) -> bool:
        return self.status(key) == "ok"

    def statuses(self, keys: Iterable[str]) -> dict[str, str]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, str] = {}
        with self._db() as conn:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                marks = ",".join("?" * len(chunk))
                out.update(conn.execute(f"SELECT key, status FROM cells WHERE key IN ({marks})", chunk).fetchall())
        return out

    def done_base_keys(self, base_keys: Iterable[str]) -> set[str]:
        """The base keys (cell identity without code version) of `base_keys` some finished cell has."""
        wanted = list(dict.fromkeys(base_keys))
        found: set[str] = set()
        with self._db() as conn:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                marks = ",".join("?" * len(chunk))
                found.update(r[0] for r in conn.execute(
                    f"SELECT base_key FROM cells WHERE status = 'ok' AND base_key IN ({marks})", chunk).fetchall())
        return found

    def record(self, key: str) -> CellRecord | None:
        with self._db() as conn:
            row = conn.execute("SELECT key, kind, label, status, error, base_key, code_json, params, seconds, "
                               "outputs_json, info_json, created FROM cells WHERE key = ?", (key,)).fetchone()
        return _record(row) if row else None

    def records(self) -> list[CellRecord]:
        with self._db() as conn:
            rows = conn.execute("SELECT key, kind, label, status, error, base_key, code_json, params, seconds, "
                                "outputs_json, info_json, created FROM cells ORDER BY created").fetchall()
        return [_record(r) for r in rows]

    def legacy_count(self) -> int:
        """Results of the earlier run-per-row schema (kept, never used)."""
        with self._db() as conn:
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

    def _write(self) -> "_Transaction":
        return _Transaction(self)

    # ----------------------------------------------------------------------------- leases
    def acquire_lease(self, key: str, owner: Owner, cells: Sequence[str],
                      is_dead: Callable[[Lease], bool]) -> Claim:
        """Take the lease on step `key` unless its `cells` are all ok or a live owner holds it.

        One write transaction: two drivers asking at once get one "acquired" between them. A
        lease whose holder `is_dead` is taken over (returned as the claim's holder).
        """
        with self._write() as conn:
            found = _cell_states(conn, cells)
            if cells and all(found.get(k, ("",))[0] == "ok" for k in cells):
                return Claim("done", cells=found)
            row = conn.execute("SELECT key, owner, host, pid, pid_started, acquired, heartbeat FROM leases "
                               "WHERE key = ?", (key,)).fetchone()
            previous = _lease(row) if row else None
            if previous is not None and previous.owner.id != owner.id and not is_dead(previous):
                return Claim("held", previous, found)
            stamp = time.time()
            conn.execute("INSERT OR REPLACE INTO leases VALUES (?,?,?,?,?,?,?)",
                         (key, owner.id, owner.host, owner.pid, owner.pid_started, stamp, stamp))
        taken_over = previous if previous is not None and previous.owner.id != owner.id else None
        return Claim("acquired", taken_over, found)

    def heartbeat(self, owner: Owner) -> int:
        """Refresh every lease `owner` holds; returns how many it still holds."""
        with self._write() as conn:
            return conn.execute("UPDATE leases SET heartbeat = ? WHERE owner = ?", (time.time(), owner.id)).rowcount

    def release_lease(self, key: str, owner: Owner) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM leases WHERE key = ? AND owner = ?", (key, owner.id))

    def release_leases(self, owner: Owner) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM leases WHERE owner = ?", (owner.id,))

    def release_dead_leases(self, is_dead: Callable[[Lease], bool]) -> int:
        """Drop the leases of owners that died (killed runs cannot release their own); returns how many."""
        with self._write() as conn:
            rows = conn.execute("SELECT key, owner, host, pid, pid_started, acquired, heartbeat FROM leases").fetchall()
            dead = [(lease.key, lease.owner.id) for lease in map(_lease, rows) if is_dead(lease)]
            conn.executemany("DELETE FROM leases WHERE key = ? AND owner = ?", dead)
        return len(dead)

    def leases(self) -> list[Lease]:
        with self._db() as conn:
            rows = conn.execute("SELECT key, owner, host, pid, pid_started, acquired, heartbeat FROM leases "
                                "ORDER BY acquired").fetchall()
        return [_lease(r) for r in rows]

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
        with self._db() as conn:
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
        with self._db() as conn:
            rows = conn.execute(f"SELECT conditions_json FROM cells WHERE key IN ({marks})", cells).fetchall()
        return [r[0] for r in rows if r[0]]

    def image_frame(self, specs: Sequence[RunSpec]) -> pd.DataFrame:
        """Per-image scores of the rows' current eval cells (columns key, dataset, image, metric, value)."""
        keys = sorted({cell_key(eval_cell(s, ds, m)) for s in specs for ds in s.eval_sets for m in s.metrics})
        marks = ",".join("?" * len(keys)) or "''"
        with self._db() as conn:
            return pd.read_sql_query(f"SELECT model_key AS key, dataset, image, metric, value FROM eval_image_scores "
                                     f"WHERE key IN ({marks})", conn, params=keys)


class _Transaction:
    """One write transaction: BEGIN IMMEDIATE (the write lock up front, so two drivers never
    deadlock upgrading a read), commit on success, roll back on any error; SQLite errors become
    StoreErrors naming the file."""

    def __init__(self, store: ResultStore):
        self.path = store.path
        with _store_errors(self.path):
            self.conn = store._connect()

    def __enter__(self) -> sqlite3.Connection:
        with _store_errors(self.path, writing=True):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.conn.close()
                raise
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            with _store_errors(self.path, writing=True):
                if exc_type is None:
                    reached("store-write")  # the kill soak's moment: statements done, not committed
                    self.conn.commit()
                else:
                    self.conn.rollback()
        finally:
            self.conn.close()
        if isinstance(exc, sqlite3.Error):
            raise _store_error(self.path, exc, writing=True) from None
        return False


@contextlib.contextmanager
def _store_errors(path: Path, writing: bool = False) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise _store_error(path, exc, writing) from None


def _store_error(path: Path, exc: sqlite3.Error, writing: bool = False) -> StoreError:
    text = str(exc)
    hints = {"database or disk is full": "the disk is full",
             "readonly": "the results folder or database is not writable",
             "unable to open": "the results folder or database cannot be opened for writing",
             "disk I/O error": "the results folder could not be written: full, read-only or gone?",
             "malformed": "the file is corrupt; restore a copy or pick another --results-dir"}
    hint = next((h for needle, h in hints.items() if needle in text), "")
    unchanged = "; the failed write left the store as it was" if writing and "malformed" not in text else ""
    return StoreError(f"results database {path}: {text}" + (f" ({hint}{unchanged})" if hint else unchanged))


def _refuse_unless_ours(path: Path) -> None:
    """Refuse a file that is not a results database of this harness, before writing anything."""
    if path.is_dir():
        raise StoreError(f"results database {path} is a folder, not a file")
    if not path.exists() or path.stat().st_size == 0:
        return
    refuse = "refusing to use it and writing nothing; move it away or pick another --results-dir"
    try:
        with path.open("rb") as fh:
            header = fh.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read results database {path}: {exc.strerror or exc}") from None
    if header != _SQLITE_HEADER:
        raise StoreError(f"results database {path} is not a SQLite file (corrupt or foreign); {refuse}")
    try:
        conn = sqlite3.connect(path, timeout=30)  # no pragma: reading a foreign file must not change it
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            columns = [r[1] for r in conn.execute("PRAGMA table_info(cells)")]
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"results database {path} is corrupt ({exc}); {refuse}") from None
    if check != "ok":
        found = " ".join(line for line in check.splitlines() if not line.startswith("***"))[:200]
        raise StoreError(f"results database {path} is corrupt (SQLite's quick_check: {found}); {refuse}")
    tables = {t for t in tables if not t.startswith("sqlite_")}
    if tables and not tables & _OUR_TABLES:
        raise StoreError(f"{path} is not a srkd-bench results database (it holds tables "
                         f"{', '.join(sorted(tables)[:5])}); {refuse}")
    if columns and tuple(columns) != _CELL_COLUMNS:
        raise StoreError(f"results database {path} has a 'cells' table of another layout "
                         f"({', '.join(columns)}); {refuse}")


def _cell_states(conn: sqlite3.Connection, keys: Sequence[str]) -> dict[str, tuple[str, str, str]]:
    found: dict[str, tuple[str, str, str]] = {}
    keys = list(dict.fromkeys(keys))
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for key, status, error, created in conn.execute(
                f"SELECT key, status, error, created FROM cells WHERE key IN ({marks})", chunk):
            found[key] = (status, error or "", created or "")
    return found


def _lease(row: tuple) -> Lease:
    key, owner, host, pid, pid_started, acquired, heartbeat = row
    return Lease(key, Owner(owner, host or "", int(pid or 0), pid_started or ""), float(acquired or 0),
                 float(heartbeat or 0))


def _record(row: tuple) -> CellRecord:
    key, kind, label, status, error, bkey, code, params, seconds, outputs, info, created = row
    return CellRecord(key, kind, label, status, error or "", bkey, json.loads(code or "{}"), params or 0, seconds,
                      json.loads(outputs or "{}"), json.loads(info or "{}"), created or "")


def _spec_json(cell: Cell) -> str:
    from .graph.cells import identity
    from .spec import canonical_json

    return canonical_json(identity(cell, with_code=False))
