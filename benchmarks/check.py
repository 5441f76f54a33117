"""Regression gate: measured results against the published tables, or a new method against a baseline.

Two checks, both returning a :class:`CheckReport` of :class:`CheckRow`s:

* :func:`check_published` matches the measured frame (``ResultStore.frame``) with the published
  cells (``published_frame(paper)``) on (method id, dataset, scale, metric). The measured value
  is the mean over the seeds of the ``ok`` runs. Only profiles in ``comparable_profiles``
  (``paper``) are compared: for a smoke or custom profile nothing is compared, every row is
  "not comparable", ``report.comparable`` is False and the note says so (the CLI exits 0 and
  prints the note: an explicit refusal, not a pass).
* :func:`check_against` compares a method's mean with another row's (default ``baseline``) of
  the same matrix and profile, per student, dataset, scale and metric. Valid at any profile,
  because both sides were made under the same one; the report states the profile.

Verdicts: ``pass``; ``regression`` when the measured value is worse than the reference by more
than the metric's tolerance (higher-better metrics: measured < reference - tol; lower-better:
measured > reference + tol; the default tolerance and the direction come from the metric
registry); ``missing`` when a side has no value (never run, the run failed -- its error is the
row's note --, the metric was not computed, or fewer ok seeds than ``min_seeds``); ``not
comparable`` (see above). A failed run is reported as ``missing`` with its error, never as a
regression: a crash is not evidence of worse numbers, and ``--strict`` turns every missing row
into a failure.

Published cells are left out, with a note, when they cannot be measured by this harness (metrics
not in the registry, e.g. train_hours or params_m; cells not tied to a test set), when they lie
outside the matrix (methods, scales, sets or metrics it does not run), or when a method id
names several rows of one table (ambiguous). An ``Average`` cell is checked against the mean of
the per-set measured means over the sets the same table row prints; when the table prints only
the average, which sets it covers is unknown and the cell is left out.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from .errors import BenchError

COMPARABLE_PROFILES = ("paper",)
VERDICTS = ("pass", "regression", "missing", "not comparable")
_EPS = 1e-9  # a difference of exactly the tolerance passes, float noise aside
_AVERAGE = "Average"


# --------------------------------------------------------------------------- tolerances


def default_tolerances() -> dict[str, float]:
    """Absolute tolerance per registered metric, each metric's own ``Metric.tolerance`` (dB for PSNR);
    metrics without one are left out. Override with ``--tolerance`` / ``--tolerances``."""
    from .metrics import METRICS

    return {name: tol for name in METRICS.names() if (tol := METRICS.get(name).tolerance) is not None}


def __getattr__(name: str) -> Any:
    # DEFAULT_TOLERANCES: the former constant table, now read from the metric registry on access
    # (lazily, so importing this module does not import the metrics).
    if name == "DEFAULT_TOLERANCES":
        return default_tolerances()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclasses.dataclass(frozen=True)
class Tolerance:
    """How far a metric may move in its worse direction before it counts as a regression."""

    metric: str
    abs: float
    lower_better: bool = False

    @classmethod
    def for_metric(cls, metric: str, value: float) -> "Tolerance":
        """The tolerance with the direction of the registered metric (BenchError if unknown)."""
        from .metrics import get_metric

        return cls(metric, _tolerance_value(metric, value), get_metric(metric).lower_better)

    @property
    def direction(self) -> str:
        return "lower is better" if self.lower_better else "higher is better"

    def worse_by(self, measured: float, reference: float) -> float:
        """How much worse `measured` is than `reference` (negative: better)."""
        return measured - reference if self.lower_better else reference - measured

    def regressed(self, measured: float, reference: float) -> bool:
        return self.worse_by(measured, reference) > self.abs + _EPS

    def __str__(self) -> str:
        return f"{self.metric} {self.abs:g} ({self.direction})"


def _tolerance_value(metric: str, value: Any) -> float:
    if isinstance(value, bool):
        raise BenchError(f"tolerance for {metric!r}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BenchError(f"tolerance for {metric!r}: expected a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise BenchError(f"tolerance for {metric!r}: expected a non-negative number, got {value!r}")
    return number


def parse_tolerance_option(text: str) -> tuple[str, float]:
    """``"psnr=0.1"`` -> ("psnr", 0.1); BenchError naming the expected form otherwise."""
    metric, sep, value = text.partition("=")
    metric = metric.strip().lower()
    if not sep or not metric or not value.strip():
        raise BenchError(f"--tolerance {text!r}: expected METRIC=VALUE, e.g. psnr=0.1")
    return metric, _tolerance_value(metric, value.strip())


def load_tolerance_file(path: str | Path) -> dict[str, float]:
    """A YAML mapping ``metric: tolerance`` (optionally under a top-level ``tolerances:`` key)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise BenchError(f"tolerances file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BenchError(f"tolerances file {path}: malformed YAML: {exc}".replace("\n", " ")) from None
    if isinstance(data, Mapping) and set(data) == {"tolerances"}:
        data = data["tolerances"]
    if not isinstance(data, Mapping) or not data:
        raise BenchError(f"tolerances file {path}: expected a mapping of metric: tolerance, e.g. 'psnr: 0.05'")
    return {str(k).lower(): _tolerance_value(str(k), v) for k, v in data.items()}


def resolve_tolerances(overrides: Mapping[str, Any] | None = None,
                       file: str | Path | None = None) -> dict[str, Tolerance]:
    """Defaults, then the YAML file, then the explicit overrides; named metrics must be registered.

    Defaults come from the registered metrics themselves (:func:`default_tolerances`).
    """
    from .metrics import METRICS

    known = set(METRICS.names())
    given: dict[str, Any] = {}
    if file is not None:
        given.update(load_tolerance_file(file))
    given.update(dict(overrides or {}))
    for metric in given:
        if metric not in known:
            raise BenchError(f"tolerance for unknown metric {metric!r}; valid choices: {', '.join(sorted(known))}")
    values = default_tolerances() | given
    return {metric: Tolerance.for_metric(metric, value) for metric, value in values.items()}


def _normalise(tolerances: Mapping[str, Tolerance | float] | None) -> dict[str, Tolerance]:
    if tolerances is None:
        return resolve_tolerances()
    out = {}
    for metric, tol in tolerances.items():
        out[metric] = tol if isinstance(tol, Tolerance) else Tolerance.for_metric(metric, tol)
    return out


# --------------------------------------------------------------------------- report


@dataclasses.dataclass(frozen=True)
class CheckRow:
    method: str  # row id (published method id)
    label: str
    dataset: str
    scale: int
    metric: str
    measured: float | None  # mean over the ok seeds
    reference: float | None  # published value, or the --against method's mean
    delta: float | None  # measured - reference (sign as is; the tolerance's direction says which is worse)
    tolerance: float | None
    verdict: str  # one of VERDICTS
    student: str = ""
    table: str = ""  # published table id (check_published)
    seeds: int = 0  # ok seeds behind `measured`
    note: str = ""
    lo: float | None = None  # check_against: the 95 % interval of `delta` (paired bootstrap), when
    hi: float | None = None  # per-image scores are stored; the verdict then follows the interval


@dataclasses.dataclass(frozen=True)
class CheckReport:
    rows: tuple[CheckRow, ...]
    comparable: bool
    note: str = ""  # the headline: what was compared with what, or why nothing was
    profile: str = ""
    reference: str = ""  # "published <paper>" or the --against row id
    strict: bool = False  # missing rows fail too
    details: tuple[str, ...] = ()  # what was left out and why

    def with_verdict(self, verdict: str) -> list[CheckRow]:
        return [r for r in self.rows if r.verdict == verdict]

    @property
    def regressions(self) -> list[CheckRow]:
        return self.with_verdict("regression")

    @property
    def missing(self) -> list[CheckRow]:
        return self.with_verdict("missing")

    @property
    def failed(self) -> bool:
        """Any regression (or, with strict, any missing row); never for a not-comparable report."""
        if not self.comparable:
            return False
        return bool(self.regressions) or (self.strict and bool(self.missing))

    def counts(self) -> dict[str, int]:
        return {v: len(self.with_verdict(v)) for v in VERDICTS}

    def summary(self) -> str:
        if not self.comparable:
            return f"NOT CHECKED: {self.note}"
        if not self.rows:
            return f"NOTHING CHECKED: no measured value has a counterpart in {self.reference} (profile {self.profile})"
        c = self.counts()
        parts = f"{c['pass']} pass, {c['regression']} regression(s), {c['missing']} missing"
        if c["missing"]:
            parts += " (--strict: missing fails)" if self.strict else " (missing does not fail without --strict)"
        verdict = "FAIL" if self.failed else "PASS" if c["pass"] else "NOTHING COMPARED"
        return f"{verdict}: {parts} (vs {self.reference}, profile {self.profile})"

    def to_text(self) -> str:
        """A plain-text table of the rows, then the notes and the summary line."""
        ref_header = "published" if self.reference.startswith("published") else (self.reference or "reference")
        show_student = len({r.student for r in self.rows}) > 1
        show_table = any(r.table for r in self.rows)
        # A not-comparable report lists what exists, never the numbers side by side.
        values = self.comparable
        show_ci = values and any(r.lo is not None for r in self.rows)
        header = (["method"] + (["student"] if show_student else []) + ["dataset", "scale", "metric"]
                  + (["measured", ref_header, "delta", "tol"] if values else [])
                  + (["95% interval of delta"] if show_ci else []) + ["verdict"]
                  + (["table"] if show_table else []) + ["note"])
        body = []
        for r in self.rows:
            cells = ([r.method] + ([r.student] if show_student else []) + [r.dataset, f"x{r.scale}", r.metric]
                     + ([_fmt(r.measured), _fmt(r.reference), _fmt(r.delta, signed=True), _fmt(r.tolerance)]
                        if values else [])
                     + ([f"[{_fmt(r.lo, signed=True)}, {_fmt(r.hi, signed=True)}]" if r.lo is not None else "-"]
                        if show_ci else [])
                     + [r.verdict.upper() if r.verdict == "regression" else r.verdict]
                     + ([r.table] if show_table else []) + [r.note])
            body.append(cells)
        lines = []
        if self.note:
            lines.append(("NOTE: " if not self.comparable else "") + self.note)
        if body:
            widths = [max(len(str(row[i])) for row in [header] + body) for i in range(len(header))]

            def fmt(row: list) -> str:
                return "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()

            lines.append(fmt(header))
            lines.append(fmt(["-" * w for w in widths]))
            lines.extend(fmt(row) for row in body)
        lines.extend(f"note: {d}" for d in self.details)
        lines.append(self.summary())
        return "\n".join(lines)


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    digits = 2 if abs(value) >= 100 else 4
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


# --------------------------------------------------------------------------- measured values


@dataclasses.dataclass(frozen=True)
class _Measured:
    value: float | None
    seeds: int
    note: str
    label: str = ""


class _Measurements:
    """Means over ok seeds, per (method, student, dataset, scale, metric), with why a value is absent."""

    KEY = ("method", "student", "dataset", "scale", "metric")

    def __init__(self, frame: pd.DataFrame):
        frame = frame.copy()
        frame["scale"] = frame["scale"].astype(int)
        self.frame = frame
        ok = frame[(frame["status"] == "ok") & frame["dataset"].notna()]
        valued = ok[ok["value"].notna()]
        grouped = valued.groupby(list(self.KEY), dropna=False)["value"]
        self.means = grouped.mean().to_dict()
        self.counts = grouped.size().to_dict()
        self.nan_notes = (ok[ok["value"].isna()].groupby(list(self.KEY))["note"].first().to_dict())
        failed = frame[frame["status"] != "ok"]
        runs = ["method", "student", "scale"]
        self.failed_runs = failed.groupby(runs)["run_key"].nunique().to_dict()
        self.failed_notes = failed.groupby(runs)["note"].first().to_dict()
        self.all_runs = frame.groupby(runs)["run_key"].nunique().to_dict()
        self.labels = frame.groupby("method")["label"].first().to_dict()

    def students(self, method: str, scale: int) -> list[str]:
        rows = self.frame[(self.frame["method"] == method) & (self.frame["scale"] == scale)]
        return sorted(rows["student"].dropna().unique())

    def get(self, method: str, student: str, dataset: str, scale: int, metric: str) -> _Measured:
        key = (method, student, dataset, scale, metric)
        run = (method, student, scale)
        n_failed = self.failed_runs.get(run, 0)
        label = self.labels.get(method, "")
        if key in self.means:
            note = ""
            if n_failed:
                note = (f"{n_failed} of {self.all_runs.get(run, n_failed)} run(s) failed "
                        f"({_one_line(self.failed_notes.get(run, ''))}); mean of the ok seeds")
            return _Measured(float(self.means[key]), int(self.counts[key]), note, label)
        if n_failed:
            note = f"run failed: {_one_line(self.failed_notes.get(run, '')) or 'no error recorded'}"
        elif key in self.nan_notes:
            note = _one_line(self.nan_notes[key]) or "not computed"
        elif run in self.all_runs:
            note = f"no {metric} value for {dataset} in the stored run(s)"
        else:
            note = "no stored run (run `bench run` first)"
        return _Measured(None, 0, note, label)


def _one_line(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    line = " ".join(text.split())
    return line if len(line) <= 160 else line[:157] + "..."


def _single_profile(frame: pd.DataFrame) -> str:
    if frame.empty:
        raise BenchError("no results to check: the frame is empty (run `bench run` first)")
    profiles = sorted(frame["profile"].dropna().unique())
    if len(profiles) != 1:
        raise BenchError(f"results of several profiles ({', '.join(profiles)}) cannot be checked together; "
                         "check one profile at a time")
    return str(profiles[0])


def expected_cells(specs: Iterable[Any]) -> set[tuple[str, str, int, str]]:
    """(row id, dataset display name, scale, metric) for everything the runs of a matrix measure."""
    from data_manifest.names import display_name

    out = set()
    for spec in specs:
        for ds in spec.eval_sets:
            for metric in spec.metrics:
                out.add((spec.id, display_name(ds), int(spec.scale), metric))
    return out


# --------------------------------------------------------------------------- published


def check_published(frame: pd.DataFrame, published: pd.DataFrame,
                    comparable_profiles: Sequence[str] = COMPARABLE_PROFILES,
                    tolerances: Mapping[str, Tolerance | float] | None = None, *,
                    expected: Iterable[tuple[str, str, int, str]] | None = None,
                    strict: bool = False) -> CheckReport:
    """Measured means against the published cells; see the module docstring for the rules.

    `expected`: the (row id, dataset, scale, metric) the matrix measures (:func:`expected_cells`);
    published cells outside it are left out, cells inside it with no measured value are
    "missing". Default: the (row id, scale) pairs present in `frame`, any set and metric.
    """
    profile = _single_profile(frame)
    tols = _normalise(tolerances)
    papers = sorted(published["paper"].dropna().unique()) if not published.empty else []
    reference = f"published {', '.join(papers) or 'tables'}"
    measured = _Measurements(frame)
    pairs = set(zip(measured.frame["method"], measured.frame["scale"]))
    wanted = None if expected is None else set(expected)

    def in_scope(method: str, dataset: str, scale: int, metric: str) -> bool:
        if wanted is None:
            return (method, scale) in pairs
        return (method, dataset, scale, metric) in wanted

    cells, details = _published_cells(published, tols, in_scope)
    comparable = profile in comparable_profiles
    rows = []
    for cell in cells:
        method, dataset, scale, metric = cell["method"], cell["dataset"], cell["scale"], cell["metric"]
        students = measured.students(method, scale) or [""]
        for student in students:
            if cell["components"]:
                got = _average(measured, method, student, cell["components"], scale, metric)
            else:
                got = measured.get(method, student, dataset, scale, metric)
            base = dict(method=method, label=got.label or cell["row"], dataset=dataset, scale=scale, metric=metric,
                        measured=got.value, reference=cell["value"], student=student, table=cell["table"],
                        seeds=got.seeds)
            if not comparable:
                rows.append(CheckRow(**base, delta=None, tolerance=None, verdict="not comparable"))
                continue
            rows.append(_verdict(base, got, tols[metric]))
    if not comparable:
        note = (f"profile {profile} is not comparable to published numbers: nothing was checked "
                f"(only {', '.join(comparable_profiles)} results are; `--method/--against` compares "
                "methods within one profile)")
    else:
        note = f"profile {profile} results against {reference}"
    return CheckReport(rows=tuple(rows), comparable=comparable, note=note, profile=profile, reference=reference,
                       strict=strict, details=tuple(details))


def _verdict(base: dict, got: _Measured, tol: Tolerance) -> CheckRow:
    if got.value is None or base["reference"] is None:
        return CheckRow(**(base | {"measured": got.value}), delta=None, tolerance=tol.abs, verdict="missing",
                        note=got.note)
    delta = got.value - base["reference"]
    verdict = "regression" if tol.regressed(got.value, base["reference"]) else "pass"
    return CheckRow(**base, delta=delta, tolerance=tol.abs, verdict=verdict, note=got.note)


def _average(measured: _Measurements, method: str, student: str, components: tuple[str, ...], scale: int,
             metric: str) -> _Measured:
    parts = [measured.get(method, student, ds, scale, metric) for ds in components]
    absent = [ds for ds, p in zip(components, parts) if p.value is None]
    label = parts[0].label if parts else ""
    if absent:
        return _Measured(None, 0, f"mean of {', '.join(components)}: no value for {', '.join(absent)} "
                                  f"({parts[components.index(absent[0])].note})", label)
    return _Measured(sum(p.value for p in parts) / len(parts), min(p.seeds for p in parts),
                     f"mean of {', '.join(components)}", label)


def _published_cells(published: pd.DataFrame, tols: Mapping[str, Tolerance], in_scope) -> tuple[list[dict], list[str]]:
    """The cells to check, plus one note per kind of cell left out."""
    from .metrics import METRICS

    details: list[str] = []
    if published.empty:
        return [], ["the published frame has no cells"]
    pub = published.copy()
    # Method ids naming several rows of one table cannot be told apart: leave them out.
    rows_per_id = pub.groupby(["table", "method"])["row"].unique()
    ambiguous = {k: list(v) for k, v in rows_per_id.items() if len(v) > 1}
    for (table, method), labels in sorted(ambiguous.items()):
        details.append(f"{table}: method id {method!r} names rows {', '.join(map(repr, labels))}; "
                       "skipped as ambiguous")
    not_metric: set[str] = set()
    no_tol: set[str] = set()
    no_set = 0
    outside = 0
    avg_unknown: list[str] = []
    cells = []
    for rec in pub.to_dict("records"):
        if (rec["table"], rec["method"]) in ambiguous:
            continue
        metric = rec["metric"]
        if metric not in METRICS:
            not_metric.add(metric)
            continue
        dataset, scale = rec["dataset"], rec["scale"]
        if dataset is None or (isinstance(dataset, float) and math.isnan(dataset)) or pd.isna(scale):
            no_set += 1
            continue
        scale = int(scale)
        components: tuple[str, ...] = ()
        if dataset == _AVERAGE:
            same = pub[(pub["table"] == rec["table"]) & (pub["row"] == rec["row"]) & (pub["metric"] == metric)
                       & (pub["scale"] == scale) & pub["dataset"].notna() & (pub["dataset"] != _AVERAGE)]
            components = tuple(dict.fromkeys(same["dataset"]))
            if not components:
                avg_unknown.append(f"{rec['table']}/{rec['row']}")
                continue
            if not all(in_scope(rec["method"], ds, scale, metric) for ds in components):
                outside += 1
                continue
        elif not in_scope(rec["method"], dataset, scale, metric):
            outside += 1
            continue
        if metric not in tols:
            no_tol.add(metric)
            continue
        cells.append(dict(rec, scale=scale, components=components))
    if not_metric:
        details.append(f"not scored by the harness, not checked: {', '.join(sorted(not_metric))}")
    if no_set:
        details.append(f"{no_set} published cell(s) not tied to a test set and scale, not checked")
    if avg_unknown:
        details.append(f"Average cell(s) of {', '.join(sorted(set(avg_unknown)))} do not say which sets they "
                       "average, not checked")
    if no_tol:
        details.append(f"no tolerance for {', '.join(sorted(no_tol))}, not checked "
                       f"(give --tolerance {sorted(no_tol)[0]}=VALUE)")
    if outside:
        details.append(f"{outside} published cell(s) outside this matrix (row ids, scales, sets or metrics it "
                       "does not run), not checked")
    return cells, details


# --------------------------------------------------------------------------- against


def check_against(frame: pd.DataFrame, method: str, against: str = "baseline",
                  tolerances: Mapping[str, Tolerance | float] | None = None, min_seeds: int = 1, *,
                  strict: bool = False, row_ids: Iterable[str] | None = None,
                  images: pd.DataFrame | None = None, level: float = 0.95) -> CheckReport:
    """`method` against `against`, same profile, per student/dataset/scale/metric.

    With `images` (the store's per-image frame, ``ResultStore.image_frame``) the verdict uses the
    paired bootstrap interval of the gain over the test images (and seeds; reports.bootstrap):
    a row regresses only when the whole interval lies beyond the tolerance on the worse side, so
    a drop the images do not support is not a regression. Rows without per-image scores (and
    every row without `images`) fall back to the bare mean: a regression when `method` is worse
    than `against` by more than the metric's tolerance. The report says which rule decided.
    `row_ids`: the ids the matrix defines (for the error message; default: those in `frame`).
    Fewer than `min_seeds` ok seeds on either side makes the row "missing".
    """
    if min_seeds < 1:
        raise BenchError(f"min_seeds must be at least 1, got {min_seeds}")
    ids = sorted(set(row_ids) if row_ids is not None else set(frame["method"].dropna().unique()))
    for name, what in ((method, "method"), (against, "--against")):
        if name not in ids:
            raise BenchError(f"unknown {what} id {name!r}; row ids in this matrix: {', '.join(ids) or '(none)'}")
    if method == against:
        raise BenchError(f"--method and --against both name {method!r}; compare two different row ids")
    frame = frame[frame["method"].isin([method, against])]
    for name in (method, against):
        if not (frame["method"] == name).any():
            raise BenchError(f"no stored results for {name!r}; run `bench run` first")
    profile = _single_profile(frame)
    tols = _normalise(tolerances)
    from .metrics import METRICS

    measured = _Measurements(frame)
    f = measured.frame
    new_runs = set(zip(f.loc[f["method"] == method, "student"], f.loc[f["method"] == method, "scale"]))
    scored = f[f["dataset"].notna() & f["metric"].notna()]
    keys = list(dict.fromkeys((st, ds, int(sc), me) for st, ds, sc, me in
                              zip(scored["student"], scored["dataset"], scored["scale"], scored["metric"])
                              if (st, sc) in new_runs))  # in the frame's order: sets as the matrix lists them
    not_metric = sorted({k[3] for k in keys if k[3] not in METRICS})
    no_tol = sorted({k[3] for k in keys if k[3] in METRICS and k[3] not in tols})
    details = []
    if not_metric:
        details.append(f"not a registered metric, not checked: {', '.join(not_metric)}")
    if no_tol:
        details.append(f"no tolerance for {', '.join(no_tol)}, not checked (give --tolerance {no_tol[0]}=VALUE)")
    rows = []
    index = _image_index(images)
    by_interval = by_mean = 0
    for student, dataset, scale, metric in keys:
        if metric in not_metric or metric in no_tol:
            continue
        new = measured.get(method, student, dataset, scale, metric)
        ref = measured.get(against, student, dataset, scale, metric)
        base = dict(method=method, label=new.label, dataset=dataset, scale=int(scale), metric=metric,
                    measured=new.value, reference=ref.value, student=student, seeds=new.seeds)
        short = [f"{name}: {m.note or 'no value'}" for name, m in ((method, new), (against, ref)) if m.value is None]
        short += [f"{name}: {m.seeds} ok seed(s), --min-seeds {min_seeds}" for name, m in
                  ((method, new), (against, ref)) if m.value is not None and m.seeds < min_seeds]
        if short:
            rows.append(CheckRow(**base, delta=None, tolerance=tols[metric].abs, verdict="missing",
                                 note="; ".join(short)))
            continue
        row = _verdict(base, new, tols[metric])
        note = "; ".join(n for n in (new.note, ref.note and f"{against}: {ref.note}") if n)
        interval = _gain(index, f, method, against, student, dataset, int(scale), metric, level)
        if interval is None:
            by_mean += 1
        else:
            by_interval += 1
            row, why = _interval_verdict(row, interval, tols[metric])
            note = "; ".join(n for n in (why, note) if n)
        rows.append(dataclasses.replace(row, note=note))
    if by_interval:
        details.append(f"verdicts from the paired bootstrap {level:.0%} interval of delta over the test images "
                       "(and seeds), not from the bare mean: a row regresses only when the whole interval lies "
                       "beyond the tolerance on the worse side")
    if by_mean:
        details.append(f"{by_mean} row(s) without per-image scores: verdict from the bare mean (a regression when "
                       "the mean is worse by more than the tolerance)")
    note = (f"{method} against {against}, both at profile {profile} (a same-profile comparison"
            f"{'' if profile in COMPARABLE_PROFILES else '; not a comparison with published numbers'})")
    return CheckReport(rows=tuple(rows), comparable=True, note=note, profile=profile, reference=against,
                       strict=strict, details=tuple(details))


def _image_index(images: pd.DataFrame | None):
    if images is None or images.empty:
        return None
    from reports.gains import ImageIndex

    return ImageIndex.of(images)


def _gain(index, frame: pd.DataFrame, method: str, against: str, student: str, dataset: str, scale: int,
          metric: str, level: float):
    """The paired bootstrap interval of method - against on one test set, or None (no per-image scores)."""
    if index is None:
        return None
    from reports.gains import paired_gain

    ok = frame[(frame["status"] == "ok") & frame["value"].notna() & (frame["student"] == student)
               & (frame["scale"] == scale) & (frame["dataset"] == dataset) & (frame["metric"] == metric)]

    def seeds(name: str) -> dict[int, str]:
        part = ok[ok["method"] == name]
        return dict(zip(part["seed"].astype(int), part["run_key"]))

    new, base = seeds(method), seeds(against)
    if not new or not base:
        return None
    return paired_gain(index, new, base, dataset, metric, level)


def _interval_verdict(row: CheckRow, interval, tol: Tolerance) -> tuple[CheckRow, str]:
    """Regression when the whole interval (oriented so that positive is better) lies below -tol."""
    better = interval.oriented(tol.lower_better)
    regressed = better.hi < -tol.abs - _EPS
    mean_says = row.verdict
    verdict = "regression" if regressed else "pass"
    where = ("includes 0" if interval.includes_zero else "excludes 0, a real gain" if better.lo > 0 else
             "excludes 0, a real loss" + ("" if regressed else " within the tolerance"))
    why = (f"interval over {interval.n_images} image(s)" + (f" x {interval.n_seeds} seeds" if interval.n_seeds > 1
                                                             else "") + f" {where}")
    if regressed:
        why += f"; all of it is worse than the tolerance {tol.abs:g}"
    elif mean_says == "regression":
        why += f"; the mean alone is worse by more than {tol.abs:g}, the interval does not support it"
    return dataclasses.replace(row, verdict=verdict, lo=interval.lo, hi=interval.hi), why
