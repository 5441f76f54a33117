"""Finding a dataset's folder (data dir, then cache), else downloading it into the cache with pooch,
arranged in the EDSR layout and verified."""

from __future__ import annotations

import json
import logging
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.errors import MissingFileError

from .hr_images import read_hr_named
from .locate import (
    ENV_DATA_DIR,
    cache_data_dir,
    cache_dir,
    find_root,
    hr_folder,
    looked_in,
    resolve_data_dir,
)
from .manifest import DatasetInfo, Source, dataset_info, list_datasets
from .pixels import decode_rgb, list_images, pixel_sha256
from .verify import check_folder, record_hashes


class DownloadFailed(MissingFileError):
    """Every download source of a dataset failed; `reasons` holds one short line per source."""

    def __init__(self, name: str, reasons: list[str]):
        super().__init__(f"dataset {name!r}: download failed: {'; '.join(reasons)}")
        self.reasons = reasons


def _short(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _hash_file() -> Path:
    return cache_dir() / "archive_hashes.json"


def recorded_archive_hash(url: str) -> str | None:
    """The sha256 ("sha256:...") recorded for `url` at its first verified download, if any."""
    try:
        return json.loads(_hash_file().read_text()).get(url)
    except (OSError, ValueError):
        return None


def _record_archive_hash(url: str, archive: Path) -> None:
    import pooch

    path = _hash_file()
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError):
        table = {}
    table[url] = "sha256:" + pooch.file_hash(str(archive), alg="sha256")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, indent=1, sort_keys=True))


def _retrieve(url: str, known_hash: str | None, dest: Path, fname: str, progress: bool = False) -> Path:
    """pooch.retrieve one file (a progress bar on a terminal if asked); raises what pooch raises."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        bar = progress and sys.stderr.isatty()
        return Path(pooch.retrieve(url, known_hash=known_hash, fname=fname, path=str(dest), progressbar=bar))
    finally:
        logger.setLevel(level)


def _unpack(archive: Path, out: Path) -> None:
    import pooch

    name = archive.name.lower()
    if name.endswith(".zip"):
        pooch.Unzip(extract_dir=str(out))(str(archive), "download", None)
    else:
        pooch.Untar(extract_dir=str(out))(str(archive), "download", None)


def _to_landscape(info: DatasetInfo, folder: Path) -> None:
    """Rotate portrait images to landscape (lossless PNG), matching the pinned hash when possible."""
    for path in list_images(folder):
        img = decode_rgb(path)
        if img.shape[0] <= img.shape[1]:
            continue
        entry = info.entry(path.stem)
        turns = [np.rot90(img, k) for k in (1, -1)]
        pick = next((t for t in turns if entry is not None and pixel_sha256(np.ascontiguousarray(t)) == entry.sha256), turns[0])
        path.unlink()
        Image.fromarray(np.ascontiguousarray(pick)).save(folder / f"{path.stem}.png")


def _archive_sources(url: str) -> list[tuple[DatasetInfo, Source]]:
    """Every (dataset, source) of the manifest that takes its images from archive `url`."""
    out = []
    for name in list_datasets():
        info = dataset_info(name)
        out += [(info, s) for s in info.sources if s.kind == "archive" and url in s.urls]
    return out


def _from_archive(info: DatasetInfo, source: Source, staging: Path) -> tuple[Path, str, Path]:
    """Download + unpack the archive, move the dataset's member to staging; (root, url, archive)."""
    errors = []
    for url in source.urls:
        known = source.known_hash or recorded_archive_hash(url)
        try:
            archive = _retrieve(url, known, cache_dir() / "downloads", Path(url).name, progress=True)
        except Exception as exc:  # noqa: BLE001 - network/hash errors of any kind: try the next URL
            errors.append(f"{url}: {_short(exc)}")
            continue
        unpacked = staging / "unpacked"
        _unpack(archive, unpacked)
        root = staging / "dataset"
        shutil.move(str(unpacked / source.member), str(root))
        if source.post == "landscape":
            _to_landscape(info, hr_folder(info, root) or root)
        # Other sets in the same archive (EDSR benchmark.tar holds four): arrange them too.
        for other, osrc in _archive_sources(url):
            dest = cache_data_dir() / other.folder
            member = unpacked / osrc.member
            if other.name != info.name and member.is_dir() and not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(member), str(dest))
        return root, url, archive
    raise _SourceFailed("; ".join(errors))


class _SourceFailed(Exception):
    """A source failed; the message already names its URLs."""


