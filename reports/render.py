"""Render a result frame into a self-contained HTML report (index.html + PNG plots)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import jinja2
import pandas as pd

from . import plots
from .paper import PaperLayout, PaperSection, paper_sections
from .tables import (COMPARABLE_PROFILES, NOT_COMPUTED, banner_for, is_blank, published_sources, summary_table,
                     with_published)
from .gains import Gains, gain_grids
from .views import Grid, PlotRef, comparison_grid, summary_grids

TEMPLATES = Path(__file__).parent / "templates"
UNRANKED_METHODS = ("bicubic", "teacher")
LOSS_CURVES_PNG = "loss_curves.png"
GAINS_PNG = "gains.png"



@dataclass
class MetricSection:
    metric: str
    label: str
    summaries: list[Grid]
    missing: str = ""  # set when no run has a value: one line instead of empty tables
    comparisons: list[Grid] = field(default_factory=list)
    figures: list[PlotRef] = field(default_factory=list)


@dataclass
class ProfileSection:
    profile: str
    banner: str
    metrics: list[MetricSection]
    failed: list[dict[str, Any]]
    paper: list[PaperSection] = field(default_factory=list)


@dataclass
class GainsSection:
    """The "Is the gain real?" section: a table per metric, the forest plot, notes."""

    baseline: str
    grids: list[Grid]
    figure: PlotRef | None
    notes: list[str] = field(default_factory=list)


@dataclass
class FiguresSection:
    """The visual comparison figures (objects with png, pdf, caption) and notes."""

    figures: list[Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class CurvesSection:
    """The "Training curves" section: the loss-curve PNG (None: nothing logged) and notes."""

    figure: PlotRef | None
    notes: list[str] = field(default_factory=list)


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "x"


def metric_order(frame: pd.DataFrame, metric_info: Mapping[str, Mapping]) -> list[str]:
    """Metrics present in the frame: metric_info's order first, then the frame's order."""
    present = [m for m in dict.fromkeys(frame["metric"]) if not is_blank(m)]
    return [m for m in metric_info if m in present] + [m for m in present if m not in metric_info]


def failed_runs(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One entry per failed run: its row, scale, seed and error note."""
    failed = frame[frame["status"] != "ok"]
    out = []
    for key, runs in failed.groupby("run_key", sort=False):
        first = runs.iloc[0]
        notes = [n for n in dict.fromkeys(runs["note"]) if not is_blank(n)]
        out.append({"run_key": key, "label": first["label"], "method": first["method"],
                    "student": first.get("student", ""), "scale": first["scale"],
                    "seed": first["seed"], "matrix": first.get("matrix", ""),
                    "error": "; ".join(str(n) for n in notes) or "(no error message recorded)"})
    return out


def _figures(frame: pd.DataFrame, metric: str, metric_info: Mapping[str, Mapping],
             out_dir: Path, prefix: str) -> list[PlotRef]:
    label = str(metric_info.get(metric, {}).get("label", metric))
    figs = []
    path = plots.quality_vs_params(frame, metric, out_dir / f"{prefix}{_slug(metric)}_vs_params.png",
                                   metric_info)
    figs.append(PlotRef(path.name, f"{label} vs parameter count (log scale), mean over seeds; "
                                  "rows without parameters (bicubic) are dashed lines, or noted as off scale."))
    if frame["train_seconds"].notna().any():
        path = plots.quality_vs_hours(frame, metric, out_dir / f"{prefix}{_slug(metric)}_vs_hours.png",
                                      metric_info)
        figs.append(PlotRef(path.name, f"{label} vs training hours, mean over seeds: filled "
                                      "markers add the teacher's training time, open markers "
                                      "are student-only (or rows without a teacher, such as the "
                                      "teacher's own run); eval-only rows are left out."))
    return figs


def _curves(curves: Mapping[str, pd.DataFrame], out_dir: Path) -> CurvesSection:
    path = plots.loss_curves(curves, out_dir / LOSS_CURVES_PNG)
    empty = [str(label) for label, frame in curves.items() if frame is None or frame.empty]
    notes = [f"No loss log for: {', '.join(empty)}."] if empty else []
    if path is None:
        return CurvesSection(None, notes or ["No loss values were logged."])
    caption = ("Training loss terms per row: one panel per term, one line per row; each point is "
               "the mean over one logging window of steps; log y axis where all values of a panel "
               "are positive.")
    return CurvesSection(PlotRef(path.name, caption), notes)


def _gains(gains: Gains, metric_info: Mapping[str, Mapping], out_dir: Path) -> GainsSection:
    grids = gain_grids(gains, metric_info)
    path = plots.gain_intervals(gains.table, out_dir / GAINS_PNG, metric_info)
    figure = PlotRef(path.name, "Each method's gain over the no-KD baseline on every test set and scale, with "
                                "its paired bootstrap 95 % interval over the test images (and seeds); grey, "
                                "open markers: the interval includes zero.") if path else None
    notes = list(gains.notes)
    if gains.empty and not notes:
        notes.append(f"No row to compare with the no-KD baseline (row id {gains.baseline!r}).")
    return GainsSection(gains.baseline, grids, figure, notes)


