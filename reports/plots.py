"""Matplotlib figures of a result frame, written as PNG files without a display.

Figures are built with `matplotlib.figure.Figure` (Agg canvas), not pyplot, so they run
headless and never touch the caller's global backend or open windows. Panels are laid out
like the tables: one row per scale, one column per dataset; each label keeps one colour
and marker across panels and the legend names them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

_OK = "ok"
_PANEL_W, _PANEL_H = 2.9, 2.3
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")


def _metric_label(metric: str, metric_info: Mapping[str, Mapping] | None) -> str:
    return str((metric_info or {}).get(metric, {}).get("label", metric))


def _direction(metric: str, metric_info: Mapping[str, Mapping] | None) -> str:
    lower = (metric_info or {}).get(metric, {}).get("lower_better")
    return "" if lower is None else (" (lower is better)" if lower else " (higher is better)")


def label_styles(labels: Sequence[str]) -> dict[str, tuple[str, str]]:
    """A fixed (colour, marker) per label, in the order given."""
    return {lbl: (_COLORS[i % len(_COLORS)], _MARKERS[(i // len(_COLORS)) % len(_MARKERS)])
            for i, lbl in enumerate(dict.fromkeys(labels))}


def _figure(nrows: int, ncols: int) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(max(5.0, _PANEL_W * ncols), _PANEL_H * nrows + 0.9), dpi=110,
                 layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _save(fig: Figure, out_path: Path | str) -> Path:
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out


def _style(ax) -> None:
    ax.grid(True, which="major", color="#e2e2e2", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=7)


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666",
            fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def _per_run(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Rows of ok runs with a computed value of this metric."""
    ok = frame[(frame["status"] == _OK) & (frame["metric"] == metric)]
    out = ok.dropna(subset=["value"]).copy()
    out["scale"] = out["scale"].astype(int)
    return out


def _layout(runs: pd.DataFrame) -> tuple[list[str], list[int]]:
    return list(dict.fromkeys(runs["dataset"])), sorted(set(runs["scale"]))


def _legend(fig: Figure, styles: Mapping[str, tuple[str, str]], extra: Sequence[Line2D] = ()) -> None:
    handles = [Line2D([], [], color=c, marker=m, linestyle="none", markersize=6, label=lbl)
               for lbl, (c, m) in styles.items()] + list(extra)
    if handles:
        # as many columns as fit the figure's width (long labels would be cut at its edges)
        widest = max(len(str(h.get_label())) for h in handles)
        fit = int(fig.get_figwidth() // (0.055 * widest + 0.45))
        fig.legend(handles=handles, loc="outside lower center", ncols=max(1, min(4, len(handles), fit)),
                   fontsize=7.5, frameon=False)


def _params_axis(ax) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(_millions))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _millions(x: float, _pos: int) -> str:
    return f"{x / 1e6:g}M" if x >= 1e5 else f"{x / 1e3:g}k"


def _references(ax, refs: pd.Series, points: pd.Series, decimals: int = 2) -> None:
    """Dashed line per reference row inside the points' range; a corner note otherwise,
    so a far-away baseline (bicubic) does not squash the points."""
    lo, hi = (points.min(), points.max()) if len(points) else (np.nan, np.nan)
    pad = 0.15 * (hi - lo) if hi > lo else 0.05 * (abs(hi) or 1.0)
    outside = []
    for label, value in refs.items():
        if len(points) and lo - pad <= value <= hi + pad:
            ax.axhline(value, color="#999999", linestyle="--", linewidth=0.8)
            ax.annotate(label, (0.01, value), xycoords=("axes fraction", "data"),
                        xytext=(0, 2), textcoords="offset points", fontsize=6.5, color="#666666")
        else:
            outside.append(f"{label}: {value:.{decimals}f}")
    if len(points):
        ax.set_ylim(lo - pad, hi + pad)
    if outside:
        ax.text(0.99, 0.02, "off scale — " + ", ".join(outside), transform=ax.transAxes,
                ha="right", va="bottom", fontsize=6.5, color="#666666")


