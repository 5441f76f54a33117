"""`bench weights`: each learned metric's files, where they are looked for, present or not."""

from __future__ import annotations

import click

from . import main


@main.command("weights")
@click.option("--weights-dir", type=click.Path(file_okay=False), default=None,
              help="Directory of weight files (looked in before BENCH_WEIGHTS_DIR and the "
                   "libraries' caches).")
@click.option("--metrics", "metric_names", default=None,
              help="Comma-separated metrics (default: every metric with weight files).")
@click.option("--no-checksum", is_flag=True, help="Skip hashing the files found.")
def weights_cmd(weights_dir: str | None, metric_names: str | None, no_checksum: bool) -> None:
    """List per metric each weight file, where it is looked for, presence, sha256 and URL.

    Never downloads. Metrics whose files are missing are reported as not computed by
    `bench score` and the runs; put the files in a directory and pass --weights-dir DIR (or
    set BENCH_WEIGHTS_DIR), or let the libraries download them on a machine with internet.
    """
    from ..errors import BenchError
    from ..metrics import METRICS
    from ..metrics import weights as W

    names = None
    if metric_names:
        names = [m.strip() for m in metric_names.split(",") if m.strip()]
        for m in names:
            METRICS.get(m)  # unknown names -> BenchError listing the choices
            if m not in W.WEIGHT_FILES:
                raise BenchError(f"metric {m!r} needs no weight files")
    rows = W.status(names, weights_dir, with_checksums=not no_checksum)
    header = ["metric", "file", "present", "sha256", "url"]
    table = []
    for r in rows:
        sha = "-"
        if r.sha256:
            sha = f"{r.sha256[:12]} ({r.checksum})"
        elif r.found is not None:
            sha = "(not hashed)"
        table.append([r.metric, r.file.filename, "yes" if r.found else "no", sha, r.file.url])
    widths = [max(len(str(c)) for c in col) for col in zip(header, *table)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    click.echo(line(header))
    click.echo(line(["-" * w for w in widths]))
    for r, cells in zip(rows, table):
        click.echo(line(cells))
        where = f"found: {r.found}" if r.found else "missing"
        click.echo(f"    {where}; looked in: " + ", ".join(str(p.parent) for p in r.looked_in))
    missing = sorted({r.file.filename for r in rows if not r.found})
    if missing:
        click.echo(f"\n{len(missing)} file(s) missing: {', '.join(missing)}. Download them from the "
                   "URLs above into a directory and pass --weights-dir DIR or set "
                   f"{W.ENV_WEIGHTS_DIR}=DIR.")
