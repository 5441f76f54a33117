"""Verification of local copies: every pinned set here passes; damaged copies fail by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

import data_manifest as dm
from benchmarks.errors import MissingFileError

from .conftest import SHARED_DATA, needs_shared


@needs_shared
@pytest.mark.parametrize("name", ["set5", "set14", "b100", "urban100"])
def test_shared_eval_sets_verify_at_official_scales(name):
    info = dm.dataset_info(name)
    for scale in info.official_lr_scales:
        pairs = dm.load_eval_set(name, scale, data_dir=SHARED_DATA)
        assert len(pairs) == info.count
        assert all(p.lr_source == "official" for p in pairs)
        for p in pairs:
            assert p.hr.dtype == np.uint8 and p.hr.ndim == 3 and p.hr.shape[2] == 3
            assert p.hr.shape[0] % scale == 0 and p.hr.shape[1] % scale == 0
            assert p.lr.shape == (p.hr.shape[0] // scale, p.hr.shape[1] // scale, 3)


@needs_shared
@pytest.mark.parametrize("name", ["div2k-valid-center256", "bsd200"])
def test_shared_train_sets_verify(name):
    images = dm.load_train_images(name, data_dir=SHARED_DATA)
    assert len(images) == dm.dataset_info(name).count
    assert all(im.dtype == np.uint8 and im.shape[2] == 3 for im in images)


@needs_shared
def test_data_dir_from_environment(monkeypatch):
    monkeypatch.setenv("BENCH_DATA_DIR", str(SHARED_DATA))
    assert dm.resolve_data_dir(None) == SHARED_DATA.resolve()
    assert len(dm.load_eval_set("set5", 4)) == 5


def test_resolve_data_dir_order(tmp_path, monkeypatch):
    assert dm.resolve_data_dir(None) is None
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path))
    assert dm.resolve_data_dir(None) == tmp_path.resolve()
    other = tmp_path / "other"
    other.mkdir()
    assert dm.resolve_data_dir(other) == other.resolve()
    with pytest.raises(MissingFileError, match="does not exist"):
        dm.resolve_data_dir(tmp_path / "typo")


@pytest.fixture
def set5_copy(tmp_path) -> Path:
    """A private copy of Set5 (HR + official LR) as <tmp>/data/Set5."""
    data = tmp_path / "data"
    shutil.copytree(SHARED_DATA / "sr-benchmark" / "Set5", data / "Set5")
    return data


@needs_shared
def test_copy_verifies(set5_copy):
    assert [p.name for p in dm.load_eval_set("set5", 2, data_dir=set5_copy)] == ["baby", "bird", "butterfly", "head", "woman"]


@needs_shared
def test_deleted_file_is_named(set5_copy):
    (set5_copy / "Set5" / "HR" / "bird.png").unlink()
    with pytest.raises(MissingFileError) as err:
        dm.load_eval_set("set5", 2, data_dir=set5_copy)
    assert "bird.png" in str(err.value) and "missing" in str(err.value)


@needs_shared
def test_truncated_file_is_named(set5_copy):
    path = set5_copy / "Set5" / "HR" / "head.png"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(MissingFileError) as err:
        dm.load_eval_set("set5", 3, data_dir=set5_copy)
    assert "head.png" in str(err.value)


@needs_shared
def test_changed_pixel_reports_both_hashes(set5_copy):
    path = set5_copy / "Set5" / "HR" / "butterfly.png"
    img = np.array(Image.open(path).convert("RGB"))
    img[10, 10, 0] ^= 1
    Image.fromarray(img).save(path)
    with pytest.raises(MissingFileError) as err:
        dm.load_eval_set("set5", 4, data_dir=set5_copy)
    msg = str(err.value)
    expected = next(e.sha256 for e in dm.dataset_info("set5").images if e.name == "butterfly")
    assert "butterfly.png" in msg and expected in msg and dm.pixel_sha256(img) in msg
    assert "\n" not in msg
    assert len(dm.load_eval_set("set5", 4, data_dir=set5_copy, verify=False)) == 5  # opt-out


@needs_shared
def test_changed_official_lr_is_detected(set5_copy):
    path = set5_copy / "Set5" / "LR_bicubic" / "X3" / "womanx3.png"
    img = np.array(Image.open(path).convert("RGB"))
    img[0, 0] = 255 - img[0, 0]
    Image.fromarray(img).save(path)
    with pytest.raises(MissingFileError, match="womanx3.png"):
        dm.load_eval_set("set5", 3, data_dir=set5_copy)


@needs_shared
def test_metadata_only_change_passes(set5_copy):
    """A mirror's PNG with other metadata (a text chunk) but identical pixels is accepted."""
    path = set5_copy / "Set5" / "HR" / "baby.png"
    before = path.read_bytes()
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Comment", "re-saved by another mirror")
    Image.open(path).save(path, pnginfo=meta)
    assert path.read_bytes() != before
    pairs = dm.load_eval_set("set5", 2, data_dir=set5_copy)
    assert pairs[0].name == "baby" and pairs[0].lr_source == "official"


@needs_shared
def test_official_lr_of_wrong_size_is_rejected(set5_copy):
    path = set5_copy / "Set5" / "LR_bicubic" / "X2" / "headx2.png"
    Image.open(path).crop((0, 0, 100, 100)).save(path)
    with pytest.raises(MissingFileError, match="headx2.png"):
        dm.load_eval_set("set5", 2, data_dir=set5_copy, verify=False)


@needs_shared
def test_folder_found_one_level_down(set5_copy):
    nested = set5_copy.parent / "nested"
    (nested / "sr-benchmark").mkdir(parents=True)
    shutil.move(str(set5_copy / "Set5"), str(nested / "sr-benchmark" / "Set5"))
    assert len(dm.load_eval_set("set5", 2, data_dir=nested)) == 5


@needs_shared
def test_unpinned_lr_scale_of_a_pinned_set_is_ignored(tmp_path):
    """An extra LR_bicubic/X2 in Urban100 (EDSR's archive has one) cannot be verified: generate."""
    data = tmp_path / "data"
    src = SHARED_DATA / "sr-benchmark" / "Urban100"
    (data / "Urban100" / "LR_bicubic" / "X2").mkdir(parents=True)
    (data / "Urban100" / "HR").symlink_to(src / "HR", target_is_directory=True)
    (data / "Urban100" / "LR_bicubic" / "X4").symlink_to(src / "LR_bicubic" / "X4", target_is_directory=True)
    for hr in sorted((src / "HR").glob("*.png"))[:3]:
        img = np.asarray(Image.open(hr).convert("RGB"))
        Image.fromarray(np.zeros((img.shape[0] // 2, img.shape[1] // 2, 3), np.uint8)).save(
            data / "Urban100" / "LR_bicubic" / "X2" / f"{hr.stem}x2.png"
        )
    pairs = dm.load_eval_set("urban100", 2, data_dir=data)
    assert all(p.lr_source == "generated" for p in pairs) and pairs[0].lr.any()
