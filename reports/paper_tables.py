"""Results tables as a paper prints them, independent of the output format (LaTeX, Markdown, CSV).

One `PaperTable` per metric: a block of rows per scale, test sets as columns, the mean over seeds
in each cell, best and second marked per column among the ranked rows (references such as
bicubic and the teacher are shown but not ranked), the metric's direction in the header and,
where a paper publishes the same cell, the published value as a second row under the measured
one. The numbers and marks come from reports.tables (summary_table, mark_best), the same as the
HTML report's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from .tables import (
    COMPARABLE_PROFILES,
    NOT_RUN,
    fmt,
    is_blank,
    mark_best,
    params_text,
    summary_table,
)

ARROWS = {True: "↓", False: "↑", None: ""}


@dataclass(frozen=True)
class TableCell:
    text: str  # the number as printed, or "not computed" / "failed" / "—"
    mark: str = ""  # "best" | "second" | ""
    number: bool = False
    spread: str = ""  # "0.02" (sample std over seeds), "" for one seed
    value: float | None = None
    std: float | None = None
    n: int = 0


@dataclass(frozen=True)
class TableRow:
    label: str
    method: str
    reference: bool  # not ranked (bicubic, teacher)
    params: str
    cells: tuple[TableCell, ...]
    published: tuple[TableCell, ...] | None = None  # the paper's values in the same columns


@dataclass(frozen=True)
class TableBlock:
    scale: int
    rows: tuple[TableRow, ...]


@dataclass(frozen=True)
class PaperTable:
    id: str  # file-safe: the metric name
    metric: str
    label: str  # "PSNR (dB)"
    lower_better: bool | None
    columns: tuple[str, ...]  # test sets
    blocks: tuple[TableBlock, ...]
    profile: str
    comparable: bool  # profile comparable with published numbers
    published_source: str = ""  # the paper whose numbers fill the second rows
    seeds: int = 1
    show_params: bool = False

    @property
    def arrow(self) -> str:
        return ARROWS[self.lower_better]

    @property
    def direction(self) -> str:
        return {True: "lower is better", False: "higher is better", None: "direction unknown"}[self.lower_better]

    @property
    def has_published(self) -> bool:
        return any(r.published is not None for b in self.blocks for r in b.rows)

    def caption(self) -> str:
        """One sentence: metric and direction, what a cell holds, marks, profile, published rows."""
        spread = (f"mean ± sample std over {self.seeds} seeds" if self.seeds > 1 else "one seed")
        text = (f"{self.label} ({self.direction}) per test set and scale; {spread}. Best in bold, second "
                f"underlined, per column among the methods (references not ranked). Profile: {self.profile}.")
        if self.has_published:
            text += f" Second rows: the published values ({self.published_source})"
            text += ("." if self.comparable else
                     f" — the {self.profile} profile is NOT comparable to them.")
        elif not self.comparable:
            text += " Not comparable to published numbers."
        return text


def _published_lookup(published: pd.DataFrame | None, metric: str, paper: str | None
                      ) -> dict[tuple[str, str, int], tuple[str, float]]:
    """(method id, dataset, scale) -> (printed text, value): each cell's first transcription."""
    if published is None or published.empty:
        return {}
    pub = published[(published["metric"] == metric) & ~published["dataset"].map(is_blank).astype(bool)
                     & published["scale"].notna()]
    if paper:
        pub = pub[pub["paper"] == paper]
    out: dict[tuple[str, str, int], tuple[str, float]] = {}
    for rec in pub.to_dict("records"):
        text = str(rec.get("text") or "").strip() or fmt(float(rec["value"]), int(rec.get("decimals") or 2))
        out.setdefault((str(rec["method"]), str(rec["dataset"]), int(rec["scale"])), (text, float(rec["value"])))
    return out


def paper_tables(frame: pd.DataFrame, metric_info: Mapping[str, Mapping], published: pd.DataFrame | None = None,
                 paper: str | None = None, unranked: Iterable[str] = ("bicubic", "teacher"),
                 comparable_profiles: Iterable[str] = COMPARABLE_PROFILES,
                 metrics: Iterable[str] | None = None) -> list[PaperTable]:
    """One table per metric of a single-profile frame (see the module docstring)."""
    unranked = tuple(u.lower() for u in unranked)
    present = [m for m in dict.fromkeys(frame["metric"]) if not is_blank(m)]
    order = [m for m in (metrics or metric_info) if m in present] + [m for m in present if m not in (metrics or metric_info)]
    tables = []
    for metric in order:
        summary = summary_table(frame, metric, metric_info)
        if not summary.n.to_numpy().any():
            continue
        marks = mark_best(summary, exclude=unranked)
        lookup = _published_lookup(published, metric, paper)
        columns = tuple(dict.fromkeys(d for d, _ in summary.mean.columns))
        blocks = []
        show_params = False
        for scale in sorted({s for _, s in summary.mean.columns}):
            cols = [(d, scale) for d in columns]
            params = summary.params[scale] if scale in summary.params.columns else pd.Series(dtype=float)
            rows = []
            for row in summary.mean.index:
                present_cols = [c for c in cols if c in summary.mean.columns]
                if all(summary.state.at[row, c] == "not run" for c in present_cols):
                    continue
                cells = []
                for col in cols:
                    if col not in summary.mean.columns:
                        cells.append(TableCell(NOT_RUN))
                        continue
                    value, spread, _ = summary.cell_parts(row, col)
                    ok = summary.state.at[row, col] == "ok"
                    mean = float(summary.mean.at[row, col]) if ok else None
                    std = summary.std.at[row, col]
                    cells.append(TableCell(value, marks.at[row, col] if ok else "", ok,
                                           spread.replace("± ", "") if spread else "", mean,
                                           float(std) if ok and pd.notna(std) else None,
                                           int(summary.n.at[row, col])))
                pub = [lookup.get((str(row[1]), d, scale)) for d, _ in cols]
                pub_cells = (tuple(TableCell(p[0], number=True, value=p[1]) if p else TableCell("")
                                   for p in pub) if any(pub) else None)
                ptext = params_text(params.get(row)) if len(params) else ""
                show_params = show_params or bool(ptext)
                rows.append(TableRow(str(row[0]), str(row[1]), str(row[1]).lower() in unranked, ptext,
                                     tuple(cells), pub_cells))
            if rows:
                blocks.append(TableBlock(scale, tuple(rows)))
        tables.append(PaperTable(id=metric, metric=metric, label=summary.label, lower_better=summary.lower_better,
                                 columns=columns, blocks=tuple(blocks), profile=summary.profile,
                                 comparable=summary.profile in set(comparable_profiles),
                                 published_source=paper or ("as transcribed" if lookup else ""),
                                 seeds=max(1, summary.max_seeds), show_params=show_params))
    return tables