def quality_vs_params(frame: pd.DataFrame, metric: str, out_path: Path | str,
                      metric_info: Mapping[str, Mapping] | None = None) -> Path:
    """Metric (mean over seeds) against parameter count (log x): a panel per (scale,
    dataset), a point per label. Rows without parameters (bicubic) are reference lines."""
    runs = _per_run(frame, metric)
    datasets, scales = _layout(runs)
    fig, axes = _figure(max(1, len(scales)), max(1, len(datasets)))
    styles = label_styles(runs.loc[runs["params"].fillna(0) > 0, "label"])
    decimals = int((metric_info or {}).get(metric, {}).get(
        "decimals", 4 if runs["value"].abs().max() <= 1 else 2))
    if runs.empty:
        _empty(axes[0, 0], f"no computed {metric} values")
    for i, scale in enumerate(scales):
        for j, dataset in enumerate(datasets):
            ax = axes[i, j]
            sub = runs[(runs["dataset"] == dataset) & (runs["scale"] == scale)]
            agg = sub.groupby("label", sort=False).agg(value=("value", "mean"),
                                                       params=("params", "median"))
            has = agg["params"].fillna(0) > 0
            for label, row in agg[has].iterrows():
                color, marker = styles[label]
                ax.scatter(row["params"], row["value"], s=26, color=color, marker=marker,
                           zorder=3, edgecolors="white", linewidths=0.4)
            _references(ax, agg.loc[~has, "value"], agg.loc[has, "value"], decimals)
            if has.any():
                _params_axis(ax)
            ax.set_title(f"{dataset} ×{scale}", fontsize=8.5)
            if i == len(scales) - 1:
                ax.set_xlabel("parameters (log scale)", fontsize=7.5)
            if j == 0:
                ax.set_ylabel(_metric_label(metric, metric_info), fontsize=7.5)
            _style(ax)
    _legend(fig, styles)
    fig.suptitle(f"{_metric_label(metric, metric_info)} vs parameters"
                 f"{_direction(metric, metric_info)}", fontsize=9.5)
    return _save(fig, out_path)