def _conditions(conditions: Mapping[str, Any], profiles: list[str]) -> dict[str, Any]:
    versions = conditions.get("versions") or {}
    notes = list(conditions.get("notes") or [])
    stated = conditions.get("profile")
    if stated and profiles and [str(stated)] != profiles:
        notes.append(f"conditions state profile {stated!r} but the results hold {profiles}.")
    return {"profile": stated or ", ".join(profiles) or "unknown",
            "hardware": conditions.get("hardware") or "not recorded",
            "versions": sorted(versions.items()),
            "git_revision": conditions.get("git_revision") or "not recorded",
            "command": conditions.get("command") or "not recorded",
            "created": conditions.get("created") or "not recorded",
            "data_dir": conditions.get("data_dir") or "not recorded",
            "notes": notes,
            "fidelity": conditions.get("fidelity") or {}}  # benchmarks/fidelity.py


def render_report(frame: pd.DataFrame, out_dir: Path | str, conditions: Mapping[str, Any],
                  metric_info: Mapping[str, Mapping], published: pd.DataFrame | None = None,
                  title: str = "srkd-bench report",
                  unranked_methods: Iterable[str] = UNRANKED_METHODS,
                  comparable_profiles: Iterable[str] = COMPARABLE_PROFILES,
                  with_plots: bool = True, paper: PaperLayout | None = None,
                  curves: Mapping[str, pd.DataFrame] | None = None, gains: Gains | None = None,
                  figures: Any = None, downloads: Iterable[tuple[str, str]] = ()) -> Path:
    """Write out_dir/index.html (tables, failed runs, conditions) and its PNG plots; return
    the index path. Each profile in the frame gets its own section: never averaged together.
    `unranked_methods` are reference rows left out of best/second; only profiles in
    `comparable_profiles` get a delta beside published numbers.

    With `paper` (a matrix tied to a paper) each profile section opens with that paper's tables
    and figures in its order and layout (see reports.paper); the per-metric summaries of all rows
    follow, without repeating the comparisons. `with_plots=False` skips the overview plots
    (quality vs parameters / training hours); the paper's own figures are always drawn.

    `curves` (label -> long loss frame, ``benchmarks.loss_log.read_loss_csv``) adds a
    "Training curves" section with loss_curves.png, drawn whatever `with_plots` says.

    `gains` (reports.gains.gains_frame) adds the "Is the gain real?" section; `figures` (an object
    with `figures`, each with png, pdf and caption, and `notes`, e.g.
    benchmarks.comparisons.Figures) the visual comparisons; `downloads` ((name, relative href)
    pairs) lists the other files of the report (tables in LaTeX, Markdown, CSV)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    comparable_profiles = tuple(comparable_profiles)
    unranked = tuple(unranked_methods)
    profiles = [str(p) for p in dict.fromkeys(frame["profile"].dropna())]
    sections = []
    for profile in profiles:
        part = frame[frame["profile"] == profile]
        prefix = f"{_slug(profile)}_" if len(profiles) > 1 else ""
        metrics = []
        papers = (paper_sections(part, published, paper, metric_info, out_dir, conditions,
                                 comparable_profiles, unranked, prefix)
                  if paper is not None else [])
        for metric in metric_order(part, metric_info):
            table = summary_table(part, metric, metric_info)
            if not table.n.to_numpy().any():
                reasons = sorted({n for n, st in zip(table.note.to_numpy().ravel(),
                                                     table.state.to_numpy().ravel())
                                  if st == NOT_COMPUTED and n})
                metrics.append(MetricSection(metric, table.label, [], missing=(
                    f"{table.label}: no run has a value"
                    + (f" ({'; '.join(reasons)})" if reasons else "") + ".")))
                continue
            section = MetricSection(metric, table.label, summary_grids(table, unranked))
            for source, tab in ([] if paper is not None else published_sources(published, metric)):
                cmp = with_published(table, published, paper=source, table=tab,
                                     comparable_profiles=comparable_profiles)
                section.comparisons.append(comparison_grid(cmp))
            if with_plots:
                section.figures = _figures(part, metric, metric_info, out_dir, prefix)
            metrics.append(section)
        sections.append(ProfileSection(
            profile, "" if profile in comparable_profiles else banner_for(profile),
            metrics, failed_runs(part), papers))
    html = _env().get_template("index.html.j2").render(
        title=title, conditions=_conditions(conditions, profiles), sections=sections,
        unranked=" or ".join(unranked), has_published=published is not None and not published.empty,
        n_rows=len(frame), paper=paper, curves=_curves(curves, out_dir) if curves else None,
        gains=_gains(gains, metric_info, out_dir) if gains is not None else None,
        figures=FiguresSection(list(figures.figures), list(figures.notes)) if figures is not None else None,
        downloads=list(downloads))
    index = out_dir / "index.html"
    index.write_text(html, encoding="utf-8")
    return index
