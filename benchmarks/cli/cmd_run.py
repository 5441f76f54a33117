"""`bench run`: expand a matrix, train/evaluate what is not done yet, store, report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import main, options


@main.command()
@options.matrix
@options.profile
@options.data_dir
@options.results_dir
@click.option("--seeds", type=click.IntRange(min=1), default=None, help="Run seeds 0..N-1 (overrides the matrix).")
@click.option("--teacher-weights", type=click.Path(dir_okay=False), default=None,
              help="Use this teacher checkpoint instead of training the matrix's teacher.")
@options.device
@options.plugin
@click.option("--save-images", is_flag=True, help="Also save every SR output (for DMOS export).")
@click.option("--no-report", is_flag=True, help="Do not render the HTML report afterwards.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def run(matrix_name, profile, data_dir, results_dir, seeds, teacher_weights, device, plugin, save_images,
        no_report, quiet):
    """Train and evaluate every run of a matrix that is not already in the store.

    Finished runs are skipped; an interrupted run resumes from its last checkpoint.
    """
    from methods import load_plugin

    from ..matrix import load_matrix
    from ..reporting import write_report
    from ..runner import RunContext, run_matrix
    from ..store import ResultStore

    for spec in plugin:
        load_plugin(spec)
    matrix = load_matrix(matrix_name)
    specs = matrix.expand(profile, seeds=seeds, teacher_weights=teacher_weights)
    prof = matrix.profile(profile)
    results = Path(results_dir)
    store = ResultStore(results / "results.sqlite")
    ctx = RunContext(results_dir=results, data_dir=data_dir, device=device, progress=not quiet,
                     save_images=save_images)
    click.echo(f"matrix {matrix.name} ({matrix.source}), profile {prof.name}, {len(specs)} runs -> {results}")
    outcome = run_matrix(specs, store, ctx, log=click.echo)
    if not no_report:
        path = write_report(matrix, specs, store, results, command=" ".join(sys.argv))
        click.echo(f"report: {path}")
    failed = [r for r in outcome if r.status != "ok"]
    if failed:
        click.echo(f"{len(failed)} run(s) failed; see the report and re-run to retry them.", err=True)
        sys.exit(1)
