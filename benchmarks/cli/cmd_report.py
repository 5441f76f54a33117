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
@click.option("--format", "formats", default="html,latex,md,csv", show_default=True, metavar="LIST",
              help="Comma-separated: html (index.html), latex (tables.tex, booktabs; latex/<metric>.tex), "
                   "md (tables.md), csv (tables.csv).")
@options.data_dir
@options.weights_dir
@options.plugin
def report(matrix_name, profile, results_dir, seeds, out, formats, data_dir, weights_dir, plugin):
    """Write index.html (tables, gains with bootstrap intervals, visual comparisons, plots, run
    conditions) and the tables as LaTeX, Markdown and CSV for the runs of a matrix.

    The visual comparisons use the SR images `bench run --save-images` saved, or re-generate them
    from the stored models (the test images then come from --data-dir, as in `bench run`)."""
    from ..report_parts import parse_formats

    wanted = parse_formats(formats)
    from methods import load_plugin

    from ..matrix import load_matrix
    from ..reporting import write_report
    from ..store import ResultStore

    for spec in plugin:
        load_plugin(spec)
    if weights_dir:  # the teacher checkpoints decide the teacher cells, as in `bench run`
        from ..metrics.weights import set_weights_dir

        set_weights_dir(weights_dir)
    from ..composite import is_composite, load_composite

    if is_composite(matrix_name):  # one page per member and an index (`bench report --matrix full`)
        from ..composite_report import write_composite_report

        comp = load_composite(matrix_name)
        store = ResultStore(Path(results_dir) / "results.sqlite")
        path = write_composite_report(comp, comp.expand(profile, seeds=seeds), store, Path(results_dir),
                                      command=" ".join(sys.argv), out_dir=Path(out) if out else None)
        click.echo(f"report: {path}")
        return
    matrix = load_matrix(matrix_name)
    specs = matrix.expand(profile, seeds=seeds)
    store = ResultStore(Path(results_dir) / "results.sqlite")
    path = write_report(matrix, specs, store, Path(results_dir), command=" ".join(sys.argv),
                        out_dir=Path(out) if out else None, data_dir=data_dir, formats=wanted)
    folder = path if path.is_dir() else path.parent
    click.echo(f"report: {path}")
    for name in [f for f in wanted if f != "html"]:
        click.echo(f"  {name}: {folder / _FILES[name]}")


_FILES = {"latex": "tables.tex", "md": "tables.md", "csv": "tables.csv"}
