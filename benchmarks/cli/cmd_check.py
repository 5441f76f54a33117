"""`bench check`: the regression gate (published tables, or a method against the baseline)."""

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
@click.option("--method", "new_method", default=None, metavar="ID",
              help="Gate this row id of the matrix against --against instead of the published tables.")
@click.option("--against", default=None, metavar="ID",
              help="Row id that --method is compared with, same matrix and profile [default: baseline].")
@click.option("--tolerance", "tolerance_opts", multiple=True, metavar="METRIC=VALUE",
              help="Absolute tolerance of a metric, e.g. psnr=0.1; repeatable, overrides --tolerances. "
                   "Defaults: psnr=0.05 ssim=0.002 niqe=0.1 pi=0.1 lpips=0.01 fid=2.0.")
@click.option("--tolerances", "tolerance_file", type=click.Path(dir_okay=False), default=None,
              help="YAML file mapping metric: tolerance (over the defaults).")
@click.option("--min-seeds", type=click.IntRange(min=1), default=1, show_default=True,
              help="With --method: fewer ok seeds on either side makes the row missing.")
@click.option("--strict", is_flag=True, help="Missing values (not run, failed, not computed) fail the check too.")
@options.plugin
def check(matrix_name, profile, results_dir, seeds, new_method, against, tolerance_opts, tolerance_file, min_seeds,
          strict, plugin):
    """Compare stored results with the published tables (or --method with --against).

    Exit 0 when nothing regressed, 1 on a regression beyond the tolerances (with --strict also
    on a missing value), 2 on bad input or when nothing is stored yet. A higher-better metric
    regresses when measured < reference - tol, a lower-better one when measured > reference + tol.

    Only the paper profile is compared with published numbers: for a smoke or custom profile
    the command compares nothing, says so, and exits 0. --method/--against compares two rows
    of the same matrix at the same profile and works at any profile; where per-image scores are
    stored its verdict uses the paired bootstrap 95 % interval of the gain over the test images
    (and seeds), not the bare mean: a regression only when the whole interval is worse than the
    tolerance. A failed run counts as missing (its error is shown), not as a regression.
    """
    from methods import load_plugin

    from ..check import check_against, check_published, expected_cells, parse_tolerance_option, resolve_tolerances
    from ..errors import BenchError
    from ..matrix import load_matrix
    from ..store import ResultStore

    for spec in plugin:
        load_plugin(spec)
    from ..composite import is_composite, load_composite

    if is_composite(matrix_name):  # `bench check --matrix full`: every member against its paper
        if new_method is not None:
            raise BenchError("--method/--against compare rows of one matrix; name a member matrix, not a composite")
        comp = load_composite(matrix_name)
        code = 0
        for member in comp.members:
            click.echo(f"== {member.name}")
            try:
                click.get_current_context().invoke(
                    check, matrix_name=member.source, profile=comp.profile_name(profile), results_dir=results_dir,
                    seeds=seeds, new_method=None, against=None, tolerance_opts=tolerance_opts,
                    tolerance_file=tolerance_file, min_seeds=min_seeds, strict=strict, plugin=())
            except SystemExit as exc:
                code = max(code, int(exc.code or 0))
            except BenchError as exc:
                click.echo(f"not checked: {exc}")
                code = max(code, 1 if strict else 0)
        sys.exit(code)
    overrides = dict(parse_tolerance_option(t) for t in tolerance_opts)
    tolerances = resolve_tolerances(overrides, tolerance_file)
    matrix = load_matrix(matrix_name)
    prof = matrix.profile(profile)
    specs = matrix.expand(prof.name, seeds=seeds)
    row_ids = sorted({s.id for s in specs})
    if new_method is None:
        if against is not None:
            raise BenchError("--against needs --method NEW (the row id to gate)")
        if matrix.paper is None:
            raise BenchError(f"matrix {matrix.name} has no published tables; use --method/--against")
    else:
        against = against or "baseline"
        for name, what in ((new_method, "--method"), (against, "--against")):
            if name not in row_ids:
                raise BenchError(f"{what}: unknown method id {name!r} in matrix {matrix.name}; "
                                 f"row ids: {', '.join(row_ids)}")

    run_first = f"run `bench run --matrix {matrix_name} --profile {prof.name}` first"
    db = Path(results_dir) / "results.sqlite"
    if not db.is_file():
        raise BenchError(f"no result store at {db}: {run_first}")
    frame = ResultStore(db).frame(specs, matrix=matrix.name)
    if frame.empty:
        raise BenchError(f"no stored runs of matrix {matrix.name} at profile {prof.name} in {db}: {run_first}")

    if new_method is None:
        from ..reporting import PAPER_EXTRAS, published_for

        click.echo(f"check: matrix {matrix.name}, profile {prof.name} against published {matrix.paper}")
        assumed = PAPER_EXTRAS.get(matrix.paper, {}).get("assumed_scale")
        if assumed is not None:
            click.echo(f"the paper prints no scale: its cells are compared at x{assumed} (assumed)")
        report = check_published(frame, published_for(matrix.paper), tolerances=tolerances,
                                 expected=expected_cells(specs), strict=strict)
    else:
        for name in (new_method, against):
            if not (frame["method"] == name).any():
                raise BenchError(f"no stored runs of {name!r} in matrix {matrix.name} at profile {prof.name}: "
                                 f"{run_first}")
        click.echo(f"check: matrix {matrix.name}, profile {prof.name}: {new_method} against {against}")
        images = ResultStore(db).image_frame([s for s in specs if s.id in (new_method, against)])
        report = check_against(frame, new_method, against, tolerances=tolerances, min_seeds=min_seeds,
                               strict=strict, row_ids=row_ids, images=images)
    used = sorted({r.metric for r in report.rows})
    if used and report.comparable:
        click.echo("tolerances: " + ", ".join(str(tolerances[m]) for m in used))
    click.echo(report.to_text())
    if report.failed:
        sys.exit(1)
