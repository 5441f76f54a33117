"""`bench eval`: score one model (trained, zoo checkpoint or bicubic) in the SR convention."""

from __future__ import annotations

import csv
from pathlib import Path

import click
import yaml

from ..errors import BenchError
from . import main, options


def _arch_options(pairs: tuple[str, ...]) -> dict[str, object]:
    opts: dict[str, object] = {}
    for pair in pairs:
        if "=" not in pair:
            raise BenchError(f"--arch-opt: expected KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        opts[key.strip()] = yaml.safe_load(value)
    return opts


@main.command(name="eval")
@click.option("--arch", required=True, help="Architecture name (see `bench ls archs`), e.g. edsr, imdn, carn-m, bicubic.")
@click.option("--weights", type=click.Path(dir_okay=False), default=None, help="Checkpoint (state_dict) to load.")
@click.option("--scale", type=click.Choice(["2", "3", "4", "8"]), required=True, help="Upscaling factor.")
@click.option("--datasets", default="Set5,Set14,B100,Urban100", show_default=True, help="Comma-separated datasets.")
@click.option("--metrics", default="psnr,ssim", show_default=True, help="Comma-separated metrics.")
@click.option("--arch-opt", multiple=True, metavar="KEY=VALUE", help="Architecture size option; repeatable.")
@options.data_dir
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="CSV with rows dataset,scale,metric,value; per-image scores go to OUTPUT stem + '.per_image.csv'.")
@click.option("--save-images", type=click.Path(file_okay=False), default=None, help="Folder for the SR outputs.")
@options.device
@click.option("--quiet", is_flag=True, help="No progress bars.")
def evaluate(arch, weights, scale, datasets, metrics, arch_opt, data_dir, output, save_images, device, quiet):
    """Evaluate a model: modcrop, official LR, uint8 output, Y channel, border = scale."""
    from data_manifest.names import canonical_name

    from ..archs import build_arch, count_params
    from ..archs.zoo import load_pretrained
    from ..evaluate import evaluate_model
    from ..metrics import get_metric
    from ..runner import RunContext

    s = int(scale)
    opts = _arch_options(arch_opt)
    names = [canonical_name(d) for d in options.csv_list(datasets)]
    metric_names = options.csv_list(metrics)
    for m in metric_names:
        get_metric(m)
    if weights:
        from ..checkpoint_files import find  # a bare official name is looked up in the weights folders

        model = load_pretrained(arch, find(weights) or weights, s, **opts)
    else:
        model = build_arch(arch, s, **opts)
        if count_params(model) > 0:
            raise BenchError(f"arch {arch!r} has {count_params(model):,} parameters: give --weights FILE")
    torch_device = RunContext(results_dir=Path("."), device=device).torch_device()
    set_scores, image_scores = evaluate_model(model, s, names, metric_names, data_dir, torch_device,
                                              save_dir=Path(save_images) if save_images else None,
                                              progress=not quiet)
    rgb_range = float(getattr(model, "rgb_range", 1.0))  # from the checkpoint's mean shift (archs/pretrained.py)
    click.echo(f"{arch} x{s} ({count_params(model):,} params" + (f"; weights for pixel range [0, {rgb_range:g}]"
                                                                  if rgb_range != 1 else "") + ")")
    for score in set_scores:
        value = f"{score.value:.4f}" if score.value is not None else "not computed"
        click.echo(f"  {score.dataset:<12} {score.metric:<6} {value}" + (f"   [{score.note}]" if score.note else ""))
    if output:
        out = Path(output)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["dataset", "scale", "metric", "value"])
            for score in set_scores:
                writer.writerow([score.dataset, s, score.metric, "" if score.value is None else repr(score.value)])
        per_image = out.with_name(out.stem + ".per_image.csv")
        with per_image.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["dataset", "scale", "image", "metric", "value"])
            for img in image_scores:
                writer.writerow([img.dataset, s, img.image, img.metric, repr(img.value)])
        click.echo(f"wrote {out} and {per_image}")
