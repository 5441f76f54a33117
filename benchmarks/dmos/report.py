"""DMOS study as an HTML page (the SRGAN-KD paper's Tables 3-4 layout) and in the result store.

``render_dmos_html`` writes one self-contained page (inline CSS, no images) from a
:class:`~benchmarks.dmos.score.DmosResult`; ``store_dmos`` keeps the per (method, image) DMOS
in a ``dmos`` table of the SQLite result store (``results.sqlite``).
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any, Mapping, Sequence

import jinja2

from .score import DIRECTION_NOTE, DmosResult



def _templates() -> Path:
    """reports/templates, found without importing `reports` (which pulls in matplotlib)."""
    import importlib.util

    spec = importlib.util.find_spec("reports")
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]) / "templates"
    return Path(__file__).resolve().parents[2] / "reports" / "templates"


PUBLISHED_PAPER = "srgankd2021"

DIRECTION = {
    False: ("DMOS per eqs. 4-6 (d = r_ref - r): higher = worse (rated further below the "
            "reference); the lowest value of each row is bold."),
    True: ("100 - DMOS (d = r - r_ref, the paper's reading): higher = better; the highest value "
           "of each row is bold."),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dmos (
  study TEXT, method TEXT, image TEXT, dmos REAL, raters INTEGER,
  PRIMARY KEY (study, method, image)
)
"""


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(_templates())), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _cells(values: Sequence[Any], digits: int, best: str | None) -> list[dict[str, Any]]:
    """Formatted cells; the best (at the printed precision, ties share) marked."""
    texts = [None if _blank(v) else f"{float(v):.{digits}f}" for v in values]
    nums = [float(t) for t in texts if t is not None]
    target = None
    if best and len(nums) > 1:
        target = max(nums) if best == "max" else min(nums)
    return [{"text": "not computed" if t is None else t,
             "cls": "missing" if t is None else ("best" if target is not None and float(t) == target else "")}
            for t in texts]


def _published() -> dict[str, Any] | None:
    """The paper's Tables 3 and 4 as printed, or None when they cannot be loaded."""
    try:
        from ..published_tables import load_paper

        paper = load_paper(PUBLISHED_PAPER)
        t3, t4 = paper.table("table3"), paper.table("table4")
    except Exception:  # noqa: BLE001 - the page is still useful without them
        return None

    def text(table, row, col):
        try:
            return table.cell(row, col).text
        except KeyError:
            return None

    rows3 = []
    for col in t3.columns:  # the printed columns are the images: one row each here
        vals = [text(t3, m, col) for m in t3.rows]
        rows3.append({"label": col, "cells": _printed(vals, t3.best)})
    vals4 = [text(t4, m, "PI") for m in t4.rows]
    return {"paper": paper.paper, "title": paper.title, "methods": list(t3.rows),
            "caption3": t3.caption, "rows3": rows3, "caption4": t4.caption,
            "methods4": list(t4.rows), "pi": _printed(vals4, t4.best)}


def _printed(texts: Sequence[str | None], best: str | None) -> list[dict[str, Any]]:
    nums = [float(t) for t in texts if t is not None]
    target = (max(nums) if best == "max" else min(nums)) if best and nums else None
    return [{"text": "—" if t is None else t,
             "cls": "missing" if t is None else ("best" if float(t) == target else "")}
            for t in texts]


def render_dmos_html(result: DmosResult, out_path: str | Path,
                     mean_pi: Mapping[str, float | None] | None = None, inverted: bool = False,
                     title: str = "DMOS study", digits: int = 2) -> Path:
    """Write the study's Table 3 (DMOS per image and method, + Mean) and, with `mean_pi`,
    Table 4 (mean PI per method) as one self-contained HTML page; the paper's own numbers
    follow for reference. Return the page's path."""
    out_path = Path(out_path)
    t3 = result.table3(inverted=inverted)
    methods = [str(m) for m in t3.columns]
    best = "max" if inverted else "min"
    rows = [{"label": str(idx), "mean": str(idx) == "Mean",
             "cells": _cells(list(row), digits, best)} for idx, row in t3.iterrows()]
    pi = None
    if mean_pi is not None:
        pi = _cells([mean_pi.get(m) for m in methods], 4, "min")
    n_images = int(result.items["image"].nunique())
    html = _env().get_template("dmos.html.j2").render(
        title=title, methods=methods, rows=rows, pi=pi, direction=DIRECTION[inverted],
        direction_note=DIRECTION_NOTE, inverted=inverted, n_raters=len(result.raters),
        n_images=n_images, n_items=len(result.items), ddof=result.ddof,
        std="sample, ddof=1" if result.ddof == 1 else f"population, ddof={result.ddof}"
        if result.ddof == 0 else f"ddof={result.ddof}",
        published=_published())
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html, encoding="utf-8")
    return out_path


def store_dmos(store_path: str | Path, study_name: str, result: DmosResult) -> int:
    """Replace `study_name`'s rows of the store's ``dmos`` table (created if missing) with one
    row per (method, image): DMOS per eqs. 4-6 (higher = worse) and the number of raters.
    One transaction. Return the number of rows written."""
    store_path = Path(store_path)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    rows = [(study_name, str(r.method), str(r.image), float(r.dmos), len(result.raters))
            for r in result.items.itertuples()]
    conn = sqlite3.connect(store_path, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        with conn:
            conn.execute(_SCHEMA)
            conn.execute("DELETE FROM dmos WHERE study = ?", (study_name,))
            conn.executemany("INSERT INTO dmos VALUES (?,?,?,?,?)", rows)
    finally:
        conn.close()
    return len(rows)
