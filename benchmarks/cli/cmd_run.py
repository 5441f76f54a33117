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
@options.weights_dir
@options.device
@options.plugin
@click.option("--save-images", is_flag=True, help="Also save every SR output (for DMOS export).")
@click.option("--no-report", is_flag=True, help="Do not render the HTML report afterwards.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--executor", type=click.Choice(["inline", "local", "ray", "slurm"]), default="inline",
              show_default=True, help="inline: every cell in this process; local: each cell in its own worker "
                                      "process; ray: each cell a Ray task; slurm: each cell a Slurm job "
                                      "(docs/scale-out.md).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Cells run at once [local: 1; ray, slurm: every ready cell the cluster can take].")
@click.option("--gpus-per-cell", "--gpus", type=click.IntRange(min=0), default=0, show_default=True,
              help="GPUs each cell gets (local: its own CUDA_VISIBLE_DEVICES slice; ray: num_gpus; slurm: "
                   "gpus_per_node); a train cell with 2 or more trains data-parallel, one torchrun rank per "
                   "GPU. `--gpus N` alone: cells one at a time, each train cell on N GPUs.")
@click.option("--ray-address", default=None, help="Ray cluster to join ('auto', 'ray://host:10001'); "
                                                   "default: start a local one.")
@click.option("--slurm-partition", default=None, help="Slurm partition for the cells' jobs.")
@click.option("--slurm-time", default=None, help="Time limit of each cell's Slurm job (minutes, H:MM:SS or "
                                                 "D-HH:MM) [default: 1 day].")
def run(matrix_name, profile, data_dir, results_dir, seeds, teacher_weights, weights_dir, device, plugin,
        save_images, no_report, quiet, executor, workers, gpus_per_cell, ray_address, slurm_partition, slurm_time):
    """Train and evaluate every cell of a matrix that is not already in the store.

    First prints the plan ("12 cells: 3 done, 7 to train, 2 to evaluate"). Finished cells are
    skipped, shared cells (one teacher for many rows) run once, an interrupted training resumes
    from its last checkpoint, and a failed cell blocks only what depends on it.
    """
    from methods import load_plugin

    from ..composite import is_composite, load_composite
    from ..composite_report import write_composite_report
    from ..graph.executor_choice import make_executor
    from ..matrix import load_matrix
    from ..reporting import with_teachers, write_report
    from ..runner import RunContext, run_matrix
    from ..store import ResultStore

    for spec in plugin:
        load_plugin(spec)
    engine = make_executor(executor, workers=workers, gpus_per_cell=gpus_per_cell, plugins=plugin,
                           results_dir=results_dir, device=device, ray_address=ray_address,
                           slurm_partition=slurm_partition, slurm_time=slurm_time)
    if weights_dir:
        from ..metrics.weights import set_weights_dir

        set_weights_dir(weights_dir)
    if is_composite(matrix_name):
        target = load_composite(matrix_name)
        members = target.expand(profile, seeds=seeds, teacher_weights=teacher_weights)
        prof_name = target.profile_name(profile)
    else:
        target = load_matrix(matrix_name)
        members = [(target, target.expand(profile, seeds=seeds, teacher_weights=teacher_weights))]
        prof_name = target.profile(profile).name
    specs = [s for _, rows in members for s in rows]
    results = Path(results_dir)
    store = ResultStore(results / "results.sqlite")
    ctx = RunContext(results_dir=results, data_dir=data_dir, device=device, progress=not quiet,
                     save_images=save_images)
    click.echo(f"matrix {target.name} ({target.source}), profile {prof_name}, {len(specs)} rows -> {results}")
    for member, rows in members:  # official teacher checkpoints: loaded, or trained from scratch and why
        for name in dict.fromkeys(s.profile.name for s in rows):
            for src in member.teacher_sources(name):
                click.echo(f"  {src.line()}")
    try:
        outcome = run_matrix(with_teachers(specs), store, ctx, executor=engine, log=click.echo)
    finally:
        getattr(engine, "close", lambda: None)()  # a Ray cluster this run started
    if not no_report:
        command = " ".join(sys.argv)
        if len(members) == 1 and target is members[0][0]:
            path = write_report(target, specs, store, results, command=command, data_dir=data_dir)
        else:
            path = write_composite_report(target, members, store, results, command=command, data_dir=data_dir)
        click.echo(f"report: {path}")
    if outcome.failed:
        click.echo(f"{len(outcome.failed)} step(s) failed or blocked; see the report and re-run to retry them:",
                   err=True)
        for line in outcome.failed:
            click.echo(f"  {line}", err=True)
        sys.exit(1)