def training_hours(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (label, scale): mean hours over seeds of teacher + student training, and whether
    a teacher's time is included. Eval-only rows (no train_seconds) are left out."""
    runs = frame[frame["status"] == _OK].drop_duplicates("run_key")
    runs = runs[runs["train_seconds"].notna()]
    teacher = runs["teacher_seconds"].fillna(0.0)
    out = pd.DataFrame({"label": runs["label"], "scale": runs["scale"].astype(int),
                        "hours": (teacher + runs["train_seconds"]) / 3600.0,
                        "with_teacher": teacher > 0})
    return out.groupby(["label", "scale"], sort=False).agg(
        hours=("hours", "mean"), with_teacher=("with_teacher", "any")).reset_index()


def quality_vs_hours(frame: pd.DataFrame, metric: str, out_path: Path | str,
                     metric_info: Mapping[str, Mapping] | None = None) -> Path:
    """Metric against training hours, x = (teacher_seconds + train_seconds) / 3600: filled
    markers include the teacher's training time, open markers are student-only (or a run with
    no teacher, such as the teacher's own run)."""
    runs = _per_run(frame, metric).merge(training_hours(frame), on=["label", "scale"])
    datasets, scales = _layout(runs)
    fig, axes = _figure(max(1, len(scales)), max(1, len(datasets)))
    styles = label_styles(runs["label"])
    if runs.empty:
        _empty(axes[0, 0], "no trained runs with computed values")
    for i, scale in enumerate(scales):
        for j, dataset in enumerate(datasets):
            ax = axes[i, j]
            sub = runs[(runs["dataset"] == dataset) & (runs["scale"] == scale)]
            agg = sub.groupby("label", sort=False).agg(
                value=("value", "mean"), hours=("hours", "first"),
                with_teacher=("with_teacher", "first"))
            for label, row in agg.iterrows():
                color, marker = styles[label]
                ax.scatter(row["hours"], row["value"], s=28, marker=marker, zorder=3,
                           facecolors=color if row["with_teacher"] else "none",
                           edgecolors=color, linewidths=1.2)
            ax.set_title(f"{dataset} ×{scale}", fontsize=8.5)
            if i == len(scales) - 1:
                ax.set_xlabel("training time (h)", fontsize=7.5)
            if j == 0:
                ax.set_ylabel(_metric_label(metric, metric_info), fontsize=7.5)
            ax.margins(x=0.12, y=0.15)
            _style(ax)
    kinds = [Line2D([], [], marker="o", linestyle="none", color="#444444",
                    label="filled: teacher + student time"),
             Line2D([], [], marker="o", linestyle="none", markerfacecolor="none",
                    markeredgecolor="#444444", label="open: own training only (no teacher)")]
    _legend(fig, styles, kinds)
    fig.suptitle(f"{_metric_label(metric, metric_info)} vs training time"
                 f"{_direction(metric, metric_info)}", fontsize=9.5)
    return _save(fig, out_path)


def sweep_plot(data: pd.DataFrame, x: str, out_path: Path | str, y: str = "value",
               group: str | None = None, xlabel: str | None = None, ylabel: str | None = None,
               title: str = "", reference: Mapping[str, Sequence[tuple[float, float]]] | None = None
               ) -> Path:
    """Line plot of `y` against a numeric config value `x` (e.g. PSNR vs projection-head
    depth): mean over repeats at each x with ± std error bars, one line per `group` value;
    `reference` adds dashed lines, e.g. {"published": [(1, 33.50), (2, 33.60)]}."""
    fig, axes = _figure(1, 1)
    fig.set_size_inches(5.0, 3.4)
    ax = axes[0, 0]
    clean = data.dropna(subset=[x, y])
    groups = clean.groupby(group, sort=False) if group else [("", clean)]
    for k, (name, sub) in enumerate(groups):
        agg = sub.groupby(x)[y].agg(["mean", "std"]).sort_index()
        ax.errorbar(agg.index.to_numpy(dtype=float), agg["mean"].to_numpy(),
                    yerr=np.nan_to_num(agg["std"].to_numpy()), marker=_MARKERS[k % len(_MARKERS)],
                    color=_COLORS[k % len(_COLORS)], markersize=4, capsize=3, linewidth=1.2,
                    label=str(name) if group else "measured")
    for name, points in (reference or {}).items():
        if points:
            xs, ys = zip(*sorted(points))
            ax.plot(xs, ys, linestyle="--", marker="x", color="#888888", linewidth=1, label=name)
    if clean.empty:
        _empty(ax, "no values")
    if group or reference:
        ax.legend(fontsize=7.5, frameon=False)
    ax.set_xlabel(xlabel or x, fontsize=8)
    ax.set_ylabel(ylabel or y, fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    _style(ax)
    return _save(fig, out_path)


def loss_curves(curves: Mapping[str, pd.DataFrame], out_path: Path | str,
                max_cols: int = 3) -> Path | None:
    """Training-loss curves: one small panel per loss-term name (``G/l1``, ``D/real``, ...),
    one line per label, x = step; the y axis is logarithmic in a panel whose values are all
    positive. `curves` maps a label to its long frame (step, name, value) as written by
    ``benchmarks.loss_log`` (`read_loss_csv`). Returns None when there is nothing to plot."""
    frames = []
    for label, frame in curves.items():
        if frame is None or frame.empty or not {"step", "name", "value"} <= set(frame.columns):
            continue
        part = frame.loc[:, ["step", "name", "value"]].copy()
        part["step"] = pd.to_numeric(part["step"], errors="coerce")
        part["value"] = pd.to_numeric(part["value"], errors="coerce")
        part = part[np.isfinite(part["step"]) & np.isfinite(part["value"])]
        if not part.empty:
            part["label"] = str(label)
            frames.append(part)
    if not frames:
        return None
    data = pd.concat(frames, ignore_index=True)
    data["name"] = data["name"].astype(str)
    names = list(dict.fromkeys(data["name"]))
    styles = label_styles([str(lbl) for lbl in curves])
    ncols = max(1, min(int(max_cols), len(names)))
    nrows = -(-len(names) // ncols)
    fig, axes = _figure(nrows, ncols)
    for k, name in enumerate(names):
        ax = axes[k // ncols, k % ncols]
        sub = data[data["name"] == name]
        for label, part in sub.groupby("label", sort=False):
            part = part.sort_values("step", kind="stable")
            color, marker = styles[label]
            ax.plot(part["step"].to_numpy(dtype=float), part["value"].to_numpy(dtype=float),
                    color=color, linewidth=1.1, marker=marker if len(part) == 1 else None,
                    markersize=3.5)
        if (sub["value"] > 0).all():
            ax.set_yscale("log")
        ax.set_title(name, fontsize=8.5)
        if k + ncols >= len(names):  # no panel below it
            ax.set_xlabel("step", fontsize=7.5)
        _style(ax)
        ax.tick_params(which="both", labelsize=7)  # log axes label minor ticks too
    for k in range(len(names), nrows * ncols):
        axes[k // ncols, k % ncols].set_visible(False)
    shown = [lbl for lbl in styles if lbl in set(data["label"])]
    _legend(fig, {}, [Line2D([], [], color=styles[lbl][0], linewidth=1.5, label=lbl)
                      for lbl in shown])
    fig.suptitle("Training loss terms (mean over each logging window)", fontsize=9.5)
    return _save(fig, out_path)


def gain_intervals(gains: pd.DataFrame, out_path: Path | str,
                   metric_info: Mapping[str, Mapping] | None = None) -> Path | None:
    """Forest plot of the gains over the no-KD baseline (reports.gains): a panel per metric (rows)
    and test set x scale (columns), a horizontal bar per method from the interval's lo to hi with
    the mean marked, a line at zero; bars whose interval includes zero are grey and open.
    Returns None when there is nothing to plot."""
    if gains is None or gains.empty:
        return None
    metrics = list(dict.fromkeys(gains["metric"]))
    cols = list(dict.fromkeys(zip(gains["dataset"], gains["scale"])))
    fig, axes = _figure(len(metrics), len(cols))
    labels = list(dict.fromkeys(gains["label"]))
    styles = label_styles(labels)
    fig.set_size_inches(max(5.0, 3.2 * len(cols)), (0.3 * len(labels) + 1.0) * len(metrics) + 0.9)
    for i, metric in enumerate(metrics):
        for j, (dataset, scale) in enumerate(cols):
            ax = axes[i, j]
            sub = gains[(gains["metric"] == metric) & (gains["dataset"] == dataset) & (gains["scale"] == scale)]
            ax.axvline(0.0, color="#444444", linewidth=0.8)
            for k, label in enumerate(labels):
                row = sub[sub["label"] == label]
                if row.empty:
                    continue
                r = row.iloc[0]
                color = "#9a9a9a" if r["includes_zero"] else styles[label][0]
                ax.plot([r["lo"], r["hi"]], [k, k], color=color, linewidth=2.2, solid_capstyle="butt")
                ax.scatter([r["mean"]], [k], s=24, zorder=3, marker="o", edgecolors=color,
                           facecolors="white" if r["includes_zero"] else color, linewidths=1.2)
            ax.set_yticks(range(len(labels)))
            ax.set_yticklabels([_plain(lbl) for lbl in labels] if j == 0 else [])
            ax.set_ylim(len(labels) - 0.5, -0.5)
            ax.set_title(f"{_plain(_metric_label(metric, metric_info))} — {_plain(dataset)} ×{scale}", fontsize=8.5)
            if i == len(metrics) - 1:
                ax.set_xlabel("method − baseline", fontsize=7.5)
            _style(ax)
    fig.suptitle("Gain over the no-KD baseline, 95 % bootstrap interval\n(grey, open: the interval includes 0)",
                 fontsize=9)
    return _save(fig, out_path)


def _plain(text: object) -> str:
    """Text shown literally by matplotlib (a `$` would start mathtext)."""
    return str(text).replace("$", r"\$")
