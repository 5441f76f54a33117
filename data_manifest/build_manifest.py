"""Regenerate the `images` of datasets.yaml from local copies (the pixel hashes); other fields kept.

    python -m data_manifest.build_manifest --shared ../shared/data

Pinned from files: set5, set14, b100, urban100 (HR + official LR), div2k-valid-center256 and
bsd200; from the installed scikit-image: embedded-train / embedded-test; names only: DIV2K.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from .embedded import skimage_data_dir
from .manifest import MANIFEST_PATH, read_manifest_yaml
from .pixels import decode_rgb, file_sha256, list_images, pixel_sha256

# Embedded sets: (name, file in skimage/data, license as stated in skimage.data's docstrings).
EMBEDDED_TEST_MAX = 384
EMBEDDED_TRAIN_MAX = 480
EMBEDDED_TEST = [
    ("astronaut", "astronaut.png", "public domain (NASA)"),
    ("camera", "camera.png", "CC0 (Lav Varshney)"),
    ("chelsea", "chelsea.png", "CC0 (Stefan van der Walt)"),
    ("coffee", "coffee.png", "CC0 (Rachel Michetti)"),
]
EMBEDDED_TRAIN = [
    ("motorcycle_left", "motorcycle_left.png", "Middlebury stereo 2014, research use"),
    ("motorcycle_right", "motorcycle_right.png", "Middlebury stereo 2014, research use"),
    ("ihc", "ihc.png", "no known copyright restrictions"),
    ("rocket", "rocket.jpg", "public domain (SpaceX)"),
    ("hubble_deep_field", "hubble_deep_field.jpg", "public domain (NASA)"),
    ("retina", "retina.jpg", "CC0 (Haggstrom)"),
    ("coins", "coins.png", "no known copyright restrictions"),
    ("moon", "moon.png", "no known copyright restrictions"),
    ("brick", "brick.png", "CC0 (CC0Textures)"),
    ("grass", "grass.png", "CC0 (CC0Textures)"),
    ("gravel", "gravel.png", "CC0 (CC0Textures)"),
]
PINNED_FROM_SHARED = {
    "set5": "sr-benchmark/Set5",
    "set14": "sr-benchmark/Set14",
    "b100": "sr-benchmark/B100",
    "urban100": "sr-benchmark/Urban100",
    "div2k-valid-center256": "sr-train/DIV2K_valid_HR_center256",
    "bsd200": "sr-train/BSD200",
}


class _Flow(dict):
    """A mapping dumped on one line (one image entry per line keeps the YAML readable)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, lambda d, m: d.represent_mapping("tag:yaml.org,2002:map", m.items(), flow_style=True))
_Dumper.add_representer(dict, lambda d, m: d.represent_mapping("tag:yaml.org,2002:map", m.items(), flow_style=False))
_Dumper.add_representer(
    list,
    lambda d, s: d.represent_sequence(
        "tag:yaml.org,2002:seq", s, flow_style=all(isinstance(x, (int, str)) for x in s) and len(s) < 5
    ),
)


def centre_crop_box(h: int, w: int, max_side: int) -> tuple[int, int, int, int]:
    """(top, left, height, width): centred, sides <= max_side and multiples of 12 (x2/x3/x4)."""
    ch, cw = min(h, max_side) // 12 * 12, min(w, max_side) // 12 * 12
    return (h - ch) // 2, (w - cw) // 2, ch, cw


def edsr_images(root: Path, hr_dir: str, lr_scales: list[int]) -> list[_Flow]:
    """Entries for the images of an EDSR-layout folder: HR size and hash, official LR hashes."""
    out = []
    for path in list_images(root / hr_dir):
        hr = decode_rgb(path)
        entry = _Flow(name=path.stem)
        if path.suffix != ".png":
            entry["ext"] = path.suffix
        entry["size"] = [hr.shape[0], hr.shape[1]]
        entry["sha256"] = pixel_sha256(hr)
        if path.suffix.lower() in (".jpg", ".jpeg"):
            entry["file_sha256"] = file_sha256(path)
        lr = {s: pixel_sha256(decode_rgb(root / "LR_bicubic" / f"X{s}" / f"{path.stem}x{s}.png")) for s in lr_scales}
        if lr:
            entry["lr"] = _Flow(lr)
        out.append(entry)
    return out


def embedded_images(spec: list[tuple[str, str, str]], max_side: int) -> list[_Flow]:
    """Entries for embedded photos: source file, crop box, cropped size and pixel hash."""
    from .embedded import read_embedded

    out = []
    data = skimage_data_dir()
    for name, fname, lic in spec:
        full = read_embedded(data / fname)
        top, left, ch, cw = centre_crop_box(full.shape[0], full.shape[1], max_side)
        img = full[top : top + ch, left : left + cw]
        entry = _Flow(name=name, source=fname, crop=[top, left, ch, cw], size=[ch, cw])
        entry["sha256"] = pixel_sha256(img)
        if fname.endswith(".jpg"):
            entry["file_sha256"] = file_sha256(data / fname)
        entry["license"] = lic
        out.append(entry)
    return out


def _flow_entry(entry: dict) -> _Flow:
    out = _Flow(entry)
    if "lr" in out:
        out["lr"] = _Flow(out["lr"])
    return out


def build(shared: Path | None) -> dict[str, Any]:
    raw = read_manifest_yaml()
    sets = raw["datasets"]
    if shared is not None:
        for name, rel in PINNED_FROM_SHARED.items():
            info = sets[name]
            images = edsr_images(shared / rel, info.get("hr_dir", "HR"), list(info.get("official_lr_scales") or []))
            info["images"] = images
            info["count"] = len(images)
    sets["div2k-train"]["images"] = [_Flow(name=f"{i:04d}") for i in range(1, 801)]
    sets["div2k-valid"]["images"] = [_Flow(name=f"{i:04d}") for i in range(801, 901)]
    for name, spec, side in (("embedded-train", EMBEDDED_TRAIN, EMBEDDED_TRAIN_MAX), ("embedded-test", EMBEDDED_TEST, EMBEDDED_TEST_MAX)):
        sets[name]["images"] = embedded_images(spec, side)
        sets[name]["count"] = len(spec)
    return raw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=None, help="folder holding sr-benchmark/ and sr-train/")
    ap.add_argument("--out", type=Path, default=MANIFEST_PATH)
    args = ap.parse_args()
    raw = build(args.shared)
    for info in raw["datasets"].values():  # one line per image entry
        info["images"] = [_flow_entry(e) for e in info.get("images") or []]
    text = yaml.dump(raw, Dumper=_Dumper, sort_keys=False, width=100000, allow_unicode=True)
    header = "# Generated in part by `python -m data_manifest.build_manifest` (images); edit the rest by hand.\n"
    args.out.write_text(header + text, encoding="utf-8")


if __name__ == "__main__":
    main()
