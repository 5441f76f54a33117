"""The report's visual comparison figures: which images, which rows, which crop, drawn where.

The images are the matrix's `figures:` choices (benchmarks/figure_spec.py), or, without any, the
test images whose per-image scores differ most between the methods (reports.figures.pick_images,
on PSNR where it is stored). The rows are HR, then the references (bicubic), the teachers and
every other row of the matrix at the figure's scale (their first seed; rows sharing a model
shown once). The crop is the chosen box, or the window where the methods' outputs differ most
(reports.figures.pick_box). Each figure is written as figures/compare_<dataset>_<image>.png and
.pdf beside the report; a figure that cannot be drawn (no saved or re-generable image, no test
data) is left out with one note saying why.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .errors import BenchError
from .figure_spec import FigureChoice
from .graph.cells import cell_key
from .spec import RunSpec
from .store import ResultStore

FIGURE_DIR = "figures"
AUTO_IMAGES = 2
SCORE_METRICS = ("psnr", "ssim", "lpips")


@dataclasses.dataclass(frozen=True)
class ComparisonFigure:
    """A drawn figure: files relative to the report folder, its caption and notes."""

    dataset: str  # as printed (Set5)
    image: str
    scale: int
    box: tuple[int, int, int, int]
    png: str
    pdf: str
    caption: str
    rows: tuple[str, ...]  # the labels shown, in order (HR first)


@dataclasses.dataclass(frozen=True)
class Figures:
    figures: tuple[ComparisonFigure, ...]
    notes: tuple[str, ...]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "x"


def figure_rows(specs: Sequence[RunSpec], store: ResultStore, scale: int) -> list[RunSpec]:
    """Rows drawn at `scale`: references, teachers, then the others in matrix order; each row id at
    its smallest seed with a finished model, and each model once."""
    at_scale = sorted((s for s in specs if s.scale == scale), key=lambda s: s.seed)
    done = store.statuses(cell_key(s.cell) for s in at_scale)
    chosen: dict[str, RunSpec] = {}
    models: set[str] = set()
    for spec in at_scale:
        if spec.id in chosen or spec.key() in models or done.get(cell_key(spec.cell)) != "ok":
            continue
        chosen[spec.id] = spec
        models.add(spec.key())
    order = [s.id for s in specs]
    rows = sorted(chosen.values(), key=lambda s: order.index(s.id))

    def rank(spec: RunSpec) -> int:
        return 0 if spec.is_reference and spec.id != "teacher" else 1 if spec.id == "teacher" else 2

    return sorted(rows, key=rank)


def compared(rows: Sequence[RunSpec]) -> list[RunSpec]:
    """The rows whose differences choose images and crops: the methods (not references, not teachers),
    or every row when fewer than two methods are shown."""
    methods = [r for r in rows if not r.is_reference and r.id != "teacher"]
    return methods if len(methods) >= 2 else list(rows)


def _image_scores(images: pd.DataFrame, rows: Sequence[RunSpec], metric: str) -> pd.DataFrame:
    labels = {r.key(): r.label for r in rows}
    part = images[(images["metric"] == metric) & images["key"].isin(labels)]
    return part.assign(label=part["key"].map(labels))[["dataset", "image", "label", "value"]]


def _auto_choices(rows: Sequence[RunSpec], images: pd.DataFrame, metrics: Sequence[str], scale: int
                  ) -> tuple[list[tuple[FigureChoice, str]], str]:
    """Up to AUTO_IMAGES choices with the reason for each, or ([], why none)."""
    from data_manifest.manifest import canonical_name

    cmp = compared(rows)
    keys = {r.key() for r in cmp}
    stored = images[images["key"].isin(keys)]
    candidates = [m for m in ("psnr", *metrics) if (stored["metric"] == m).any()]
    if len(cmp) < 2 or not candidates:
        return [], (f"no per-image scores of two or more rows at ×{scale} are stored, so no image was chosen "
                    "automatically; name one under `figures:` in the matrix")
    metric = candidates[0]
    picked = []
    for dataset, image, spread in _pick(stored, cmp, metric):
        why = (f"chosen automatically: the test image where the {len(cmp)} compared rows' {metric.upper()} "
               f"differs most (spread {spread:.3f}), cropped where their outputs differ most")
        picked.append((FigureChoice(canonical_name(dataset), image, None, scale), why))
    return picked, ""


def _pick(stored: pd.DataFrame, rows: Sequence[RunSpec], metric: str) -> list[tuple[str, str, float]]:
    from reports.figures import pick_images

    return pick_images(_image_scores(stored, rows, metric), n=AUTO_IMAGES)


def _lines(images: pd.DataFrame, key: str, dataset: str, image: str) -> tuple[tuple[str, ...], list[str]]:
    """Text under a crop ("32.15 dB / 0.9012", "LPIPS 0.123") and the metric names used."""
    sel = images[(images["key"] == key) & (images["dataset"] == dataset) & (images["image"] == image)]
    values = dict(zip(sel["metric"], sel["value"]))
    used, parts = [], []
    if pd.notna(values.get("psnr")):
        parts.append(f"{values['psnr']:.2f} dB")
        used.append("psnr")
    if pd.notna(values.get("ssim")):
        parts.append(f"{values['ssim']:.4f}")
        used.append("ssim")
    lines = [" / ".join(parts)] if parts else []
    if pd.notna(values.get("lpips")):
        lines.append(f"LPIPS {values['lpips']:.3f}")
        used.append("lpips")
    return tuple(lines) or ("no per-image score",), used


def comparison_figures(choices: Sequence[FigureChoice], specs: Sequence[RunSpec], store: ResultStore,
                       results_dir: Path, out_dir: Path, images: pd.DataFrame, metrics: Sequence[str],
                       metric_info: Mapping[str, Mapping] | None = None, data_dir: str | None = None) -> Figures:
    """Draw the figures (see the module docstring); `images` is the store's per-image frame of
    `specs` (teachers included)."""
    from data_manifest.names import display_name

    from .sr_outputs import REGENERATED, ModelOutputs

    info = metric_info or {}
    scales = sorted({s.scale for s in specs})
    if not scales:
        return Figures((), ())
    outputs = ModelOutputs(store, results_dir, data_dir)
    evaluated = {ds for s in specs for ds in s.eval_sets}
    notes: list[str] = []
    todo: list[tuple[FigureChoice, str]] = []
    for choice in choices:
        scale = choice.scale or scales[0]
        where = f"figure {display_name(choice.dataset)} {choice.image}"
        if scale not in scales:
            notes.append(f"{where}: not drawn: ×{scale} is not run in this profile (it runs "
                         f"{', '.join(f'×{s}' for s in scales)}).")
        elif choice.dataset not in evaluated:
            notes.append(f"{where}: not drawn: {display_name(choice.dataset)} is not evaluated in this profile.")
        else:
            todo.append((dataclasses.replace(choice, scale=scale), "chosen in the matrix (`figures:`)"
                         + ("" if choice.box else "; crop chosen where the methods' outputs differ most")))
    if not choices:
        auto, why = _auto_choices(figure_rows(specs, store, scales[0]), images, metrics, scales[0])
        todo, notes = auto, [why] if why else []
    seen = [(c.dataset, c.image) for c, _ in todo]
    figures, failed = [], {}  # error -> the figures it stopped
    for choice, why in todo:
        try:
            figures.append(_draw(choice, why, specs, store, outputs, images, info, out_dir,
                                 several=seen.count((choice.dataset, choice.image)) > 1))
        except (BenchError, OSError, ValueError) as exc:
            failed.setdefault(str(exc), []).append(f"{display_name(choice.dataset)} {choice.image}")
    notes += [f"figure{'s' if len(names) > 1 else ''} {', '.join(names)}: not drawn: {error}"
              for error, names in failed.items()]
    if any(REGENERATED in f.caption for f in figures):
        notes.append("SR crops were re-generated from the stored models on this machine (no `--save-images` "
                     "PNG was found); they are the same uint8-rounded outputs the scores were computed on, "
                     "up to floating-point differences between devices.")
    return Figures(tuple(figures), tuple(notes))


def _draw(choice: FigureChoice, why: str, specs: Sequence[RunSpec], store: ResultStore, outputs, images,
          info: Mapping[str, Mapping], out_dir: Path, several: bool) -> ComparisonFigure:
    from data_manifest.names import display_name
    from reports.figures import Panel, draw_comparison, pick_box

    from .sr_outputs import REGENERATED

    scale = int(choice.scale)
    rows = figure_rows(specs, store, scale)
    if not rows:
        raise BenchError(f"no finished row at ×{scale}")
    shown = display_name(choice.dataset)
    hr = outputs.hr(choice.dataset, scale, choice.image)
    srs, sources = {}, set()
    for row in rows:
        srs[row.key()], source = outputs.sr(row, choice.dataset, choice.image)
        sources.add(source)
        if srs[row.key()].shape != hr.shape:
            raise BenchError(f"{row.label}'s output is {srs[row.key()].shape[1]}x{srs[row.key()].shape[0]}, "
                             f"HR is {hr.shape[1]}x{hr.shape[0]}")
    box = choice.box
    if box is None:
        cmp = compared(rows)
        box = (pick_box([srs[r.key()] for r in cmp], border=scale) if len(cmp) >= 2 else
               pick_box([hr, srs[rows[0].key()]], border=scale))
    x, y, w, h = box
    if x + w > hr.shape[1] or y + h > hr.shape[0]:
        raise BenchError(f"box {list(box)} lies outside the HR image ({hr.shape[1]}x{hr.shape[0]} after modcrop)")
    used: list[str] = []
    panels = [Panel("HR", hr, ("reference",), reference=True)]
    for row in rows:
        lines, got = _lines(images, row.key(), shown, choice.image)
        used += [m for m in got if m not in used]
        panels.append(Panel(row.label, srs[row.key()], lines))
    stem = f"compare_{_slug(shown)}_{_slug(choice.image)}" + (f"_x{scale}" if several else "")
    folder = out_dir / FIGURE_DIR
    draw_comparison(hr, box, panels, "", folder / f"{stem}.png", folder / f"{stem}.pdf")
    names = " / ".join(str(info.get(m, {}).get("label", m.upper())) for m in used if m != "lpips")
    scores = (f"under each crop: the row's {names} on the whole image" if names else "no per-image scores stored")
    if "lpips" in used:
        scores += " and its LPIPS (lower is better)"
    caption = (f"{shown} {choice.image}, ×{scale}: the crop x={x}, y={y}, {w}×{h} (red box, HR pixels) of HR, "
               f"the references, the teacher(s) and every method; {scores} (SR convention). {why[0].upper()}{why[1:]}."
               + (f" Images {REGENERATED} from the stored models." if REGENERATED in sources else ""))
    return ComparisonFigure(shown, choice.image, scale, tuple(box), f"{FIGURE_DIR}/{stem}.png",
                            f"{FIGURE_DIR}/{stem}.pdf", caption, tuple(p.label for p in panels))