def _from_files(info: DatasetInfo, source: Source, staging: Path) -> Path:
    """Download every pinned file one by one from a pinned commit into staging (EDSR layout)."""
    if not info.images:
        raise RuntimeError("per-file download needs the image names in the manifest")
    base = source.urls[0]
    root = staging / "dataset"
    for entry in info.images:
        rel = source.hr.format(name=entry.name)
        _retrieve(base + rel, None, root / info.hr_dir, entry.name + Path(rel).suffix)
        for scale in info.official_lr_scales:
            if source.lr:
                rel = source.lr.format(name=entry.name, scale=scale)
                lr_name = info.lr_name.format(name=entry.name, scale=scale) + Path(rel).suffix
                _retrieve(base + rel, None, root / info.lr_dir.format(scale=scale), lr_name)
    return root


def _derive(info: DatasetInfo, source: Source, staging: Path) -> Path:
    """Build a derived set (centre crops of another dataset's HR images) into staging."""
    root = staging / "dataset"
    out = root / info.hr_dir
    out.mkdir(parents=True, exist_ok=True)
    ch, cw = source.crop or (0, 0)
    origin = root_key(dataset_info(source.derive_from), None)  # found, else downloaded in turn
    for stem, img in read_hr_named(source.derive_from, origin, verify=True):
        top, left = (img.shape[0] - ch) // 2, (img.shape[1] - cw) // 2
        Image.fromarray(np.ascontiguousarray(img[top : top + ch, left : left + cw])).save(out / f"{stem}.png")
    return root


def _describe(source: Source) -> str:
    if source.kind == "derive":
        return f"derived from {source.derive_from}"
    return source.urls[0] if source.kind == "files" else " or ".join(source.urls)


def fetch(info: DatasetInfo) -> Path:
    """Download `info` into the cache (sources in manifest order) and return its verified root."""
    if not info.sources:
        raise DownloadFailed(info.name, ["no download source"])
    dest = cache_data_dir() / info.folder
    errors = []
    for source in info.sources:
        staging = cache_dir() / "tmp" / uuid.uuid4().hex
        staging.mkdir(parents=True, exist_ok=True)
        archive = url = None
        try:
            if source.kind == "archive":
                root, url, archive = _from_archive(info, source, staging)
            elif source.kind == "files":
                root = _from_files(info, source, staging)
            else:
                root = _derive(info, source, staging)
            check_folder(info, root)
            if not info.pinned:
                record_hashes(info, root)
            if archive is not None:
                _record_archive_hash(url, archive)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists():  # else another process arranged it meanwhile: keep theirs
                shutil.move(str(root), str(dest))
            if archive is not None:
                archive.unlink(missing_ok=True)  # unpacked and verified; the hash is recorded
            return dest
        except _SourceFailed as exc:
            errors.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure of a source: try the next one
            errors.append(f"{_describe(source)}: {_short(exc)}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    raise DownloadFailed(info.name, errors)


def dataset_root(info: DatasetInfo, data_dir: Path | None) -> Path:
    """The folder holding `info`: data dir, then cache, else download into the cache."""
    root = find_root(info, data_dir) or find_root(info, cache_data_dir())
    if root is not None:
        return root
    places = ", ".join(looked_in(info, data_dir))
    if data_dir is None:
        places += f"; no --data-dir or {ENV_DATA_DIR} given"
    layout = f"DIR/{info.folder}/{info.hr_dir}/<name>.png".replace("/./", "/")
    how = f"supply it with --data-dir DIR or {ENV_DATA_DIR}=DIR ({layout})"
    if info.user_supplied:
        raise MissingFileError(f"dataset {info.name!r} is not public (user-supplied); looked in {places}; {how}")
    if not info.sources:
        page = f" from {info.homepage}" if info.homepage else ""
        raise MissingFileError(
            f"dataset {info.name!r} not found and has no automatic download; looked in {places}; "
            f"download it{page} and {how}"
        )
    try:
        return fetch(info)
    except DownloadFailed as exc:
        raise MissingFileError(
            f"dataset {info.name!r} not found (looked in {places}); download failed: "
            f"{'; '.join(exc.reasons)}; {how}"
        ) from None


def root_key(info: DatasetInfo, data_dir: str | Path | None) -> str | None:
    """`dataset_root` as a string (the key of the decoded-image caches); None for embedded sets."""
    return None if info.embedded else str(dataset_root(info, resolve_data_dir(data_dir)))
