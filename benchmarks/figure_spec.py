"""The `figures:` field of a matrix: which test images (and crops) the visual comparison shows.

    figures:
      - {dataset: Urban100, image: img_092, box: [x, y, w, h]}   # crop in HR pixels
      - {dataset: Set14, image: barbara, scale: 4}                 # crop chosen automatically

Without `figures:` the report picks the images and the crop where the methods differ most.
`scale` defaults to the smallest scale the profile runs; the box is checked against the image's
size where the manifest records it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .errors import BenchError

_FIELDS = {"dataset", "image", "box", "scale"}
MIN_SIDE = 4


@dataclasses.dataclass(frozen=True)
class FigureChoice:
    """One visual comparison: an image of a test set, optionally its crop box and scale."""

    dataset: str  # canonical manifest name
    image: str
    box: tuple[int, int, int, int] | None = None  # x, y, w, h in (modcropped) HR pixels
    scale: int | None = None


def parse_figures(raw: Any, where: str, valid_scales: tuple[int, ...] = (2, 3, 4, 8)) -> tuple[FigureChoice, ...]:
    """Validate the matrix's `figures:` list; one-line BenchErrors name the entry and field."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise BenchError(f"{where}: expected a list of {{dataset, image, box?, scale?}}, got {raw!r}")
    return tuple(_entry(item, f"{where}[{i}]", valid_scales) for i, item in enumerate(raw))


def _entry(item: Any, where: str, valid_scales: tuple[int, ...]) -> FigureChoice:
    from data_manifest.manifest import canonical_name, dataset_info

    if not isinstance(item, Mapping):
        raise BenchError(f"{where}: expected a mapping {{dataset, image, box?, scale?}}, got {item!r}")
    unknown = set(item) - _FIELDS
    if unknown:
        raise BenchError(f"{where}: unknown field {min(unknown)!r}; valid fields: {', '.join(sorted(_FIELDS))}")
    for name in ("dataset", "image"):
        if not isinstance(item.get(name), str) or not item[name].strip():
            raise BenchError(f"{where}: missing field {name!r} (a name)")
    dataset = canonical_name(item["dataset"])
    info = dataset_info(dataset)
    if info.kind != "eval":
        raise BenchError(f"{where}: dataset {item['dataset']!r} is a training set; figures show test images")
    image = item["image"]
    sizes = {e.name: e.size for e in info.images}
    if sizes and image not in sizes:
        names = ", ".join(list(sizes)[:6]) + (", ..." if len(sizes) > 6 else "")
        raise BenchError(f"{where}: image: unknown image {image!r} in {info.name}; valid choices: {names}")
    scale = item.get("scale")
    if scale is not None and (isinstance(scale, bool) or scale not in valid_scales):
        raise BenchError(f"{where}: scale: unknown value {scale!r}; valid choices: "
                         f"{', '.join(map(str, valid_scales))}")
    box = _box(item.get("box"), f"{where}: box", sizes.get(image))
    return FigureChoice(dataset=dataset, image=image, box=box, scale=scale)


def _box(raw: Any, where: str, size: tuple[int, int] | None) -> tuple[int, int, int, int] | None:
    if raw is None:
        return None
    if (not isinstance(raw, list) or len(raw) != 4
            or any(isinstance(v, bool) or not isinstance(v, int) for v in raw)):
        raise BenchError(f"{where}: expected [x, y, w, h] (four integers, HR pixels), got {raw!r}")
    x, y, w, h = raw
    if x < 0 or y < 0 or w < MIN_SIDE or h < MIN_SIDE:
        raise BenchError(f"{where}: expected x, y >= 0 and w, h >= {MIN_SIDE}, got {raw!r}")
    if size is not None and (x + w > size[1] or y + h > size[0]):
        raise BenchError(f"{where}: {raw!r} lies outside the image ({size[1]}x{size[0]} pixels, width x height)")
    return (x, y, w, h)
