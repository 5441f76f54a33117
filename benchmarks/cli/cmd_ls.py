"""`bench ls`: what the harness knows — matrices, methods, archs (with parameter counts), datasets, metrics
— and what a results folder holds (`bench ls runs`: the stored cells of the run graph)."""

from __future__ import annotations

from pathlib import Path

import click

from ..runs_listing import FILTERS, runs_lines
from . import main, options

_WHAT = ("matrices", "methods", "archs", "datasets", "metrics")


@main.command(name="ls")
@click.argument("what", required=False, type=click.Choice(_WHAT + ("runs",)))
@click.option("--plugin", multiple=True, metavar="MODULE_OR_FILE", help="Import a user's method module first.")
@options.results_dir
@click.option("--matrix", "matrix_name", default=None,
              help="runs: only the cells of this matrix's run graph (every profile); counts those not run yet.")
@click.option("--status", "status", type=click.Choice(FILTERS), default=None,
              help="runs: list only the cells with this status (running: steps a live `bench run` holds now; "
                   "stale: invalidated by a code change).")
@click.option("--stale", is_flag=True, help="runs: list only the cells a code change invalidated, and what changed.")
def ls(what, plugin, results_dir, matrix_name, status, stale):
    """List matrices, methods, archs (parameter counts vs the papers), datasets or metrics; or, with
    `runs`, the cells stored in --results-dir (key, kind, status, seconds, finished, label; the error
    of failed ones) and the steps running now (since, last heartbeat, process)."""
    from methods import load_plugin

    if what != "runs" and (status or stale or matrix_name):
        raise click.UsageError("--status, --stale and --matrix apply to `bench ls runs`")
    for spec in plugin:
        load_plugin(spec)
    if what == "runs":
        for line in runs_lines(Path(results_dir), status, stale, matrix_name):
            click.echo(line)
        return
    for item in (what,) if what else _WHAT:
        click.echo(f"{item}:")
        for line in _LISTERS[item]():
            click.echo(f"  {line}")


def _matrices() -> list[str]:
    from ..composite import is_composite, load_composite
    from ..matrix import list_matrices, load_matrix

    lines = []
    for name in list_matrices():
        if is_composite(name):
            comp = load_composite(name)
            lines.append(f"{name:<16} all of: {', '.join(m.name for m in comp.members)}")
        else:
            lines.append(f"{name:<16} {load_matrix(name).description.strip()[:100]}")
    return lines


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
