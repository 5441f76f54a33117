"""Gains of every method over its no-KD baseline, with paired bootstrap 95 % intervals.

`gains_frame` pairs each row's per-image scores with the baseline row's (same student, scale,
test set and metric; seeds paired by number where both sides have them, otherwise each side's
per-image mean over its seeds) and gives the mean gain, its interval (reports.bootstrap) and
whether the interval includes zero. `gain_grids` lays the result out for the report: one table
per metric, rows = methods, columns = test set x scale, "gain [lo, hi]" per cell, gains whose
interval includes zero marked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .bootstrap import LEVEL, GainInterval, fmt_interval, paired_interval
from .views import Cell, Grid

BASELINE = "baseline"
COLUMNS = ["label", "method", "student", "dataset", "scale", "metric", "baseline_label", "mean", "lo", "hi",
           "n_images", "n_seeds", "includes_zero", "lower_better"]
_OK = "ok"


@dataclass(frozen=True)
class Gains:
    """The gains table (COLUMNS) and notes on what could not be compared."""

    table: pd.DataFrame
    baseline: str
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.table.empty


@dataclass
class ImageIndex:
    """(run key, dataset, metric) -> Series image -> value."""

    series: dict = field(default_factory=dict)

    @classmethod
    def of(cls, images: pd.DataFrame) -> ImageIndex:
        out = cls()
        if images is None or images.empty:
            return out
        for (key, dataset, metric), part in images.groupby(["key", "dataset", "metric"], sort=False):
            out.series[(key, dataset, metric)] = part.drop_duplicates("image").set_index("image")["value"]
        return out

    def get(self, key: str, dataset: str, metric: str) -> pd.Series | None:
        return self.series.get((key, dataset, metric))


def _arrays(index: ImageIndex, new: Mapping[int, str], base: Mapping[int, str], dataset: str,
            metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(seeds, images) arrays of both sides, paired by seed (common seeds) and image name."""
    common = sorted(set(new) & set(base))

    def rows(keys: list[str]) -> list[pd.Series] | None:
        got = [index.get(k, dataset, metric) for k in keys]
        return None if any(s is None or s.empty for s in got) else got

    if common:
        a, b = rows([new[s] for s in common]), rows([base[s] for s in common])
    else:  # no seed in common: each side's per-image mean over its seeds
        a, b = rows(list(new.values())), rows(list(base.values()))
        a = a and [pd.concat(a, axis=1).mean(axis=1)]
        b = b and [pd.concat(b, axis=1).mean(axis=1)]
    if not a or not b:
        return None
    names = sorted(set.intersection(*(set(s.index) for s in a + b)))
    if not names:
        return None
    return (np.array([s.reindex(names).to_numpy(dtype=float) for s in a]),
            np.array([s.reindex(names).to_numpy(dtype=float) for s in b]))


def paired_gain(index: ImageIndex, new: Mapping[int, str], base: Mapping[int, str], dataset: str, metric: str,
                level: float = LEVEL) -> GainInterval | None:
    """Gain of the runs `new` (seed -> run key) over `base` on one test set and metric, with its
    paired bootstrap interval; None when per-image scores are missing on either side."""
    arrays = _arrays(index, new, base, dataset, metric)
    return None if arrays is None else paired_interval(*arrays, level=level)


def gains_frame(frame: pd.DataFrame, images: pd.DataFrame, metric_info: Mapping[str, Mapping] | None = None,
                baseline: str = BASELINE, unranked: Iterable[str] = ("bicubic", "teacher"),
                level: float = LEVEL) -> Gains:
    """Every row (but `baseline` and the `unranked` references) against `baseline`; see the module
    docstring. `frame` is the store's long frame, `images` its per-image frame (key, dataset,
    image, metric, value), keyed by the rows' run keys."""
    info = metric_info or {}
    skip = {u.lower() for u in unranked} | {baseline.lower()}
    ok = frame[(frame["status"] == _OK) & frame["value"].notna() & frame["dataset"].notna()]
    if ok.empty or not (ok["method"] == baseline).any():
        why = (f"no stored results of the no-KD baseline (row id {baseline!r}) to compare with"
               if not ok.empty else "no results")
        return Gains(pd.DataFrame(columns=COLUMNS), baseline, (why,) if not frame.empty else ())
    index = ImageIndex.of(images)
    # a model several rows share (an ablation row equal to a main row) is compared once, under its first row
    runs = pd.concat([ok[ok["method"] == baseline],
                      ok[ok["method"] != baseline].drop_duplicates(["run_key", "dataset", "metric"])])

    def seed_keys(part: pd.DataFrame) -> dict[int, str]:
        return dict(zip(part["seed"].astype(int), part["run_key"]))

    base_runs = {k: p for k, p in runs[runs["method"] == baseline].groupby(
        ["student", "scale", "dataset", "metric"], sort=False)}
    records, no_images = [], set()
    for (label, method), rows in runs[~runs["method"].str.lower().isin(skip)].groupby(
            ["label", "method"], sort=False):
        for (student, scale, dataset, metric), part in rows.groupby(
                ["student", "scale", "dataset", "metric"], sort=False):
            base = base_runs.get((student, scale, dataset, metric))
            if base is None:
                continue
            new_keys, base_keys = seed_keys(part), seed_keys(base)
            if set(new_keys.values()) == set(base_keys.values()):
                continue  # the same model as the baseline (e.g. an ablation row sharing its cell)
            interval = paired_gain(index, new_keys, base_keys, dataset, metric, level)
            if interval is None:
                no_images.add(metric)
                continue
            records.append(dict(label=label, method=method, student=student, dataset=dataset, scale=int(scale),
                                metric=metric, baseline_label=str(base["label"].iloc[0]), mean=interval.mean,
                                lo=interval.lo, hi=interval.hi, n_images=interval.n_images,
                                n_seeds=interval.n_seeds, includes_zero=interval.includes_zero,
                                lower_better=info.get(metric, {}).get("lower_better")))
    done = {r["metric"] for r in records}
    notes = [f"{m}: no per-image scores stored, so no interval." for m in sorted(no_images - done)]
    return Gains(pd.DataFrame(records, columns=COLUMNS), baseline, tuple(notes))


