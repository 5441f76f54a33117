"""Download path with pooch stubbed out (no network): failure message, arrange, verify, record."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pooch
import pytest
from PIL import Image

import data_manifest as dm
from benchmarks.errors import MissingFileError
from data_manifest.locate import cache_dir

from .conftest import SHARED_DATA, needs_shared

BENCH = SHARED_DATA / "sr-benchmark"
PAN = "https://raw.githubusercontent.com/zhaohengyuan1/PAN/4d045d18592c/datasets/"


def _offline(*args, **kwargs):
    raise ConnectionError("Failed to resolve 'cv.snu.ac.kr' (no network)")


def test_offline_download_failure_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setattr(pooch, "retrieve", _offline)
    with pytest.raises(MissingFileError) as err:
        dm.load_eval_set("set5", 4, data_dir=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg
    assert "'set5'" in msg and str(tmp_path / "Set5") in msg and str(cache_dir() / "data" / "Set5") in msg
    assert "https://cv.snu.ac.kr/research/EDSR/benchmark.tar" in msg
    assert "--data-dir" in msg and "BENCH_DATA_DIR" in msg and "no network" in msg


def test_set_without_download_source_says_where_to_get_it(tmp_path):
    with pytest.raises(MissingFileError) as err:
        dm.load_eval_set("general100", 2, data_dir=tmp_path)
    msg = str(err.value)
    assert "general100" in msg and "FSRCNN" in msg and "--data-dir" in msg and "\n" not in msg


def _serve(mapping: dict[str, Path], calls: list[str]):
    """A pooch.retrieve stand-in serving local files for known URLs (copied like a download)."""

    def retrieve(url, known_hash=None, fname=None, path=None, **kwargs):
        calls.append(url)
        local = mapping.get(url)
        if local is None:
            for prefix, folder in mapping.items():
                if prefix.endswith("/") and url.startswith(prefix):
                    local = folder / url[len(prefix):]
        if local is None or not local.is_file():
            raise ConnectionError(f"404 {url}")
        if known_hash and known_hash.startswith("sha256:") and pooch.file_hash(str(local)) != known_hash[7:]:
            raise ValueError(f"SHA256 hash of downloaded file {url} does not match the known hash")
        dest = Path(path) / (fname or Path(url).name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, dest)
        return str(dest)

    return retrieve


def _benchmark_tar(tmp_path: Path, damage: bool = False) -> Path:
    """An EDSR-style benchmark.tar holding Set5 and Set14 (optionally one damaged pixel)."""
    root = tmp_path / "tarsrc" / "benchmark"
    for name in ("Set5", "Set14"):
        shutil.copytree(BENCH / name, root / name)
    if damage:
        path = root / "Set5" / "HR" / "bird.png"
        img = np.array(Image.open(path).convert("RGB"))
        img[0, 0] = 255 - img[0, 0]
        Image.fromarray(img).save(path)
    tar = tmp_path / "benchmark.tar"
    with tarfile.open(tar, "w") as tf:
        tf.add(root, arcname="benchmark")
    return tar


@needs_shared
def test_archive_download_is_arranged_verified_and_recorded(monkeypatch, tmp_path):
    calls: list[str] = []
    tar = _benchmark_tar(tmp_path)
    monkeypatch.setattr(pooch, "retrieve", _serve({"https://cv.snu.ac.kr/research/EDSR/benchmark.tar": tar}, calls))
    pairs = dm.load_eval_set("set5", 2)
    assert len(pairs) == 5 and all(p.lr_source == "official" for p in pairs)
    assert (cache_dir() / "data" / "Set5" / "HR" / "baby.png").is_file()
    assert (cache_dir() / "data" / "Set14" / "HR" / "bridge.png").is_file()  # same archive, arranged too
    recorded = json.loads((cache_dir() / "archive_hashes.json").read_text())
    assert recorded["https://cv.snu.ac.kr/research/EDSR/benchmark.tar"] == "sha256:" + pooch.file_hash(str(tar))
    assert len(dm.load_eval_set("set14", 4)) == 14 and len(calls) == 1  # from the cache, no download


@needs_shared
def test_archive_with_other_pixels_falls_back_to_the_pinned_mirror(monkeypatch, tmp_path):
    calls: list[str] = []
    tar = _benchmark_tar(tmp_path, damage=True)
    mapping = {"https://cv.snu.ac.kr/research/EDSR/benchmark.tar": tar, PAN: BENCH}
    monkeypatch.setattr(pooch, "retrieve", _serve(mapping, calls))
    pairs = dm.load_eval_set("set5", 3)
    assert [p.name for p in pairs] == ["baby", "bird", "butterfly", "head", "woman"]
    assert any(u.startswith(PAN) for u in calls)
    assert not (cache_dir() / "archive_hashes.json").exists()  # the archive did not verify


@needs_shared
def test_all_sources_failing_names_each(monkeypatch, tmp_path):
    calls: list[str] = []
    tar = _benchmark_tar(tmp_path, damage=True)
    monkeypatch.setattr(pooch, "retrieve", _serve({"https://cv.snu.ac.kr/research/EDSR/benchmark.tar": tar}, calls))
    with pytest.raises(MissingFileError) as err:
        dm.load_eval_set("set5", 2)
    msg = str(err.value)
    assert "pixel sha256 mismatch" in msg and "bird.png" in msg and "zhaohengyuan1/PAN" in msg and "\n" not in msg


def test_unpinned_set_records_pixel_hashes_at_first_download(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    src = tmp_path / "zipsrc" / "DIV2K_valid_HR"
    src.mkdir(parents=True)
    for i in range(801, 901):
        Image.fromarray(rng.integers(0, 256, (24, 36, 3), dtype=np.uint8)).save(src / f"{i:04d}.png")
    archive = tmp_path / "DIV2K_valid_HR.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(src.iterdir()):
            zf.write(p, f"DIV2K_valid_HR/{p.name}")
    calls: list[str] = []
    url = "http://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_valid_HR.zip"
    monkeypatch.setattr(pooch, "retrieve", _serve({url: archive}, calls))
    monkeypatch.setattr(
        "data_manifest.manifest._manifest", _without_known_hash("div2k-valid")
    )
    assert len(dm.load_eval_set("div2k-valid", 2)) == 100
    recorded = json.loads((cache_dir() / "recorded" / "div2k-valid.json").read_text())["images"]
    assert len(recorded) == 100
    # a later change of a cached image is caught against the recorded hash
    dm.clear_cache()
    cached = cache_dir() / "data" / "DIV2K" / "DIV2K_valid_HR" / "0850.png"
    Image.fromarray(np.zeros((24, 36, 3), np.uint8)).save(cached)
    with pytest.raises(MissingFileError, match="0850.png.*mismatch"):
        dm.load_eval_set("div2k-valid", 2)


def _without_known_hash(name: str):
    """The real manifest with `name`'s archive md5 dropped (the stand-in zip has other bytes)."""
    import dataclasses
    from types import MappingProxyType

    from data_manifest import manifest

    real = manifest._manifest()
    info = real[name]
    sources = tuple(dataclasses.replace(s, known_hash=None) for s in info.sources)
    patched = MappingProxyType({**real, name: dataclasses.replace(info, sources=sources)})
    return lambda: patched


