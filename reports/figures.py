"""Visual comparison figures, as in every SR paper: one test image, the same zoomed crop from HR,
bicubic, the teacher and every method side by side, each with its scores on that image.

Pure functions of arrays and frames (no model, no store): `pick_images` chooses the test images
where the methods' per-image scores differ most, `pick_box` the crop where their outputs differ
most (the per-pixel spread of the methods' high-pass luminance, summed over a window), and
`draw_comparison` writes the figure as PNG (for the HTML report) and PDF (for a paper).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

BOX_COLOR = "#e8131b"
_CROP_IN = 1.55  # inches per crop panel
_TEXT_IN = 0.5  # inches of text under a crop
DETAIL_SIZE = 7  # the local mean `detail` removes (pixels)


@dataclass(frozen=True)
class Panel:
    """One crop of the figure: its row label, the whole image (uint8 HxWx3) and text lines."""

    label: str
    image: np.ndarray
    lines: tuple[str, ...] = ()
    reference: bool = False  # HR: framed differently


def luminance(image: np.ndarray) -> np.ndarray:
    """BT.601 luma of a uint8 RGB image, float64 in [16, 235] (the SR convention's Y)."""
    rgb = np.asarray(image, dtype=np.float64)
    if rgb.ndim == 2:
        return rgb
    return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0


def pick_images(scores: pd.DataFrame, n: int = 2) -> list[tuple[str, str, float]]:
    """The `n` (dataset, image) pairs whose per-image scores spread most across the rows.

    `scores` has columns dataset, image, label, value (one metric, one scale, the rows compared).
    Spread = max - min over the rows; ties broken by dataset then image name, so the choice is
    stable. Images scored by fewer than two rows are left out."""
    clean = scores.dropna(subset=["value"])
    if clean.empty:
        return []
    per = clean.groupby(["dataset", "image"], sort=False)["value"].agg(["max", "min", "count"])
    per = per[per["count"] >= 2]
    spread = (per["max"] - per["min"]).rename("spread").reset_index()
    spread = spread.sort_values(["spread", "dataset", "image"], ascending=[False, True, True], kind="stable")
    return [(str(r.dataset), str(r.image), float(r.spread)) for r in spread.head(n).itertuples()]


def box_side(shape: tuple[int, ...], fraction: float = 0.2, lo: int = 24, hi: int = 120) -> int:
    """The side of an automatic square crop: `fraction` of the shorter side, within [lo, hi]."""
    short = min(shape[0], shape[1])
    return int(max(min(round(short * fraction), hi), min(lo, short)))


def detail(image: np.ndarray, size: int = DETAIL_SIZE) -> np.ndarray:
    """High-pass luminance: Y minus its local mean over `size` x `size` pixels. Edges and texture
    stay; a flat colour or brightness shift (which says little about SR quality) is removed."""
    from scipy.ndimage import uniform_filter

    y = luminance(image)
    return y - uniform_filter(y, size=size, mode="reflect")


def pick_box(images: Sequence[np.ndarray], side: int | None = None, border: int = 0) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the square window where the images' details disagree most.

    Disagreement per pixel: the standard deviation across the images of their high-pass luminance
    (`detail`: reconstructed edges and texture, not flat colour shifts); the window maximises its
    sum (an integral image, every position). `border` pixels on every side are never in the window
    (the SR convention's shave). Ties go to the top-left-most window."""
    if len(images) < 2:
        raise ValueError("pick_box needs at least two images to compare")
    shapes = {img.shape[:2] for img in images}
    if len(shapes) != 1:
        raise ValueError(f"images differ in size: {sorted(shapes)}")
    h, w = shapes.pop()
    side = side or box_side((h, w))
    inner_h, inner_w = h - 2 * border, w - 2 * border
    side = min(side, inner_h, inner_w)
    if side < 1:
        raise ValueError(f"image {w}x{h} too small for a crop inside a {border}-pixel border")
    spread = np.stack([detail(img) for img in images]).std(axis=0)
    spread = spread[border:h - border, border:w - border]
    integral = np.pad(spread.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = (integral[side:, side:] - integral[:-side, side:] - integral[side:, :-side] + integral[:-side, :-side])
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(x) + border, int(y) + border, side, side


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return image[y:y + h, x:x + w]


def _grid(n: int, max_cols: int) -> tuple[int, int]:
    rows = -(-n // max_cols)
    return rows, -(-n // rows)


def draw_comparison(hr: np.ndarray, box: tuple[int, int, int, int], panels: Sequence[Panel], title: str,
                    out_png: Path | str, out_pdf: Path | str | None = None, max_cols: int = 6) -> Path:
    """The whole HR image with the box on the left, the crops of every panel on the right in a
    grid (at most `max_cols` per row), each with its label and text lines below; PNG (and PDF)."""
    if not panels:
        raise ValueError("a comparison figure needs at least one panel")
    rows, cols = _grid(len(panels), max_cols)
    x, y, w, h = box
    aspect = h / w
    crop_h = _CROP_IN * aspect + _TEXT_IN
    top = 0.45 if title else 0.08  # inches above the grid
    height = top + rows * crop_h  # the last row's text lies below the grid
    over_w = min(height * hr.shape[1] / hr.shape[0], 3.6 * max(1, rows))
    fig = Figure(figsize=(over_w + cols * _CROP_IN + 0.3, height), dpi=150)
    FigureCanvasAgg(fig)
    spec = fig.add_gridspec(rows, cols + 1, width_ratios=[over_w / _CROP_IN] + [1.0] * cols,
                            left=0.01, right=0.99, top=1 - top / height, bottom=_TEXT_IN / height, wspace=0.06,
                            hspace=_TEXT_IN / (_CROP_IN * aspect))
    over = fig.add_subplot(spec[:, 0])
    over.imshow(hr, interpolation="lanczos")
    over.add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False, edgecolor=BOX_COLOR, linewidth=1.6))
    over.set_axis_off()
    for k, panel in enumerate(panels):
        ax = fig.add_subplot(spec[k // cols, 1 + k % cols])
        ax.imshow(crop(panel.image, box), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_edgecolor(BOX_COLOR if panel.reference else "#777777")
            side.set_linewidth(1.2 if panel.reference else 0.6)
        text = "\n".join((panel.label,) + tuple(panel.lines))
        ax.set_xlabel(text, fontsize=7, linespacing=1.25, labelpad=3, parse_math=False)
    if title:
        fig.suptitle(title, fontsize=9, parse_math=False)
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, format="png")
    if out_pdf is not None:
        fig.savefig(out_pdf, format="pdf")
    return out_png
