"""Compare two results databases cell by cell: what one lost, duplicated or changed.

Used by the kill soak (an interrupted run against an uninterrupted one) and by the tests of
concurrent runs (two processes against one). Times, dates, paths and conditions are not
compared; a cell's key, kind, status and parameter count are, and every stored score (per set
and per image) exactly.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Comparison:
    compared: int  # entries of the reference (cells, set scores, image scores)
    lost: tuple[str, ...]  # in the reference, missing or not ok in the other
    extra: tuple[str, ...]  # in the other only
    duplicated: int  # rows sharing a key within the other database
    differing: tuple[str, ...]  # present in both with another value
    max_abs_diff: float

    @property
    def equal(self) -> bool:
        return not (self.lost or self.extra or self.duplicated or self.differing)


def table(path: str | Path) -> dict[tuple, object]:
    """Every comparable entry of a results database: cells, set scores, per-image scores."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        entries: dict[tuple, object] = {}
        for key, kind, status, params in conn.execute("SELECT key, kind, status, params FROM cells"):
            entries[("cell", key)] = (kind, status, params)
        for key, value in conn.execute("SELECT key, value FROM eval_scores"):
            entries[("score", key)] = value
        for key, image, value in conn.execute("SELECT key, image, value FROM eval_image_scores"):
            entries[("image", key, image)] = value
        return entries
    finally:
        conn.close()


def duplicated_rows(path: str | Path) -> int:
    """Rows beyond the first of each key (0 unless a table lost its key constraint)."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        total = 0
        for sql in ("SELECT COUNT(*) - COUNT(DISTINCT key) FROM cells",
                    "SELECT COUNT(*) - COUNT(DISTINCT key) FROM eval_scores",
                    ("SELECT COUNT(*) - (SELECT COUNT(*) FROM (SELECT DISTINCT key, image FROM eval_image_scores)) "
                     "FROM eval_image_scores")):
            total += conn.execute(sql).fetchone()[0]
        return total
    finally:
        conn.close()


def compare(reference: str | Path, other: str | Path) -> Comparison:
    ref, got = table(reference), table(other)
    lost, differing, worst = [], [], 0.0
    for entry, want in ref.items():
        have = got.get(entry)
        if have is None or (entry[0] == "cell" and have[1] != "ok" and want[1] == "ok"):
            lost.append(_name(entry))
        elif have != want and not _both_nan(have, want):
            differing.append(_name(entry))
            if isinstance(have, float) and isinstance(want, float):
                worst = max(worst, abs(have - want))
    extra = [_name(e) for e in got if e not in ref]
    return Comparison(len(ref), tuple(lost), tuple(extra), duplicated_rows(other), tuple(differing), worst)


def _both_nan(a: object, b: object) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def _name(entry: tuple) -> str:
    return ":".join(str(p)[:16] for p in entry)
