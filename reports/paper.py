"""A paper's own tables and figures, in its order, with measured numbers beside published ones.

A matrix tied to a paper (``paper: clsd2023``) gets one section per published table (and per
figure the caller describes), titled with the paper's number and caption. The tables are
sorted by what their cells hold:

* (dataset, scale) numbers of a metric the matrix measures: measured | paper | Δ per cell,
  the paper's rows in the paper's order (`with_published`);
* parameter counts (metric ``params_m``): the runs' parameter counts, in millions, per scale,
  beside the paper's number; configuration columns (#Resblocks, #Channels) beside the
  architecture options of the runs when the caller gives them;
* training hours (metric ``train_hours``): teacher, student and total hours of the runs at
  one scale, beside the paper's hours, with the hardware of both sides stated;
* anything else (DMOS, PI, ... when the matrix does not compute them): listed as not measured.

A `SweepFigure` (e.g. PSNR against projection-head depth) has no published numbers: the rows
whose id is ``<prefix><x>`` are drawn against x with `plots.sweep_plot`, measured only.
Deltas are shown only for profiles comparable to the papers; others get the banner.

Tables are duck-typed like ``benchmarks.published_tables.PublishedTable`` (id, caption,
rows, columns, metric, scale, best, methods); the numbers come from the long published frame.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import plots
from .tables import NOT_RUN, banner_for, fmt, is_blank, summary_table, with_published
from .views import Cell, Grid, PlotRef, comparison_grid

PARAMS_METRIC = "params_m"
HOURS_METRIC = "train_hours"
CONFIG_METRICS = {"resblocks": "residual blocks", "channels": "feature channels",
                  "filters": "generator filters"}
_ID = re.compile(r"^(table|fig)(\d+)([a-z]?)$")
_OK = "ok"


def item_number(item_id: str) -> str:
    """ "table2" -> "Table 2", "fig3" -> "Fig. 3" (the paper's own numbering)."""
    m = _ID.match(str(item_id))
    if not m:
        return str(item_id)
    return ("Table " if m.group(1) == "table" else "Fig. ") + m.group(2) + m.group(3)


@dataclass(frozen=True)
class SweepFigure:
    """A figure of the paper drawn from a sweep of rows with ids ``<prefix><x>``."""

    id: str  # "fig3"
    caption: str  # the paper's caption
    prefix: str  # row ids "ph-depth-1", "ph-depth-3", ... -> x = 1, 3, ...
    metric: str
    dataset: str
    scale: int
    xlabel: str
    what: str = ""  # short subject for the section title, e.g. "PSNR vs ResBlocks per head"
    after: str | None = None  # table id it follows in the paper; None: after the last table


@dataclass(frozen=True)
class PaperLayout:
    """What render_report needs to lay out a paper's tables and figures."""

    paper: str
    tables: tuple[Any, ...]  # PublishedTable-like, in the paper's order
    title: str = ""
    figures: tuple[SweepFigure, ...] = ()
    hardware: str = ""  # what the paper states about the machines behind its hours
    cost_scale: int | None = None  # scale of the runs whose hours are compared; None: smallest
    configs: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # id -> {resblocks: 16}

    @classmethod
    def from_published(cls, paper: Any, **kwargs: Any) -> PaperLayout:
        """From a loaded paper (``benchmarks.published_tables.load_paper``)."""
        return cls(paper=paper.paper, tables=tuple(paper.tables), title=paper.title, **kwargs)

    def items(self) -> list[Any]:
        """Tables and figures in the paper's order."""
        out: list[Any] = []
        placed = set()
        for table in self.tables:
            out.append(table)
            for fig in self.figures:
                if fig.after == table.id:
                    out.append(fig)
                    placed.add(fig.id)
        return out + [f for f in self.figures if f.id not in placed]


@dataclass
class PaperSection:
    """One table or figure of the paper, ready for the template."""

    anchor: str
    title: str
    kind: str  # "comparison" | "params" | "cost" | "figure" | "not-measured"
    grids: list[Grid] = field(default_factory=list)
    figures: list[PlotRef] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: str = ""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "x"


def _short(metric: str, metric_info: Mapping[str, Mapping]) -> str:
    label = str(metric_info.get(metric, {}).get("label", metric.upper()))
    return re.sub(r"\s*\(.*\)$", "", label) or metric.upper()


def _lower_better(best: str | None, metric: str, metric_info: Mapping[str, Mapping]) -> bool | None:
    if best == "max":
        return False
    if best == "min":
        return True
    return metric_info.get(metric, {}).get("lower_better")


def _runs(frame: pd.DataFrame, method: str, scale: int | None = None) -> pd.DataFrame:
    """One row per ok run of a row id (optionally at one scale)."""
    sel = (frame["method"] == method) & (frame["status"] == _OK)
    if scale is not None:
        sel &= frame["scale"] == scale
    return frame[sel].drop_duplicates("run_key")


def _labels(frame: pd.DataFrame, method: str) -> str:
    return ", ".join(str(x) for x in dict.fromkeys(frame.loc[frame["method"] == method, "label"]))


def paper_sections(frame: pd.DataFrame, published: pd.DataFrame | None, layout: PaperLayout,
                   metric_info: Mapping[str, Mapping], out_dir: Path, conditions: Mapping[str, Any],
                   comparable_profiles: Iterable[str], unranked: Iterable[str] = (),
                   prefix: str = "") -> list[PaperSection]:
    """The paper's tables and figures for one profile's frame, in the paper's order."""
    profiles = [str(p) for p in dict.fromkeys(frame["profile"].dropna())]
    profile = profiles[0] if profiles else ""
    comparable = profile in set(comparable_profiles)
    ctx = _Context(frame=frame, layout=layout, metric_info=metric_info, out_dir=Path(out_dir),
                   conditions=conditions, profile=profile, comparable=comparable,
                   banner="" if comparable else banner_for(profile), unranked=tuple(unranked),
                   prefix=prefix)
    pub = published if published is not None else pd.DataFrame(
        columns=["paper", "table", "row", "column", "method", "dataset", "scale", "metric", "value",
                 "text", "decimals"])
    pub = pub[pub["paper"] == layout.paper]
    sections = []
    for item in layout.items():
        if isinstance(item, SweepFigure):
            sections.append(_figure_section(ctx, item))
        else:
            sections.append(_table_section(ctx, item, pub[pub["table"] == item.id]))
    return sections


@dataclass(frozen=True)
class _Context:
    frame: pd.DataFrame
    layout: PaperLayout
    metric_info: Mapping[str, Mapping]
    out_dir: Path
    conditions: Mapping[str, Any]
    profile: str
    comparable: bool
    banner: str
    unranked: tuple[str, ...]
    prefix: str

    def title(self, item_id: str, what: str, caption: str) -> str:
        return f"{item_number(item_id)} ({self.layout.paper}): {what} — {caption}"

    def anchor(self, item_id: str) -> str:
        return _slug(f"{self.profile}-{self.layout.paper}-{item_id}")

    @property
    def measured_metrics(self) -> list[str]:
        return [m for m in dict.fromkeys(self.frame["metric"]) if not is_blank(m)]


def _table_section(ctx: _Context, table: Any, pub: pd.DataFrame) -> PaperSection:
    metrics = [m for m in dict.fromkeys(pub["metric"]) if not is_blank(m)] or [table.metric]
    if HOURS_METRIC in metrics:
        return _cost_section(ctx, table, pub)
    if PARAMS_METRIC in metrics:
        return _params_section(ctx, table, pub)
    return _comparison_section(ctx, table, pub, metrics)


# ----------------------------------------------------------------------------- (dataset, scale)


def _comparison_section(ctx: _Context, table: Any, pub: pd.DataFrame,
                        metrics: list[str]) -> PaperSection:
    measured = [m for m in metrics if m in ctx.measured_metrics]
    unmeasured = [m for m in metrics if m not in measured]
    scales = sorted({int(s) for s in pub["scale"].dropna()})
    where = "".join(f" ×{s}" for s in scales[:1]) if len(scales) == 1 else ""
    what = " / ".join(_short(m, ctx.metric_info) for m in metrics) + where
    section = PaperSection(ctx.anchor(table.id), ctx.title(table.id, what, table.caption),
                           "comparison")
    if not measured:
        section.kind = "not-measured"
        section.missing = (f"{', '.join(_short(m, ctx.metric_info) for m in unmeasured)}: "
                           f"not measured in this matrix (it measures "
                           f"{', '.join(_short(m, ctx.metric_info) for m in ctx.measured_metrics) or 'nothing'}).")
        return section
    ids = list(dict.fromkeys(table.methods[r] for r in table.rows))
    part = ctx.frame[ctx.frame["method"].isin(ids)]
    for metric in measured:
        cells = pub[pub["metric"] == metric]
        matchable = cells[~cells["dataset"].map(is_blank).astype(bool) & cells["scale"].notna()]
        if matchable.empty:
            section.notes.append(f"{_short(metric, ctx.metric_info)}: the paper's cells give no "
                                 "test set and scale, so they cannot be matched with measured ones.")
            continue
        summary = summary_table(part, metric, ctx.metric_info)
        if summary.profile != ctx.profile:  # no measured row at all: keep the section's profile
            summary = dataclasses.replace(summary, profile=ctx.profile)
        cmp = with_published(summary, matchable, paper=ctx.layout.paper, table=table.id,
                             comparable_profiles=[ctx.profile] if ctx.comparable else [])
        # the table's `best` is its main metric's; another metric's cells (PI beside PSNR) rank
        # in that metric's own direction
        best = table.best if metric == table.metric else None
        grid = comparison_grid(cmp, names="paper",
                               lower_better=_lower_better(best, metric, ctx.metric_info),
                               unranked=ctx.unranked)
        section.grids.append(grid)
    if unmeasured:
        section.notes.append(f"{', '.join(_short(m, ctx.metric_info) for m in unmeasured)}: "
                             "not measured in this matrix.")
    section.notes.append(
        "Rows as printed in the paper, in its order; bold / underlined = best / second per column, "
        "separately among the measured and among the paper's numbers. Rows of this matrix that are "
        "not in this table are in the summary tables below.")
    return section


# ----------------------------------------------------------------------------- parameters


def _column_metric(table: Any, pub: pd.DataFrame, column: str) -> str:
    cells = pub[pub["column"] == column]
    return str(cells["metric"].iloc[0]) if len(cells) else str(table.metric)


def _pub_cell(pub: pd.DataFrame, row: str, column: str) -> dict | None:
    cells = pub[(pub["row"] == row) & (pub["column"] == column)]
    return cells.iloc[0].to_dict() if len(cells) else None


def _params_section(ctx: _Context, table: Any, pub: pd.DataFrame) -> PaperSection:
    section = PaperSection(ctx.anchor(table.id), ctx.title(table.id, "parameters", table.caption),
                           "params")
    ids = [table.methods[r] for r in table.rows]
    frame = ctx.frame
    with_params = frame[(frame["status"] == _OK) & frame["method"].isin(ids)
                        & (frame["params"].fillna(0) > 0)]
    scales = sorted({int(s) for s in with_params["scale"].dropna()})
    delta = ctx.comparable
    head = [[Cell("Method", cls="rowhead", rowspan=2, header=True)], []]
    layout = []  # (column, metric)
    for column in table.columns:
        metric = _column_metric(table, pub, column)
        layout.append((column, metric))
        if metric == PARAMS_METRIC:
            subs = ([f"×{s}" for s in scales] or ["measured"]) + ["paper"]
            if delta:
                subs += [f"Δ ×{s}" for s in scales] if len(scales) > 1 else ["Δ"]
        else:
            subs = ["measured", "paper"]
        head[0].append(Cell(str(column), cls="group", colspan=len(subs), header=True))
        head[1] += [Cell(k, cls="sub" + (" delta" if k.startswith("Δ") else ""), header=True)
                    for k in subs]
    body = []
    for row in table.rows:
        method = table.methods[row]
        runs = with_params[with_params["method"] == method].drop_duplicates("run_key")
        label = _labels(frame, method)
        cells = [Cell(str(row), cls="rowhead" + (" ref" if method in ctx.unranked else ""),
                      header=True, title=f"method id: {method}",
                      sub=f"measured: {label}" if label else "not run in this matrix")]
        for column, metric in layout:
            rec = _pub_cell(pub, row, column)
            ptext = str(rec["text"]) if rec is not None else "-"
            pcell = Cell(ptext, cls="num pub" if rec is not None else "blank")
            if metric == PARAMS_METRIC:
                per_scale = {s: runs.loc[runs["scale"] == s, "params"].median() / 1e6 for s in scales}
                for s in scales or [None]:
                    v = per_scale.get(s, np.nan) if s is not None else np.nan
                    cells.append(Cell(f"{v:.2f}M", cls="num") if not pd.isna(v) else
                                 Cell(NOT_RUN, cls="notrun", title="no run with a parameter count"))
                cells.append(pcell)
                if delta:
                    for s in scales or [None]:
                        v = per_scale.get(s, np.nan) if s is not None else np.nan
                        d = v - float(rec["value"]) if rec is not None and not pd.isna(v) else np.nan
                        cells.append(Cell(fmt(d, 2, sign=True), cls="num delta") if not pd.isna(d)
                                     else Cell("", cls="blank delta"))
            else:
                value = ctx.layout.configs.get(method, {}).get(metric)
                cells.append(Cell(f"{value:g}", cls="num") if value is not None else
                             Cell(NOT_RUN, cls="notrun", title="architecture option not given"))
                cells.append(pcell)
        body.append(cells)
    notes = [("Measured parameters: the parameter count of the stored runs (the teacher's own "
              "run; the student's runs), in millions, per scale — the upsampler depends on the "
              "scale, while the paper prints one number without a scale.")]
    if any(m in CONFIG_METRICS for _, m in layout):
        notes.append(f"Measured {', '.join(str(c) for c, m in layout if m in CONFIG_METRICS)}: the "
                     f"architecture options of the runs in this profile ({ctx.profile}).")
    notes.append("Δ = measured − published, in millions." if delta else
                 "No Δ column: this profile's numbers are not comparable to the paper's.")
    caption = (f"Parameters (M) — measured beside {ctx.layout.paper} {table.id}; "
               f"profile: {ctx.profile}")
    section.grids.append(Grid(caption=caption, head=head, body=body, banner=ctx.banner,
                              notes=notes, kind="comparison"))
    return section


# ----------------------------------------------------------------------------- training hours


def _hours_kind(column: str) -> str:
    low = str(column).lower()
    if "total" in low:
        return "total"
    if "teacher" in low:
        return "teacher"
    if "student" in low:
        return "student"
    return ""


def _hours_text(hours: float) -> tuple[str, str]:
    """(value, aside): hours at two decimals; short runs at four, with their seconds."""
    if pd.isna(hours):
        return NOT_RUN, ""
    if hours >= 1.0:
        return fmt(hours, 2), ""
    return fmt(hours, 2 if hours >= 0.05 else 4), f"= {hours * 3600:.0f} s"


def cost_scale(frame: pd.DataFrame, layout: PaperLayout) -> int | None:
    """The scale whose runs the hours come from: the layout's, else the smallest in the frame."""
    scales = sorted({int(s) for s in frame["scale"].dropna()})
    if layout.cost_scale is not None:
        return int(layout.cost_scale)
    return scales[0] if scales else None


def measured_hours(frame: pd.DataFrame, method: str, scale: int | None) -> dict[str, float]:
    """Mean over the row's trained runs at `scale`: teacher, student and total hours, and the
    number of runs. Teacher hours are NaN when no run of the row recorded a teacher time."""
    runs = _runs(frame, method, scale)
    runs = runs[runs["train_seconds"].notna()]
    if runs.empty:
        return {"teacher": np.nan, "student": np.nan, "total": np.nan, "n": 0}
    teacher = runs["teacher_seconds"]
    has_teacher = teacher.notna().any()
    total = runs["train_seconds"] + teacher.fillna(0.0)
    return {"teacher": teacher.mean() / 3600.0 if has_teacher else np.nan,
            "student": runs["train_seconds"].mean() / 3600.0,
            "total": total.mean() / 3600.0, "n": len(runs)}


def _cost_section(ctx: _Context, table: Any, pub: pd.DataFrame) -> PaperSection:
    section = PaperSection(ctx.anchor(table.id),
                           ctx.title(table.id, "training hours", table.caption), "cost")
    scale = cost_scale(ctx.frame, ctx.layout)
    delta = ctx.comparable
    kinds = ["measured", "paper"] + (["Δ"] if delta else [])
    head = [[Cell("Method", cls="rowhead", rowspan=2, header=True)], []]
    for column in table.columns:
        head[0].append(Cell(str(column), cls="group", colspan=len(kinds), header=True))
        head[1] += [Cell(k, cls="sub" + (" delta" if k == "Δ" else ""), header=True) for k in kinds]
    body, seeds = [], set()
    lower_better = _lower_better(table.best, HOURS_METRIC, ctx.metric_info)
    rows = list(table.rows)
    hours = {r: measured_hours(ctx.frame, table.methods[r], scale) for r in rows}
    seeds |= {h["n"] for h in hours.values() if h["n"]}
    for row in rows:
        method = table.methods[row]
        h = hours[row]
        label = _labels(ctx.frame, method)
        failed = ((ctx.frame["method"] == method) & (ctx.frame["status"] != _OK)
                  & (ctx.frame["scale"] == scale)).any()
        cells = [Cell(str(row), cls="rowhead", header=True, title=f"method id: {method}",
                      sub=(f"measured: {label}" if label and label != row else
                           "" if label else "not run in this matrix"))]
        for column in table.columns:
            kind = _hours_kind(column)
            value = h.get(kind, np.nan) if kind else np.nan
            text, aside = _hours_text(value)
            if text == NOT_RUN:
                why = ("no teacher" if kind == "teacher" and h["n"] else
                       "failed" if failed else "not run at this scale")
                cells.append(Cell("failed" if failed and kind != "teacher" else NOT_RUN,
                                  cls="failed" if failed and kind != "teacher" else "notrun",
                                  title=why))
            else:
                cells.append(Cell(text, cls="num", aside=aside))
            rec = _pub_cell(pub, row, column)
            cells.append(Cell(str(rec["text"]), cls="num pub") if rec is not None else
                         Cell("-", cls="blank", title="printed as '-' (no value)"))
            if delta:
                d = value - float(rec["value"]) if rec is not None and not pd.isna(value) else np.nan
                cells.append(Cell(fmt(d, 2, sign=True), cls="num delta") if not pd.isna(d) else
                             Cell("", cls="blank delta"))
        body.append(cells)
    measured_on = str(ctx.conditions.get("hardware") or "not recorded")
    seed_text = (f"mean over {max(seeds)} seed(s)" if seeds else "no trained runs")
    which = ("the matrix's first scale" if ctx.layout.cost_scale is not None else
             "the smallest scale in the results")
    notes = [
        (f"Measured hours: the runs at ×{scale}, {which} — the paper's table does not state a "
         f"scale; {seed_text} per row. Teacher (h) = the training time of the teacher's own run "
         "(shared by every KD row at this scale), Student (h) = the row's own training time, "
         "Total = Teacher + Student."),
        (f"Hardware — measured: {measured_on}; paper: "
         f"{ctx.layout.hardware or 'not stated in the paper'}. Hours depend on the hardware (and "
         "on the profile's number of iterations), so a difference compares machines as much as "
         "methods."),
        "Δ = measured − published hours." if delta else
        "No Δ column: this profile's numbers are not comparable to the paper's.",
    ]
    if lower_better is not None:
        notes.append("The paper reads lower as better." if lower_better else
                     "The paper reads higher as better.")
    caption = (f"Training time (h) of the ×{scale} runs — measured beside {ctx.layout.paper} "
               f"{table.id}; profile: {ctx.profile}")
    section.grids.append(Grid(caption=caption, head=head, body=body, banner=ctx.banner,
                              notes=notes, kind="comparison"))
    return section


# ----------------------------------------------------------------------------- sweep figures


def sweep_points(frame: pd.DataFrame, fig: SweepFigure) -> pd.DataFrame:
    """Values of the sweep's rows: columns x (the number after the prefix), dataset, seed,
    value, label, method; ok runs with a computed value of the figure's metric and scale."""
    ids = frame["method"].astype(str)
    suffix = ids.str.slice(len(fig.prefix))
    numeric = ids.str.startswith(fig.prefix) & suffix.str.fullmatch(r"\d+(?:\.\d+)?")
    sel = (numeric & (frame["status"] == _OK) & (frame["metric"] == fig.metric)
           & (frame["scale"] == fig.scale) & frame["value"].notna())
    out = frame.loc[sel, ["method", "label", "dataset", "seed", "value"]].copy()
    out["x"] = suffix[sel].astype(float)
    return out.sort_values(["dataset", "x", "seed"]).reset_index(drop=True)


def _figure_section(ctx: _Context, fig: SweepFigure) -> PaperSection:
    label = _short(fig.metric, ctx.metric_info)
    what = fig.what or f"{label} vs {fig.xlabel}, {fig.dataset} ×{fig.scale}"
    section = PaperSection(ctx.anchor(fig.id), ctx.title(fig.id, what, fig.caption), "figure")
    points = sweep_points(ctx.frame, fig)
    if points.empty:
        section.missing = (f"No computed {label} of rows {fig.prefix}<n> at ×{fig.scale} in this "
                           "matrix and profile.")
        return section
    datasets = list(dict.fromkeys(points["dataset"]))
    shown = [fig.dataset] if fig.dataset in datasets else datasets
    if fig.dataset not in datasets:
        section.notes.append(f"{fig.dataset} is not evaluated in this profile; drawn for "
                             f"{', '.join(shown)} instead.")
    data = points[points["dataset"].isin(shown)]
    decimals = int(ctx.metric_info.get(fig.metric, {}).get(
        "decimals", 4 if data["value"].abs().max() <= 1 else 3))
    name = f"{ctx.prefix}{_slug(ctx.layout.paper)}_{_slug(fig.id)}.png"
    plots.sweep_plot(data, "x", ctx.out_dir / name, group="dataset" if len(shown) > 1 else None,
                     xlabel=fig.xlabel, ylabel=str(ctx.metric_info.get(fig.metric, {}).get(
                         "label", label)),
                     title=f"{', '.join(shown)} ×{fig.scale} — profile: {ctx.profile}")
    section.figures.append(PlotRef(name, f"{item_number(fig.id)} ({ctx.layout.paper}) redrawn from "
                                   f"the measured runs {fig.prefix}<n>: mean over seeds, error bars "
                                   "± sample std where there are several. The paper prints no "
                                   "numbers for this figure: measured only."))
    xs = sorted(set(data["x"]))
    head = [[Cell(fig.xlabel, cls="rowhead", header=True)]
            + [Cell(f"{x:g}", cls="group", header=True) for x in xs]]
    body = []
    for dataset in shown:
        sub = data[data["dataset"] == dataset]
        cells = [Cell(f"{dataset} ×{fig.scale}", cls="rowhead", header=True)]
        for x in xs:
            vals = sub.loc[sub["x"] == x, "value"]
            if vals.empty:
                cells.append(Cell(NOT_RUN, cls="notrun"))
                continue
            aside = f"± {fmt(vals.std(ddof=1), decimals)}" if len(vals) > 1 else ""
            ids = ", ".join(dict.fromkeys(sub.loc[sub["x"] == x, "method"]))
            cells.append(Cell(fmt(vals.mean(), decimals), cls="num", aside=aside,
                              title=f"row id: {ids}"))
        body.append(cells)
    section.grids.append(Grid(
        caption=f"{label} by {fig.xlabel.lower()} — measured only (the paper prints no numbers); "
                f"profile: {ctx.profile}",
        head=head, body=body, kind="summary"))
    return section
