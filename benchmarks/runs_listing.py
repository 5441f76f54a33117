"""`bench ls runs`: one line per stored cell of a results folder (key, kind, status, stale flag,
seconds, when it finished, label), the error of a cell that is not ok, the steps running now
(held by a live `bench run`: since when, last heartbeat, which process), and a summary.

`--matrix NAME` keeps the cells of that matrix's run graph (every profile, teachers included)
and counts its cells not run yet; `--status` keeps one status (`running`: the steps in progress;
`stale`: cells a code change invalidated, with the modules that changed).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

STATUSES = ("ok", "failed", "blocked", "unavailable")
FILTERS = STATUSES + ("running", "stale")


def matrix_cells(name: str) -> dict[str, str]:
    """Cell key -> description of every cell of a matrix's graph, in every profile."""
    from .graph.cells import cell_key, describe, upstream
    from .matrix import load_matrix
    from .reporting import with_teachers
    from .store import eval_cell

    matrix = load_matrix(name)
    cells: dict[str, str] = {}
    for prof in matrix.profiles:
        for spec in with_teachers(matrix.expand(prof.name)):
            for cell in upstream(spec.model):
                cells.setdefault(cell_key(cell), describe(cell))
            for dataset in spec.eval_sets:
                for metric in spec.metrics:
                    cell = eval_cell(spec, dataset, metric)
                    cells.setdefault(cell_key(cell), describe(cell))
    return cells


def _when(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat(timespec="seconds")


def _running(store, labels: dict[str, str], wanted: set[str] | None) -> list[tuple[str, str]]:
    """(key, line) per step a live driver holds now; `wanted` limits them to a matrix's cells."""
    from .lease import LeasePolicy, owner_is_dead

    leases = store.leases() if hasattr(store, "leases") else []
    policy, now = LeasePolicy(), dt.datetime.now(dt.UTC).timestamp()
    out = []
    for lease in leases:
        if owner_is_dead(lease, policy, now):
            continue
        kind, model = ("eval", lease.key.split(":")[1]) if lease.key.startswith("eval:") else ("model", lease.key)
        if wanted is not None and model not in wanted:
            continue
        label = labels.get(model, "(not in the store yet)")
        if kind == "eval":
            label = f"eval {label} on {lease.key.split(':')[-1]}"
            kind = "eval"
        else:
            kind = label.split()[0] if label and not label.startswith("(") else "model"
        line = (f"{model[:12]}  {kind:<6} {'running':<11} {'':<5} {'-':>8}  since {_when(lease.acquired)}, "
                f"heartbeat {lease.age(now):.0f}s ago, {lease.owner.describe()}  {label}")
        out.append((lease.key, line))
    return out


def runs_lines(results_dir: Path, status: str | None = None, stale_only: bool = False,
               matrix: str | None = None) -> list[str]:
    """The listing (see the module docstring), last line the summary."""
    from .graph.codeversion import changed_modules
    from .store import ResultStore

    db = results_dir / "results.sqlite"
    if not db.is_file():  # do not create one by looking
        return [f"no results store in {results_dir} (no results.sqlite; nothing has run there yet)"]
    if status == "stale":
        status, stale_only = None, True
    wanted = matrix_cells(matrix) if matrix else None
    store = ResultStore(db)
    everything = store.records()
    records = [r for r in everything if wanted is None or r.key in wanted]
    changes = {r.key: changed_modules(r.code) for r in records}
    stale = {k for k, c in changes.items() if any(v != "unchecked" for v in c.values())}
    unchecked = sorted({m for c in changes.values() for m, v in c.items() if v == "unchecked"})
    labels = dict(wanted or {}) | {r.key: r.label for r in everything}
    running = _running(store, labels, set(wanted) if wanted is not None else None)

    shown = [] if status == "running" else \
        [r for r in records if (status is None or r.status == status) and (not stale_only or r.key in stale)]
    lines = []
    for r in shown:
        seconds = f"{r.seconds:.1f}s" if r.seconds is not None else "-"
        flag = "stale" if r.key in stale else ""
        lines.append(f"{r.key[:12]}  {r.kind:<6} {r.status:<11} {flag:<5} {seconds:>8}  {r.created}  {r.label}")
        if r.status != "ok" and r.error:
            lines.append(f"    error: {one_line(r.error)}")
        if stale_only:
            for kind in ("changed", "removed"):
                modules = [m for m, v in changes[r.key].items() if v == kind]
                if modules:
                    lines.append(f"    {kind}: {', '.join(modules)}")
    if status in (None, "running") and not stale_only:
        lines += [line for _, line in running]

    counts = Counter(r.status for r in records)
    order = [s for s in STATUSES if counts[s]] + sorted(s for s in counts if s not in STATUSES)
    by_status = ", ".join(f"{counts[s]} {s}" for s in order)
    summary = f"{len(records)} cells" + (f": {by_status}" if by_status else "")
    summary += (f"; {len(stale)} stale (code changed since they ran" + ("" if stale_only else "; see --stale") + ")"
                if stale else "; none stale")
    if running:
        summary += f"; {len(running)} step(s) running now"
    if wanted is not None:
        missing = len(set(wanted) - {r.key for r in records})
        summary = f"matrix {matrix}: " + summary + (f"; {missing} of its {len(wanted)} cells not run yet"
                                                    if missing else "")
    if status or stale_only:
        what = " and ".join(p for p in (status and f"status {status}", stale_only and "stale") if p)
        n = len(running) if status == "running" else len(shown)
        summary = f"{n} shown ({what}) of " + summary
    lines.append(summary)
    if unchecked:
        lines.append(f"plug-in modules not loaded, so not checked for changes: {', '.join(unchecked)} "
                     f"(pass --plugin)")
    legacy = store.legacy_count()
    if legacy:
        lines.append(f"{legacy} results of the earlier run-per-row schema are kept in table `runs` and no longer "
                     f"used (their keys predate the run graph)")
    return lines


def one_line(text: str, width: int = 160) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    more = first != text.strip()
    if len(first) > width:
        first, more = first[:width - 1], True
    return first + (" …" if more else "")