def interval_of(row: Mapping) -> GainInterval:
    return GainInterval(float(row["mean"]), float(row["lo"]), float(row["hi"]), int(row["n_images"]),
                        int(row["n_seeds"]))


def _decimals(metric: str, values: pd.Series, metric_info: Mapping[str, Mapping]) -> int:
    given = metric_info.get(metric, {}).get("decimals")
    if given is not None:
        return int(given) + 1
    finite = values.abs()[np.isfinite(values)]
    return 4 if len(finite) and finite.max() < 0.1 else 3


def gain_grids(gains: Gains, metric_info: Mapping[str, Mapping]) -> list[Grid]:
    """One grid per metric: methods x (test set, scale), "gain [lo, hi]" per cell."""
    grids = []
    table = gains.table
    for metric, part in table.groupby("metric", sort=False):
        label = str(metric_info.get(metric, {}).get("label", metric))
        lower = metric_info.get(metric, {}).get("lower_better")
        decimals = _decimals(metric, part[["mean", "lo", "hi"]].stack(), metric_info)
        cols = list(dict.fromkeys(zip(part["dataset"], part["scale"])))
        one_scale = len({s for _, s in cols}) == 1
        head = [[Cell("Method", cls="rowhead", header=True)]
                + [Cell(str(d) if one_scale else f"{d} ×{s}", cls="group", header=True) for d, s in cols]]
        body = []
        for (label_, method, student), rows in part.groupby(["label", "method", "student"], sort=False):
            cells = [Cell(str(label_), cls="rowhead", header=True, title=f"method id: {method}; student: {student}",
                          sub=f"vs {rows['baseline_label'].iloc[0]}")]
            by_col = {(r["dataset"], r["scale"]): r for r in rows.to_dict("records")}
            for col in cols:
                row = by_col.get(col)
                if row is None:
                    cells.append(Cell("—", cls="notrun"))
                    continue
                interval = interval_of(row)
                text = fmt_interval(interval, decimals)
                gain, _, bracket = text.partition(" ")
                better = None if lower is None or interval.mean == 0 else (interval.mean < 0) == bool(lower)
                cls = ["num", "gain", "ns" if interval.includes_zero else "sig"]
                if better is not None:
                    cls.append("better" if better else "worse")
                mark = " ≈0" if interval.includes_zero and not interval.degenerate else ""
                title = (f"{interval.n_images} images x {interval.n_seeds} seed(s); "
                         + ("interval includes 0: not distinguishable from no gain" if interval.includes_zero
                            else "interval excludes 0"))
                cells.append(Cell(gain, cls=" ".join(cls), title=title, aside=(bracket + mark).strip()))
            body.append(cells)
        n_img = sorted(set(part["n_images"]))
        n_seed = sorted(set(part["n_seeds"]))
        direction = "" if lower is None else (" (lower is better: a negative gain is an improvement)" if lower
                                              else " (higher is better)")
        caption = (f"{label}: gain over the no-KD baseline (method − baseline){direction}, mean with paired "
                   f"bootstrap {int(LEVEL * 100)} % interval over {_span(n_img)} test image(s)"
                   + (f" and {_span(n_seed)} seeds" if max(n_seed) > 1 else "")
                   + "; ≈0 = the interval includes zero")
        grids.append(Grid(caption=caption, head=head, body=body, kind="summary gains"))
    return grids


def _span(values: list[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"
