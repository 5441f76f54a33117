"""`bench score`: score a folder of images produced anywhere with the harness's metrics."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import click

from . import main

def _images(folder: Path) -> list[Path]:
    from data_manifest.pixels import IMAGE_EXTS

    return [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_EXTS]


def _match_ref(sr: Path, ref_dir: Path) -> Path:
    """Same file name, else the same stem with another image extension (e.g. .png vs .bmp)."""
    from data_manifest.pixels import find_image

    from ..errors import MissingFileError

    found = find_image(ref_dir, sr.stem, preferred_ext=sr.suffix.lower())
    if found is None:
        raise MissingFileError(f"no reference image for {sr.name}: {ref_dir / sr.name} not found")
    return found


@main.command("score")
@click.argument("sr_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--metrics", "metric_names", default="psnr,ssim", show_default=True,
              help="Comma-separated metric names (see the registry: psnr, ssim, niqe, nrqm, pi, "
                   "lpips, lpips-vgg, fid, fid-patch).")
@click.option("--ref", "ref_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Folder of reference (HR) images, matched by file name.")
@click.option("--crop-border", type=click.IntRange(min=0), default=0, show_default=True,
              help="Pixels shaved on every side before measuring.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV: one row per image, column 'image' then one column per metric.")
@click.option("--weights-dir", type=click.Path(file_okay=False), default=None,
              help="Directory of metric weight files (see `bench weights`).")
@click.option("--device", default=None, help="torch device for learned metrics (default: cuda if available).")
def score_cmd(sr_dir: Path, metric_names: str, ref_dir: Path | None, crop_border: int,
              output: Path | None, weights_dir: str | None, device: str | None) -> None:
    """Score the images in SR_DIR (PSNR/SSIM on the Y channel; no-reference metrics need no --ref).

    A metric that cannot run here (e.g. its weights are missing offline) is reported on one
    line and left empty ("not computed") in the CSV; the other metrics are still computed.
    Set-level metrics (fid, fid-patch) have no per-image values: they are printed with the
    means and written to the summary file next to the CSV.
    """
    from data_manifest.pixels import decode_rgb

    from ..errors import BenchError
    from ..metrics import configure, get_metric, score_all

    names = [m.strip() for m in metric_names.split(",") if m.strip()]
    if not names:
        raise BenchError("--metrics is empty")
    if len(set(names)) != len(names):
        raise BenchError(f"--metrics lists a metric twice: {metric_names}")
    metrics = [get_metric(n) for n in names]
    needing = [m.name for m in metrics if m.needs_ref]
    if needing and ref_dir is None:
        raise BenchError(f"metric(s) {', '.join(needing)} need reference images: pass --ref REF_DIR")
    configure(weights_dir=weights_dir, device=device)

    sr_paths = _images(sr_dir)
    if not sr_paths:
        raise BenchError(f"no images in {sr_dir}")
    srs = [decode_rgb(p) for p in sr_paths]
    hrs = None
    if ref_dir is not None:
        hrs = []
        for sp, sr in zip(sr_paths, srs):
            rp = _match_ref(sp, ref_dir)
            hr = decode_rgb(rp)
            if hr.shape != sr.shape:
                raise BenchError(f"{sp.name}: SR is {sr.shape[1]}x{sr.shape[0]} but reference {rp} is "
                                 f"{hr.shape[1]}x{hr.shape[0]} (modcrop the reference to the SR size)")
            hrs.append(hr)
    for sr in srs:
        if min(sr.shape[:2]) <= 2 * crop_border:
            raise BenchError(f"--crop-border {crop_border} leaves nothing of a {sr.shape[1]}x{sr.shape[0]} image")

    results, missing = score_all(names, srs, hrs, crop_border)
    for name in names:
        if name in missing:
            click.echo(f"not computed: {missing[name]}", err=True)

    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        with open(output, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["image"] + names)
            for i, p in enumerate(sr_paths):
                row = [p.name]
                for name in names:
                    r = results.get(name)
                    v = r.per_image[i] if r is not None and r.per_image is not None else None
                    row.append("" if v is None or math.isnan(v) else repr(float(v)))
                w.writerow(row)
        summary = output.with_name(output.stem + "_summary.csv")
        with open(summary, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["metric", "value", "lower_better", "set_level", "status", "note"])
            for m in metrics:
                r = results.get(m.name)
                w.writerow([m.name, "" if r is None or math.isnan(r.mean) else repr(r.mean),
                            int(m.lower_better), int(m.set_level),
                            "computed" if r is not None else "not computed",
                            r.note if r is not None else missing.get(m.name, "")])

    width = max(len(n) for n in names)
    click.echo(f"{len(srs)} image(s) in {sr_dir}" + (f" vs {ref_dir}" if ref_dir else "")
               + f", crop border {crop_border}")
    for m in metrics:
        r = results.get(m.name)
        arrow = "lower is better" if m.lower_better else "higher is better"
        if r is None:
            click.echo(f"{m.name.ljust(width)}  not computed (reason above)")
            continue
        label = "set value" if m.set_level else "mean"
        note = f"  [{r.note}]" if r.note else ""
        click.echo(f"{m.name.ljust(width)}  {label} {r.mean:.4f}  ({arrow}){note}")
    if output is not None:
        click.echo(f"wrote {output} and {output.with_name(output.stem + '_summary.csv')}")
