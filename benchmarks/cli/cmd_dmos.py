"""`bench dmos export|score`: blinded DMOS studies (SRGAN-KD paper, Tables 3-4)."""

from __future__ import annotations

from pathlib import Path

import click

from . import main


@main.group("dmos")
def dmos() -> None:
    """Subjective study: export blinded images, then score the raters' CSV as DMOS."""


def _parse_methods(values: tuple[str, ...]) -> dict[str, Path]:
    from ..errors import BenchError

    out: dict[str, Path] = {}
    for v in values:
        label, sep, folder = v.partition("=")
        label, folder = label.strip(), folder.strip()
        if not sep or not label or not folder:
            raise BenchError(f"--method expects LABEL=SR_DIR, got {v!r}")
        if label in out:
            raise BenchError(f"--method label {label!r} given twice")
        out[label] = Path(folder)
    return out


@dmos.command("export")
@click.option("--method", "method_specs", multiple=True, metavar="LABEL=SR_DIR",
              help="A method's label and its folder of SR images (repeat per method).")
@click.option("--hr", "hr_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the HR reference images (same file names).")
@click.option("--matrix", "matrix_name", default=None,
              help="Instead of --method/--hr: the finished runs of this matrix (run with --save-images).")
@click.option("--profile", default=None, help="With --matrix: the profile of the runs.")
@click.option("--results-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("bench-results"),
              show_default=True, help="With --matrix: where the runs are.")
@click.option("--dataset", default=None,
              help="With --matrix: the test set whose outputs are rated; several, comma-separated, or "
                   "'all' (the matrix's test sets): the images are picked among them together.")
@click.option("--rows", default=None, metavar="ID,ID",
              help="With --matrix: only these row ids (e.g. gan2gan,gan2g,gan2g-al,g2g-al).")
@click.option("--scale", type=int, default=None, help="With --matrix: the scale.")
@click.option("--n", "n", type=click.IntRange(min=1), default=10, show_default=True,
              help="Number of test images to pick.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the picks, ids and order.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: study/ (for raters) and key.csv (keep hidden).")
@click.option("--embed-images", is_flag=True, help="Embed the images in rate.html (one single file).")
def export_cmd(method_specs: tuple[str, ...], hr_dir: Path | None, matrix_name: str | None,
               profile: str | None, results_dir: Path, dataset: str | None, rows: str | None,
               scale: int | None, n: int, seed: int, out_dir: Path, embed_images: bool) -> None:
    """Pick N images and write every method's output and the HR image, blinded and shuffled.

    Give either --method LABEL=SR_DIR (repeatable) with --hr, or --matrix with --dataset and --scale.
    """
    from ..dmos.export import export_study
    from ..errors import BenchError

    if matrix_name:
        if method_specs or hr_dir or not dataset or not scale:
            raise BenchError("--matrix takes --dataset and --scale, and excludes --method/--hr")
        from ..dmos.from_runs import study_inputs

        sets = dataset if dataset == "all" else [d.strip() for d in dataset.split(",") if d.strip()]
        row_ids = [r.strip() for r in (rows or "").split(",") if r.strip()]
        methods, hr_dir = study_inputs(matrix_name, profile, results_dir, sets, scale, row_ids)
    elif method_specs and hr_dir:
        methods = _parse_methods(method_specs)
    else:
        raise BenchError("give --method LABEL=SR_DIR (repeatable) with --hr HR_DIR, or --matrix with --dataset/--scale")
    res = export_study(methods, hr_dir, out_dir, n=n, seed=seed, embed_images=embed_images)
    click.echo(f"wrote {res.n_items} blinded images of {len(res.images)} test images to {res.study_dir}")
    click.echo(f"picked (seed {seed}, recorded in {out_dir / 'study.json'}): {', '.join(res.images)}")
    click.echo(f"rating page: {res.html_path}  (give raters the folder {res.study_dir})")
    click.echo(f"hidden key:  {res.key_path}  (do not share)")


@dmos.command("score")
@click.argument("ratings", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="key.csv written by `bench dmos export`.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV in Table 3 layout (rows images + Mean, columns methods); default "
                   "dmos.csv next to the key. A dmos.json with every detail goes beside it.")
@click.option("--ddof", type=click.IntRange(0, 1), default=1, show_default=True,
              help="Standard deviation of eq. 5: 1 = sample (MATLAB std), 0 = population.")
@click.option("--inverted", is_flag=True,
              help="Print 100 - DMOS (higher = better, the paper's reading) instead of eqs. 4-6.")
@click.option("--with-pi", is_flag=True, help="Also compute mean PI per method on the study's images (Table 4).")
@click.option("--weights-dir", type=click.Path(file_okay=False), default=None,
              help="Directory of metric weight files (for --with-pi).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML page with the Table 3 (and 4) layout; default dmos.html next to the key.")
@click.option("--results-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also store the per (method, image) DMOS in DIR/results.sqlite (table dmos), "
                   "study name = the key's folder name.")
def score_cmd(ratings: Path, key_path: Path, output: Path | None, ddof: int, inverted: bool,
              with_pi: bool, weights_dir: str | None, html_path: Path | None,
              results_dir: Path | None) -> None:
    """Compute DMOS from RATINGS (CSV: rater,image_id,score; every rater rates every image)."""
    from ..dmos import score as S

    result = S.score_files(key_path, ratings, ddof=ddof)
    mean_pi = None
    if with_pi:
        from ..metrics import configure

        configure(weights_dir=weights_dir)
        mean_pi, pi_note = S.study_mean_pi(key_path)
        click.echo(pi_note if all(v is not None for v in mean_pi.values()) else f"PI not computed: {pi_note}",
                   err=not all(v is not None for v in mean_pi.values()))
    click.echo(S.render_tables(result, mean_pi, inverted=inverted))
    out = output or key_path.parent / "dmos.csv"
    json_path = out.with_suffix(".json")
    S.save(result, out, json_path, mean_pi)
    click.echo(f"\nwrote {out} and {json_path}")
    from ..dmos.report import render_dmos_html, store_dmos

    page = render_dmos_html(result, html_path or key_path.parent / "dmos.html", mean_pi, inverted=inverted)
    click.echo(f"wrote {page}")
    if results_dir is not None:
        study = key_path.resolve().parent.name
        db = results_dir / "results.sqlite"
        n = store_dmos(db, study, result)
        click.echo(f"stored {n} DMOS rows of study {study!r} in {db}")