def _div2k_valid_zip(tmp_path: Path, crops: Path) -> Path:
    """A stand-in DIV2K_valid_HR.zip whose 300x320 images hold the shared 256x256 crops at their centre."""
    rng = np.random.default_rng(1)
    archive = tmp_path / "DIV2K_valid_HR.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(crops.glob("*.png")):
            canvas = rng.integers(0, 256, (300, 320, 3), dtype=np.uint8)
            canvas[22:278, 32:288] = np.asarray(Image.open(path).convert("RGB"))
            out = tmp_path / path.name
            Image.fromarray(canvas).save(out)
            zf.write(out, f"DIV2K_valid_HR/{path.name}")
    return archive


@needs_shared
def test_derived_set_is_built_from_its_source_when_the_mirror_fails(monkeypatch, tmp_path):
    archive = _div2k_valid_zip(tmp_path, SHARED_DATA / "sr-train" / "DIV2K_valid_HR_center256")
    calls: list[str] = []
    url = "http://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_valid_HR.zip"
    monkeypatch.setattr(pooch, "retrieve", _serve({url: archive}, calls))
    monkeypatch.setattr("data_manifest.manifest._manifest", _without_known_hash("div2k-valid"))
    images = dm.load_train_images("div2k-valid-center256")
    assert len(images) == 100 and images[0].shape == (256, 256, 3)
    assert any("SCNet" in u for u in calls) and url in calls  # mirror tried first, then derived
    assert (cache_dir() / "data" / "DIV2K_valid_HR_center256" / "0801.png").is_file()


@needs_shared
def test_landscape_post_step_restores_the_pinned_orientation(tmp_path):
    from data_manifest.fetch import _to_landscape

    info = dm.dataset_info("bsd200")
    src = SHARED_DATA / "sr-train" / "BSD200"
    for stem, k in (("100075", 1), ("100080", -1)):
        img = np.asarray(Image.open(src / f"{stem}.jpg").convert("RGB"))
        Image.fromarray(np.ascontiguousarray(np.rot90(img, k))).save(tmp_path / f"{stem}.png")
    _to_landscape(info, tmp_path)
    for stem in ("100075", "100080"):
        img = np.asarray(Image.open(tmp_path / f"{stem}.png").convert("RGB"))
        assert dm.pixel_sha256(img) == info.entry(stem).sha256
