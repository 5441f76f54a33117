"""Options shared by several commands, so each is spelled and documented once."""

from __future__ import annotations

import click

data_dir = click.option(
    "--data-dir", type=click.Path(file_okay=False), envvar="BENCH_DATA_DIR", default=None,
    help="EDSR-layout folder with the datasets (or $BENCH_DATA_DIR). Embedded sets need none.")
results_dir = click.option(
    "--results-dir", type=click.Path(file_okay=False), envvar="BENCH_RESULTS_DIR", default="bench-results",
    show_default=True, help="Where the result store, checkpoints and reports go (or $BENCH_RESULTS_DIR).")
matrix = click.option(
    "--matrix", "matrix_name", default="quick", show_default=True,
    help="A shipped matrix name (see `bench ls matrices`) or a path to a matrix YAML file.")
profile = click.option(
    "--profile", default=None, help="Training profile defined by the matrix: smoke or paper [default: the matrix's].")
weights_dir = click.option(
    "--weights-dir", type=click.Path(file_okay=False), default=None,
    help="Folder of weight files, looked in before $BENCH_WEIGHTS_DIR: official teacher checkpoints "
         "(e.g. edsr_x2-0edfb8a3.pt) and learned metrics' weights.")
device = click.option(
    "--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
plugin = click.option(
    "--plugin", multiple=True, metavar="MODULE_OR_FILE",
    help="Import a user's method module (dotted name or .py path) before reading the matrix; repeatable.")


def csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]
