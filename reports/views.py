"""Template-ready grids (header rows, body rows of cells) for summary and comparison tables,
and `PlotRef`, a PNG shown next to them.

The templates render any `Grid` the same way, so layout decisions live here, in Python,
and the HTML stays a dumb loop with autoescaping. Like the papers' tables, a summary is
shown one table per scale, datasets as columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd

from .tables import (FAILED, NOT_COMPUTED, NOT_RUN, Comparison, SummaryTable, fmt, mark_best,
                     params_text)

_DIRECTION = {True: "lower is better", False: "higher is better",
              None: "direction unknown, not ranked"}


@dataclass
class PlotRef:
    """A PNG next to index.html, with its caption."""

    src: str
    caption: str


@dataclass(frozen=True)
class Cell:
    """One table cell: `text`, a small grey `aside` after it (± std, n=k/N), a second line
    `sub` (row heads), CSS classes `cls` and a hover `title`."""

    text: str
    cls: str = ""
    title: str = ""
    colspan: int = 1
    rowspan: int = 1
    header: bool = False
    aside: str = ""
    sub: str = ""


@dataclass(frozen=True)
class Grid:
    """A table for the template: caption, optional banner, header rows and body rows."""

    caption: str
    head: list[list[Cell]]
    body: list[list[Cell]]
    banner: str = ""
    notes: list[str] = field(default_factory=list)
    kind: str = "summary"


def _state_cls(text: str) -> str:
    return {NOT_COMPUTED: "missing", FAILED: "failed", NOT_RUN: "notrun"}.get(text, "num")


def _spread(table: SummaryTable) -> str:
    seeds = table.max_seeds
    return f"mean ± sample std over {seeds} seeds" if seeds > 1 else "single seed"


def summary_grids(table: SummaryTable, unranked: Iterable[str] = ()) -> list[Grid]:
    """One grid per scale (datasets as columns), best in bold and second underlined per
    column; rows whose method id is in `unranked` (bicubic, teacher) are italic, not ranked."""
    unranked = {u.lower() for u in unranked}
    marks = mark_best(table, exclude=unranked)
    scales = sorted(set(table.mean.columns.get_level_values("scale")))
    grids = []
    for scale in scales:
        cols = [c for c in table.mean.columns if c[1] == scale]
        params = table.params[scale] if scale in table.params.columns else pd.Series(dtype=float)
        show_params = any(params_text(v) for v in params)
        head = [Cell("Method", cls="rowhead", header=True)]
        if show_params:
            head.append(Cell("Params", cls="params", header=True))
        head += [Cell(str(d), cls="group", header=True) for d, _ in cols]
        body = []
        for row in table.mean.index:
            if all(table.state.at[row, col] == "not run" for col in cols):
                continue  # no run of this row at this scale (e.g. an ablation run at x2 only)
            ref = str(row[1]).lower() in unranked
            cells = [Cell(str(row[0]), cls="rowhead" + (" ref" if ref else ""), header=True,
                          title=f"method id: {row[1]}")]
            if show_params:
                cells.append(Cell(params_text(params.get(row)), cls="params"))
            for col in cols:
                value, spread, count = table.cell_parts(row, col)
                cls = " ".join(filter(None, [_state_cls(value), marks.at[row, col],
                                             "ref" if ref else ""]))
                cells.append(Cell(value, cls=cls, title=str(table.note.at[row, col]),
                                  aside=" ".join(p for p in (spread, count) if p)))
            body.append(cells)
        caption = (f"{table.label}, ×{scale} — {_DIRECTION[table.lower_better]}; "
                   f"{_spread(table)}; profile: {table.profile}")
        grids.append(Grid(caption=caption, head=[head], body=body))
    return grids


def comparison_grid(cmp: Comparison, names: str = "measured", lower_better: bool | None = None,
                    unranked: Iterable[str] = ()) -> Grid:
    """Measured | paper (| Δ) per column; the delta is absent when not comparable.

    `names="paper"` heads each row with the paper's row text (the paper's own layout) and
    puts the measured label under it. With `lower_better` set, the best / second cells are
    marked per column, separately among the measured and among the published numbers
    (rows whose method id is in `unranked` are not ranked)."""
    kinds = ["measured", "paper"] + (["Δ"] if cmp.delta is not None else [])
    meas_marks = pub_marks = None
    if lower_better is not None:
        meas_marks = mark_best(cmp.measured, lower_better, decimals=cmp.decimals, exclude=unranked)
        pub_dec = int(cmp.delta_decimals.to_numpy().max()) if cmp.delta_decimals.size else None
        pub_marks = mark_best(cmp.published, lower_better, decimals=pub_dec, exclude=unranked)
    scales = sorted(set(cmp.measured.columns.get_level_values("scale")))
    one_scale = len(scales) == 1
    head = [[Cell("Method", cls="rowhead", rowspan=2, header=True)], []]
    for dataset, scale in cmp.measured.columns:
        name = str(dataset) if one_scale else f"{dataset} ×{scale}"
        head[0].append(Cell(name, cls="group", colspan=len(kinds), header=True))
        head[1] += [Cell(k, cls="sub" + (" delta" if k == "Δ" else ""), header=True) for k in kinds]
    body = []
    for row in cmp.measured.index:
        paper_row = str(cmp.paper_rows[row])
        name = str(cmp.row_names[row])
        mrow = cmp.measured_rows[row] if cmp.measured_rows is not None else None
        if names == "paper" and paper_row:
            measured_label = str(mrow[0]) if mrow is not None else ""
            cells = [Cell(paper_row, cls="rowhead", header=True, title=f"method id: {row[1]}",
                          sub=("not run in this matrix" if mrow is None else
                               f"measured: {measured_label}" if measured_label != paper_row else ""))]
        else:
            cells = [Cell(name, cls="rowhead", header=True, title=f"method id: {row[1]}",
                          sub=f"paper: {paper_row}" if paper_row and paper_row != name else
                          ("not in the paper" if not paper_row else ""))]
        for col in cmp.measured.columns:
            mark = meas_marks.at[row, col] if meas_marks is not None else ""
            if mrow is not None and cmp.summary is not None and col in cmp.summary.mean.columns:
                value, spread, count = cmp.summary.cell_parts(mrow, col)
                cells.append(Cell(value, cls=" ".join(filter(None, [_state_cls(value), mark])),
                                  title=str(cmp.summary.note.at[mrow, col]),
                                  aside=" ".join(p for p in (spread, count) if p)))
            elif mrow is not None:  # a measured row, but this column was not evaluated
                cells.append(Cell(NOT_RUN, cls="notrun", title="not evaluated in this profile"))
            else:
                text = cmp.measured_text.at[row, col]
                cells.append(Cell(text, cls=_state_cls(text) if text else "blank"))
            printed = cmp.printed.at[row, col]
            ptext = cmp.published_text.at[row, col]
            note = f"printed as '{printed}'" if printed and printed != ptext else ""
            pmark = pub_marks.at[row, col] if pub_marks is not None and ptext else ""
            cells.append(Cell(ptext + ("*" if note else ""),
                              cls=" ".join(filter(None, ["num pub", pmark])) if ptext else "blank",
                              title=note))
            if cmp.delta is not None:
                delta = cmp.delta.at[row, col]
                cells.append(Cell("" if pd.isna(delta) else
                                  fmt(delta, int(cmp.delta_decimals.at[row, col]), sign=True),
                                  cls="num delta" if not pd.isna(delta) else "blank delta"))
        body.append(cells)
    notes = ["Δ = measured mean − published value, at the paper's printed precision."
             if cmp.delta is not None else
             "No Δ column: this profile's numbers are not comparable to the paper's."]
    if any(cmp.printed.at[r, c] and cmp.printed.at[r, c] != cmp.published_text.at[r, c]
           for r in cmp.printed.index for c in cmp.printed.columns):
        notes.append("* the paper prints this cell differently (hover for the literal text).")
    where = f", ×{scales[0]}" if one_scale else ""
    where += f" ({_DIRECTION[lower_better]})" if lower_better is not None else ""
    caption = f"{cmp.label}{where} — measured beside {cmp.source}; profile: {cmp.profile}"
    return Grid(caption=caption, head=head, body=body, banner=cmp.banner, notes=notes,
                kind="comparison")
