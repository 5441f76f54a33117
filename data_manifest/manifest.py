"""The dataset manifest (datasets.yaml) as frozen dataclasses; unknown names raise a BenchError."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml

from benchmarks.errors import BenchError

MANIFEST_PATH = Path(__file__).with_name("datasets.yaml")
Kind = Literal["eval", "train"]


@dataclasses.dataclass(frozen=True)
class ImageEntry:
    """One image: file stem, HR size (h, w) and pixel hashes (HR, and official LR by scale)."""

    name: str
    ext: str = ".png"
    size: tuple[int, int] | None = None
    sha256: str | None = None  # pixel_sha256 of the decoded HR (after the crop, for embedded)
    file_sha256: str | None = None  # also accepted (JPEG: decoders may differ in the last bit)
    lr: Mapping[int, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))  # scale -> pixel_sha256 of the official LR
    source: str | None = None  # embedded: file name in scikit-image's data folder
    crop: tuple[int, int, int, int] | None = None  # embedded: (top, left, height, width)


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a dataset can be downloaded: an archive, or per-file from a pinned git commit."""

    kind: Literal["archive", "files", "derive"]
    urls: tuple[str, ...] = ()  # archive: mirrors tried in order; files: one base URL
    known_hash: str | None = None  # pooch syntax ("md5:...", "sha256:..."); None: recorded later
    hash_note: str = ""
    member: str = ""  # archive: folder inside the unpacked archive that holds the images
    hr: str = ""  # files: path template of an HR file under the base URL ({name})
    lr: str = ""  # files: path template of an official LR file ({name}, {scale})
    post: str = ""  # archive: "landscape" rotates portrait images (BSD200 convention)
    derive_from: str = ""  # derive: source dataset name
    crop: tuple[int, int] | None = None  # derive: centre crop (h, w)


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """A dataset as the manifest describes it."""

    name: str
    kind: Kind
    description: str
    layout: Literal["edsr", "embedded"]
    folder: str  # dataset root under a data dir (HR in folder/hr_dir)
    aliases: tuple[str, ...]
    hr_dir: str
    lr_dir: str  # relative to the root, "{scale}" substituted
    lr_name: str  # LR file stem, "{name}" and "{scale}" substituted
    count: int | None
    official_lr_scales: tuple[int, ...]
    images: tuple[ImageEntry, ...]
    sources: tuple[Source, ...]
    homepage: str
    license: str
    citation: str
    provenance: str
    user_supplied: bool

    @property
    def embedded(self) -> bool:
        return self.layout == "embedded"

    @property
    def pinned(self) -> bool:
        """True when every image has a pinned HR pixel hash."""
        return bool(self.images) and all(e.sha256 for e in self.images)

    def entry(self, stem: str) -> ImageEntry | None:
        return next((e for e in self.images if e.name == stem), None)


def _image(raw: Mapping[str, Any]) -> ImageEntry:
    return ImageEntry(
        name=str(raw["name"]),
        ext=raw.get("ext", ".png"),
        size=tuple(raw["size"]) if raw.get("size") else None,
        sha256=raw.get("sha256"),
        file_sha256=raw.get("file_sha256"),
        lr=MappingProxyType({int(k): v for k, v in (raw.get("lr") or {}).items()}),
        source=raw.get("source"),
        crop=tuple(raw["crop"]) if raw.get("crop") else None,
    )


def _source(raw: Mapping[str, Any]) -> Source:
    urls = raw.get("urls") or ([raw["url"]] if raw.get("url") else [])
    return Source(
        kind=raw["kind"],
        urls=tuple(urls),
        known_hash=raw.get("known_hash"),
        hash_note=raw.get("hash_note", ""),
        member=raw.get("member", ""),
        hr=raw.get("hr", ""),
        lr=raw.get("lr", ""),
        post=raw.get("post", ""),
        derive_from=raw.get("from", ""),
        crop=tuple(raw["crop"]) if raw.get("crop") else None,
    )


def _dataset(name: str, raw: Mapping[str, Any]) -> DatasetInfo:
    images = tuple(_image(e) for e in raw.get("images") or ())
    count = raw.get("count")
    if images and count is not None and count != len(images):
        raise ValueError(f"datasets.yaml: {name}: count {count} != {len(images)} image entries")
    return DatasetInfo(
        name=name,
        kind=raw["kind"],
        description=" ".join(str(raw.get("description", "")).split()),
        layout=raw.get("layout", "edsr"),
        folder=raw.get("folder", name),
        aliases=tuple(raw.get("aliases") or ()),
        hr_dir=raw.get("hr_dir", "HR"),
        lr_dir=raw.get("lr_dir", "LR_bicubic/X{scale}"),
        lr_name=raw.get("lr_name", "{name}x{scale}"),
        count=count,
        official_lr_scales=tuple(raw.get("official_lr_scales") or ()),
        images=images,
        sources=tuple(_source(s) for s in raw.get("sources") or ()),
        homepage=raw.get("homepage", ""),
        license=" ".join(str(raw.get("license", "")).split()),
        citation=raw.get("citation", ""),
        provenance=" ".join(str(raw.get("provenance", "")).split()),
        user_supplied=bool(raw.get("user_supplied", False)),
    )


def read_manifest_yaml(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    """The raw YAML mapping (C loader when available: the file holds ~1,400 hashes)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)


@functools.cache
def _manifest() -> MappingProxyType:
    raw = read_manifest_yaml()
    return MappingProxyType({n: _dataset(n, d) for n, d in raw["datasets"].items()})


def list_datasets() -> list[str]:
    """Names of every dataset in the manifest (lower-case, as the CLI takes them)."""
    return sorted(_manifest())


def dataset_info(name: str) -> DatasetInfo:
    """The manifest entry of `name`; an unknown name raises a BenchError listing the valid ones."""
    try:
        return _manifest()[name]
    except (KeyError, TypeError):
        raise BenchError(
            f"unknown dataset {name!r}; valid choices: {', '.join(list_datasets())}"
        ) from None


def canonical_name(name: str) -> str:
    """Manifest name of `name` given in any case or as a folder name ("Set5", "BSD100" -> ...)."""
    sets = _manifest()
    if name in sets:
        return name
    key = str(name).strip().lower()
    for info in sets.values():
        if key in {info.name, info.folder.lower(), *(a.lower() for a in info.aliases)}:
            return info.name
    return dataset_info(name).name  # raises the BenchError listing the valid names
