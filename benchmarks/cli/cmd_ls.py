"""`bench ls`: what the harness knows — matrices, methods, archs (with parameter counts), datasets, metrics."""

from __future__ import annotations

import click

from . import main

_WHAT = ("matrices", "methods", "archs", "datasets", "metrics")


@main.command(name="ls")
@click.argument("what", required=False, type=click.Choice(_WHAT))
@click.option("--plugin", multiple=True, metavar="MODULE_OR_FILE", help="Import a user's method module first.")
def ls(what, plugin):
    """List matrices, methods, archs (parameter counts vs the papers), datasets or metrics."""
    from methods import load_plugin

    for spec in plugin:
        load_plugin(spec)
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
