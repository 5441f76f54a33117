"""`bench ls`: what the harness knows — matrices, methods, archs (with parameter counts), datasets, metrics
— and what a results folder holds (`bench ls runs`: the stored cells of the run graph)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from . import main, options

_WHAT = ("matrices", "methods", "archs", "datasets", "metrics")
_STATUSES = ("ok", "failed", "blocked", "unavailable")


@main.command(name="ls")
@click.argument("what", required=False, type=click.Choice(_WHAT + ("runs",)))
@click.option("--plugin", multiple=True, metavar="MODULE_OR_FILE", help="Import a user's method module first.")
@options.results_dir
@click.option("--status", "status", type=click.Choice(_STATUSES + ("stale",)), default=None,
              help="runs: list only the cells with this status (stale: invalidated by a code change).")
@click.option("--stale", is_flag=True, help="runs: list only the cells a code change invalidated, and what changed.")
def ls(what, plugin, results_dir, status, stale):
    """List matrices, methods, archs (parameter counts vs the papers), datasets or metrics; or, with
    `runs`, the cells stored in --results-dir (key, kind, status, seconds, created, label)."""
    from methods import load_plugin

    if what != "runs" and (status or stale):
        raise click.UsageError("--status and --stale apply to `bench ls runs`")
    for spec in plugin:
        load_plugin(spec)
    if what == "runs":
        for line in _runs(Path(results_dir), status, stale):
            click.echo(line)
        return
    for item in (what,) if what else _WHAT:
        click.echo(f"{item}:")
        for line in _LISTERS[item]():
            click.echo(f"  {line}")


def _matrices() -> list[str]:
    from ..matrix import list_matrices, load_matrix

    return [f"{name:<12} {load_matrix(name).description.strip()[:100]}" for name in list_matrices()]


def _methods() -> list[str]:
    from methods import METHODS

    out = []
    for name in METHODS.names():
        cls = METHODS.get(name)
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        out.append(f"{name:<16} {'teacher' if cls.needs_teacher else '       '}  {doc}")
    return out


def _archs() -> list[str]:
    from ..archs import ARCHS
    from ..archs.presets import preset_table

    lines = [f"registered: {', '.join(ARCHS.names())}",
             f"{'preset':<20} {'arch':<9} {'scale':>5} {'params':>12} {'published':>10}  options"]
    for row in preset_table():
        published = f"{row.published_params:.2f}M" if row.published_params else "-"
        lines.append(f"{row.name:<20} {row.arch:<9} {'x' + str(row.scale):>5} {row.measured_params:>12,} "
                     f"{published:>10}  {row.options}")
    return lines


def _datasets() -> list[str]:
    from data_manifest import dataset_info, list_datasets

    out = []
    for name in list_datasets():
        info = dataset_info(name)
        out.append(f"{name:<24} {info.kind:<6} {info.count if info.count else '?':>5} images  {info.description[:70]}")
    return out


def _metrics() -> list[str]:
    from ..metrics import METRICS

    out = []
    for name in METRICS.names():
        m = METRICS.get(name)
        out.append(f"{name:<10} {'lower' if m.lower_better else 'higher'} is better; "
                   f"{'needs reference' if m.needs_ref else 'no reference'}; range {m.value_range}")
    return out


_LISTERS = {"matrices": _matrices, "methods": _methods, "archs": _archs, "datasets": _datasets, "metrics": _metrics}


def _runs(results_dir: Path, status: str | None, stale_only: bool) -> list[str]:
    """One line per stored cell (stale ones flagged), why non-ok cells are not ok, which modules
    changed under stale ones (with --stale), then a one-line summary of the whole store."""
    from ..graph.codeversion import changed_modules
    from ..store import ResultStore

    db = results_dir / "results.sqlite"
    if not db.is_file():  # do not create one by looking
        return [f"no results store in {results_dir} (no results.sqlite; nothing has run there yet)"]
    if status == "stale":
        status, stale_only = None, True
    store = ResultStore(db)
    records = store.records()
    changes = {r.key: changed_modules(r.code) for r in records}
    stale = {k for k, c in changes.items() if any(v != "unchecked" for v in c.values())}
    unchecked = sorted({m for c in changes.values() for m, v in c.items() if v == "unchecked"})

    shown = [r for r in records if (status is None or r.status == status) and (not stale_only or r.key in stale)]
    lines = []
    for r in shown:
        seconds = f"{r.seconds:.1f}s" if r.seconds is not None else "-"
        flag = "stale" if r.key in stale else ""
        lines.append(f"{r.key[:12]}  {r.kind:<6} {r.status:<11} {flag:<5} {seconds:>8}  {r.created}  {r.label}")
        if r.status != "ok" and r.error:
            lines.append(f"    error: {_one_line(r.error)}")
        if stale_only:
            for kind in ("changed", "removed"):
                modules = [m for m, v in changes[r.key].items() if v == kind]
                if modules:
                    lines.append(f"    {kind}: {', '.join(modules)}")

    counts = Counter(r.status for r in records)
    order = [s for s in _STATUSES if counts[s]] + sorted(s for s in counts if s not in _STATUSES)
    by_status = ", ".join(f"{counts[s]} {s}" for s in order)
    summary = f"{len(records)} cells" + (f": {by_status}" if by_status else "")
    summary += (f"; {len(stale)} stale (code changed since they ran" + ("" if stale_only else "; see --stale") + ")"
                if stale else "; none stale")
    if status or stale_only:
        what = " and ".join(p for p in (status and f"status {status}", stale_only and "stale") if p)
        summary = f"{len(shown)} shown ({what}) of " + summary
    lines.append(summary)
    if unchecked:
        lines.append(f"plug-in modules not loaded, so not checked for changes: {', '.join(unchecked)} "
                     f"(pass --plugin)")
    legacy = store.legacy_count()
    if legacy:
        lines.append(f"{legacy} results of the earlier run-per-row schema are kept in table `runs` and no longer "
                     f"used (their keys predate the run graph)")
    return lines


def _one_line(text: str, width: int = 160) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    more = first != text.strip()
    if len(first) > width:
        first, more = first[:width - 1], True
    return first + (" …" if more else "")
