"""`bench report`: render the HTML report of a matrix from the result store."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import main, options


@main.command()
@options.matrix
@options.profile
@options.results_dir
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="Seeds 0..N-1, as given to `bench run`.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder [default: RESULTS_DIR/reports/MATRIX-PROFILE].")
@options.plugin
def report(matrix_name, profile, results_dir, seeds, out, plugin):
    """Write index.html (tables, plots, run conditions) for the runs of a matrix."""
    from methods import load_plugin

    from ..matrix import load_matrix
    from ..reporting import write_report
    from ..store import ResultStore

    for spec in plugin:
        load_plugin(spec)
    matrix = load_matrix(matrix_name)
    specs = matrix.expand(profile, seeds=seeds)
    store = ResultStore(Path(results_dir) / "results.sqlite")
    path = write_report(matrix, specs, store, Path(results_dir), command=" ".join(sys.argv),
                        out_dir=Path(out) if out else None)
    click.echo(f"report: {path}")
