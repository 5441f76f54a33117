"""`bench export`: the result store in long form, as CSV or Parquet, for pandas users."""

from __future__ import annotations

from pathlib import Path

import click

from . import main, options


@main.command()
@click.option("--matrix", "matrix_name", default=None,
              help="Only this matrix's rows (a shipped name or a YAML path), under their row ids and labels "
                   "[default: the whole store].")
@click.option("--profile", default=None, help="With --matrix: this profile only [default: every profile].")
@options.results_dir
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="results.csv or results.parquet (by the suffix).")
@options.plugin
def export(matrix_name, profile, results_dir, output, plugin):
    """Write every stored score as one row: run key, method, arch, params, scale, seed, dataset,
    metric, value, profile, code version, git revision, hardware, training seconds (and the
    teacher's). Failed model cells are one row each, their error as the note."""
    from methods import load_plugin

    from ..errors import BenchError
    from ..export import SUFFIXES, export_frame, write_export
    from ..store import ResultStore

    if Path(output).suffix.lower() not in SUFFIXES:
        raise BenchError(f"--output {output}: unknown file type {Path(output).suffix or '(none)'!r}; valid "
                         f"choices: {', '.join(SUFFIXES)}")
    for spec in plugin:
        load_plugin(spec)
    db = Path(results_dir) / "results.sqlite"
    if not db.is_file():
        raise BenchError(f"no result store at {db}: run `bench run` first")
    store = ResultStore(db)
    specs, name = None, ""
    if matrix_name is not None:
        from ..matrix import load_matrix
        from ..reporting import with_teachers

        matrix = load_matrix(matrix_name)
        names = [profile] if profile else [p.name for p in matrix.profiles]
        specs = [s for p in names for s in with_teachers(matrix.expand(p))]
        name = matrix.name
    elif profile is not None:
        raise click.UsageError("--profile applies with --matrix")
    frame = export_frame(store, specs, matrix=name)
    path = write_export(frame, output)
    scores = int(frame["metric"].notna().sum())
    click.echo(f"{path}: {len(frame)} rows ({scores} scores, {len(frame) - scores} failed cells), "
               f"{frame['run_key'].nunique()} models")
