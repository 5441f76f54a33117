"""Summary tables of a result frame: mean ± std over seeds, best/second marks, published deltas.

Everything here is pure pandas (no HTML): `summary_table` aggregates one metric, `mark_best`
ranks its cells, `with_published` puts the papers' numbers and deltas beside the measured ones.
A missing number stays NaN and is shown as "not computed"; it is never filled with 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

NOT_COMPUTED = "not computed"
FAILED = "failed"
NOT_RUN = "—"
ROW_INDEX = ("label", "method")
COLUMN_INDEX = ("dataset", "scale")
COMPARABLE_PROFILES = ("paper",)
_OK = "ok"


def banner_for(profile: str) -> str:
    """The label a non-paper profile carries next to published numbers."""
    return f"{profile} profile — not comparable to published numbers"


def is_blank(value: object) -> bool:
    """True for None, NaN and empty strings (a frame's "no value")."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def fmt(value: float, decimals: int, sign: bool = False) -> str:
    """Format a number with fixed decimals; NaN becomes "not computed", never 0."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return NOT_COMPUTED
    text = f"{value:+.{decimals}f}" if sign else f"{value:.{decimals}f}"
    return text.replace("-", "\u2212")  # typographic minus, as printed in papers


def default_decimals(values: Iterable[float]) -> int:
    """Display precision when metric_info gives none: 4 for values within [-1, 1], else 3."""
    finite = [abs(v) for v in values if v is not None and np.isfinite(v)]
    return 4 if finite and max(finite) <= 1.0 else 3


def params_text(params: float) -> str:
    """Parameter count in millions ("1.37M"); "" for none (e.g. bicubic) or unknown."""
    if params is None or pd.isna(params) or params <= 0:
        return ""
    return f"{params / 1e6:.2f}M"


@dataclass(frozen=True)
class SummaryTable:
    """One metric aggregated over seeds: rows (label, method), columns (dataset, scale)."""

    metric: str
    label: str
    lower_better: bool | None  # None: direction unknown, cells are not ranked
    profile: str
    decimals: int
    mean: pd.DataFrame  # mean over seeds of the computed values
    std: pd.DataFrame  # sample std (ddof=1); NaN with fewer than two values
    n: pd.DataFrame  # seeds with a computed value
    seeds: pd.Series  # seeds per row (ok or failed), the denominator of n
    state: pd.DataFrame  # "ok" | "not computed" | "failed" | "not run"
    note: pd.DataFrame  # why a cell has no number ("" otherwise)
    params: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows x scale: median count

    @property
    def max_seeds(self) -> int:
        """The largest number of seeds any row has."""
        return int(self.seeds.max()) if len(self.seeds) else 0

    @cached_property
    def _cells(self) -> dict[tuple, tuple]:
        """(row, col) -> (state, mean, std, n): plain dict lookups, much faster than .at on
        MultiIndex frames (a report looks up every cell several times)."""
        rows, cols = list(self.mean.index), list(self.mean.columns)
        parts = [frame.reindex(index=self.mean.index, columns=self.mean.columns).to_numpy()
                 for frame in (self.state, self.mean, self.std, self.n)]
        return {(r, c): tuple(p[i, j] for p in parts)
                for i, r in enumerate(rows) for j, c in enumerate(cols)}

    def cell_parts(self, row: tuple, col: tuple) -> tuple[str, str, str]:
        """(value, "± std", "(n=k/N)") of one cell; the value is "not computed", "failed" or
        "—" (not run) when there is no number, and the other parts are then ""."""
        state, mean, std, n = self._cells[(row, col)]
        if state != _OK:
            return (NOT_RUN if state == "not run" else state), "", ""
        n = int(n)
        spread = f"± {fmt(std, self.decimals)}" if n > 1 else ""
        seeds = int(self.seeds.at[row])
        return fmt(mean, self.decimals), spread, (f"(n={n}/{seeds})" if n < seeds else "")

    def cell_text(self, row: tuple, col: tuple) -> str:
        """Display text of one cell: "mean ± std", "mean", "not computed", "failed" or "—"."""
        return " ".join(p for p in self.cell_parts(row, col) if p)

    def to_frame(self) -> pd.DataFrame:
        """The table as display strings (same index and columns as `mean`)."""
        return pd.DataFrame(
            [[self.cell_text(r, c) for c in self.mean.columns] for r in self.mean.index],
            index=self.mean.index, columns=self.mean.columns)


def _ordered_unique(values: Iterable) -> list:
    return list(dict.fromkeys(values))


def _column_index(pairs: Iterable[tuple[str, int]]) -> pd.MultiIndex:
    """(dataset, scale) columns: datasets in first-seen order, each one's scales ascending."""
    pairs = _ordered_unique(pairs)
    datasets = _ordered_unique(d for d, _ in pairs)
    ordered = sorted(pairs, key=lambda p: (datasets.index(p[0]), p[1]))
    return pd.MultiIndex.from_tuples(ordered, names=list(COLUMN_INDEX))


def _seed_counts(frame: pd.DataFrame, rows: pd.MultiIndex) -> pd.Series:
    per_row = frame.groupby(list(ROW_INDEX), sort=False)["seed"].nunique()
    return per_row.reindex(rows).fillna(0).astype(int)


def summary_table(frame: pd.DataFrame, metric: str,
                  metric_info: Mapping[str, Mapping] | None = None,
                  decimals: int | None = None) -> SummaryTable:
    """Aggregate `metric` over seeds into a (label, method) x (dataset, scale) table.

    Failed runs do not enter the means; a cell with no ok value says "failed" (when a run of
    that row and scale failed), "not computed" (NaN values) or "not run" (no row at all).
    Raises ValueError when the frame mixes profiles: numbers of different training lengths
    are never averaged together.
    """
    profiles = _ordered_unique(frame["profile"].dropna())
    if len(profiles) > 1:
        raise ValueError(f"frame mixes profiles {profiles}; make one table per profile")
    info = dict((metric_info or {}).get(metric, {}))
    lower_better = info.get("lower_better")
    ok = frame[(frame["status"] == _OK) & (frame["metric"] == metric)]
    failed = frame[frame["status"] != _OK]
    failed_here = failed[(failed["metric"].map(is_blank).astype(bool) | (failed["metric"] == metric))
                         & failed["scale"].notna()]

    rows = pd.MultiIndex.from_tuples(
        _ordered_unique(
            list(zip(ok["label"], ok["method"])) + list(zip(failed_here["label"], failed_here["method"]))),
        names=list(ROW_INDEX))
    col_src = pd.concat([ok, failed_here[~failed_here["dataset"].map(is_blank).astype(bool)]])
    cols = _column_index(zip(col_src["dataset"], col_src["scale"].astype(int)))

    # mean over seeds first within a run (one value per run), then across seeds
    keys = list(ROW_INDEX) + list(COLUMN_INDEX)
    per_seed = ok.groupby(keys + ["seed"], sort=False)["value"].mean()
    grouped = per_seed.groupby(level=keys, sort=False)
    stats = pd.DataFrame({"mean": grouped.mean(), "std": grouped.std(ddof=1), "n": grouped.count()})

    def wide(col: str) -> pd.DataFrame:
        if stats.empty:
            return pd.DataFrame(np.nan, index=rows, columns=cols)
        return stats[col].unstack(list(COLUMN_INDEX)).reindex(index=rows, columns=cols)

    mean, std, n = wide("mean"), wide("std"), wide("n").fillna(0).astype(int)
    state = pd.DataFrame("not run", index=rows, columns=cols, dtype=object)
    note = pd.DataFrame("", index=rows, columns=cols, dtype=object)
    _fill_states(state, note, ok, failed_here, n)

    params = (frame.groupby(list(ROW_INDEX) + ["scale"], sort=False)["params"].median()
              .unstack("scale").reindex(rows))
    return SummaryTable(
        metric=metric, label=str(info.get("label", metric)), lower_better=lower_better,
        profile=str(profiles[0]) if profiles else "",
        decimals=decimals if decimals is not None else int(
            info.get("decimals", default_decimals(ok["value"]))),
        mean=mean, std=std, n=n, seeds=_seed_counts(frame, rows), state=state, note=note,
        params=params)


def _fill_states(state: pd.DataFrame, note: pd.DataFrame, ok: pd.DataFrame,
                 failed: pd.DataFrame, n: pd.DataFrame) -> None:
    """Set each cell's state and note from the ok and failed rows that fall in it."""
    for (label, method, dataset, scale), rows in ok.groupby(
            list(ROW_INDEX) + list(COLUMN_INDEX), sort=False):
        cell = ((label, method), (dataset, int(scale)))
        if n.at[cell] == 0:
            state.at[cell] = NOT_COMPUTED
            note.at[cell] = "; ".join(_ordered_unique(x for x in rows["note"] if not is_blank(x)))
    for _, run in failed.iterrows():
        row = (run["label"], run["method"])
        cols = [c for c in state.columns if c[1] == int(run["scale"])
                and (is_blank(run["dataset"]) or c[0] == run["dataset"])]
        for col in cols:
            if state.at[row, col] == "not run":
                state.at[row, col] = FAILED
                note.at[row, col] = str(run["note"]) if not is_blank(run["note"]) else ""
    state[n > 0] = _OK


def mark_best(table: SummaryTable | pd.DataFrame, lower_better: bool | None = None,
              decimals: int | None = None, exclude: Iterable[str] = ()) -> pd.DataFrame:
    """Per column, "best" / "second" / "" for each cell (dense ranking, ties share a mark).

    Values are compared as displayed (rounded to `decimals`), so two cells that print the
    same get the same mark. NaN cells and rows whose method id is in `exclude` (references
    such as bicubic) are not ranked. With `lower_better` None nothing is marked.
    """
    if isinstance(table, SummaryTable):
        values = table.mean
        lower_better = table.lower_better if lower_better is None else lower_better
        decimals = table.decimals if decimals is None else decimals
    else:
        values = table.astype(float)
    marks = pd.DataFrame("", index=values.index, columns=values.columns, dtype=object)
    if lower_better is None:
        return marks
    excluded = {e.lower() for e in exclude}
    methods = (values.index.get_level_values("method") if "method" in (values.index.names or [])
               else values.index)
    ranked = values[[str(m).lower() not in excluded for m in methods]]
    if decimals is not None:
        ranked = ranked.round(decimals)
    for col in values.columns:
        column = ranked[col].dropna()
        distinct = sorted(set(column), reverse=not lower_better)
        for mark, target in zip(("best", "second"), distinct):
            marks.loc[column.index[column == target], col] = mark
    return marks


@dataclass(frozen=True)
class Comparison:
    """Measured means beside one published table's numbers, with delta where comparable."""

    metric: str
    label: str
    source: str  # "paper table", e.g. "clsd2023 table2"
    profile: str
    comparable: bool
    banner: str  # "" when comparable; else the explicit not-comparable label
    decimals: int  # of the measured numbers
    row_names: pd.Series  # display name per row: measured label, or the paper's row text
    paper_rows: pd.Series  # the paper's row text per row ("" for measured-only rows)
    measured: pd.DataFrame  # mean over seeds (NaN where not measured)
    measured_text: pd.DataFrame
    published: pd.DataFrame  # value as transcribed (NaN where the paper has no cell)
    published_text: pd.DataFrame  # the value with its printed decimals
    printed: pd.DataFrame  # the literal printed text ("" where none)
    delta: pd.DataFrame | None  # measured - published; None when not comparable
    delta_decimals: pd.DataFrame
    summary: SummaryTable | None = None  # the measured table the rows come from
    measured_rows: pd.Series | None = None  # per row: the summary's row key, or None

    def to_frame(self) -> pd.DataFrame:
        """Display strings, columns (dataset, scale, "measured" | "published" | "Δ")."""
        parts = {"measured": self.measured_text, "published": self.published_text}
        if self.delta is not None:
            parts["Δ"] = pd.DataFrame(
                [[("" if pd.isna(self.delta.at[r, c]) else
                   fmt(self.delta.at[r, c], int(self.delta_decimals.at[r, c]), sign=True))
                  for c in self.delta.columns] for r in self.delta.index],
                index=self.delta.index, columns=self.delta.columns)
        out = pd.concat(parts, axis=1)
        out = out.reorder_levels([1, 2, 0], axis=1)
        order = [(d, s, k) for d, s in self.measured.columns for k in parts]
        return out[order]


def with_published(measured: SummaryTable, published: pd.DataFrame, paper: str | None = None,
                   table: str | None = None,
                   comparable_profiles: Iterable[str] = COMPARABLE_PROFILES) -> Comparison:
    """Measured beside published numbers for `measured.metric`, matched by method id and
    (dataset, scale). Columns follow the published table; rows of either side alone are kept
    with blanks. A method appearing in several rows on one side is ambiguous and not matched.
    For a profile outside `comparable_profiles` (e.g. smoke) the delta is omitted and the
    comparison carries the banner "<profile> profile — not comparable to published numbers".
    """
    pub = published[published["metric"] == measured.metric]
    if paper is not None:
        pub = pub[pub["paper"] == paper]
    if table is not None:
        pub = pub[pub["table"] == table]
    pub = pub[~pub["dataset"].map(is_blank).astype(bool) & pub["scale"].notna()].copy()
    pub["scale"] = pub["scale"].astype(int)
    comparable = measured.profile in set(comparable_profiles)
    sources = _ordered_unique(f"{p} {t}" for p, t in zip(pub["paper"], pub["table"]))

    pub_rows = _ordered_unique(zip(pub["row"], pub["method"]))
    pub_methods = pd.Series([m for _, m in pub_rows]).value_counts()
    meas_methods = pd.Series(measured.mean.index.get_level_values("method")).value_counts()
    matchable = {m for m in pub_methods.index if pub_methods[m] == 1 and meas_methods.get(m, 0) == 1}
    meas_by_method = {m: (lbl, m) for lbl, m in measured.mean.index if m in matchable}

    keys: list[tuple] = []  # (measured row or None, published (row, method) or None)
    for prow in pub_rows:
        keys.append((meas_by_method.get(prow[1]), prow))
    used = {k[0] for k in keys if k[0] is not None}
    keys += [(mrow, None) for mrow in measured.mean.index if mrow not in used]

    cols = _column_index(list(zip(pub["dataset"], pub["scale"])) or list(measured.mean.columns))
    index = pd.MultiIndex.from_tuples(
        [mrow if mrow is not None else (prow[0], prow[1]) for mrow, prow in keys],
        names=list(ROW_INDEX))
    meas_val = pd.DataFrame(np.nan, index=index, columns=cols)
    meas_txt = pd.DataFrame("", index=index, columns=cols, dtype=object)
    pub_val = pd.DataFrame(np.nan, index=index, columns=cols)
    pub_txt = pd.DataFrame("", index=index, columns=cols, dtype=object)
    printed = pd.DataFrame("", index=index, columns=cols, dtype=object)
    dec = pd.DataFrame(measured.decimals, index=index, columns=cols)
    lookup = {(r, m, d, s): rec for r, m, d, s, rec in zip(
        pub["row"], pub["method"], pub["dataset"], pub["scale"], pub.to_dict("records"))}

    for idx, (mrow, prow) in zip(index, keys):
        for col in cols:
            if mrow is not None and col in measured.mean.columns:
                meas_val.at[idx, col] = measured.mean.at[mrow, col]
                meas_txt.at[idx, col] = measured.cell_text(mrow, col)
            rec = lookup.get((prow[0], prow[1], col[0], col[1])) if prow is not None else None
            if rec is not None:
                d = int(rec["decimals"]) if not is_blank(rec.get("decimals")) else measured.decimals
                pub_val.at[idx, col] = rec["value"]
                pub_txt.at[idx, col] = fmt(rec["value"], d) if not pd.isna(rec["value"]) else (
                    str(rec.get("text") or ""))
                printed.at[idx, col] = "" if is_blank(rec.get("text")) else str(rec["text"])
                dec.at[idx, col] = d

    row_names = pd.Series([mrow[0] if mrow is not None else prow[0] for mrow, prow in keys],
                          index=index)
    paper_rows = pd.Series([prow[0] if prow is not None else "" for _, prow in keys], index=index)
    return Comparison(
        metric=measured.metric, label=measured.label, source=", ".join(sources),
        profile=measured.profile, comparable=comparable,
        banner="" if comparable else banner_for(measured.profile), decimals=measured.decimals,
        row_names=row_names, paper_rows=paper_rows, measured=meas_val, measured_text=meas_txt,
        published=pub_val, published_text=pub_txt, printed=printed,
        delta=(meas_val - pub_val) if comparable else None, delta_decimals=dec,
        summary=measured, measured_rows=pd.Series([mrow for mrow, _ in keys], index=index,
                                                  dtype=object))


def published_sources(published: pd.DataFrame | None, metric: str) -> list[tuple[str, str]]:
    """(paper, table) pairs that print `metric` per dataset and scale, in transcription order."""
    if published is None or published.empty:
        return []
    pub = published[(published["metric"] == metric) & ~published["dataset"].map(is_blank).astype(bool)
                     & published["scale"].notna()]
    return _ordered_unique(zip(pub["paper"], pub["table"]))
