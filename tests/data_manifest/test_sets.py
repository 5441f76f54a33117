"""Loaders: embedded sets, generated LR, grayscale replication, user-supplied sets, argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import data_manifest as dm
from benchmarks.errors import BenchError, MissingFileError
from data_manifest.imresize import matlab_imresize

from .conftest import SHARED_DATA, needs_shared


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_embedded_test_loads_without_any_data_dir(scale):
    pairs = dm.load_eval_set("embedded-test", scale)
    assert [p.name for p in pairs] == ["astronaut", "camera", "chelsea", "coffee"]
    for p in pairs:
        assert p.lr_source == "generated"
        assert p.hr.dtype == np.uint8 and p.hr.shape[2] == 3
        assert p.lr.shape == (p.hr.shape[0] // scale, p.hr.shape[1] // scale, 3)
        assert np.array_equal(p.lr, matlab_imresize(np.ascontiguousarray(p.hr), 1 / scale))
    camera = pairs[1].hr  # grayscale photo, replicated
    assert np.array_equal(camera[:, :, 0], camera[:, :, 1]) and np.array_equal(camera[:, :, 0], camera[:, :, 2])


def test_embedded_train_loads_and_is_disjoint_from_test():
    train = dm.load_train_images("embedded-train")
    assert len(train) == dm.dataset_info("embedded-train").count >= 8
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in train)
    test = [p.hr for p in dm.load_eval_set("embedded-test", 2)]
    assert not {dm.pixel_sha256(np.ascontiguousarray(a)) for a in train} & {dm.pixel_sha256(np.ascontiguousarray(b)) for b in test}


def test_embedded_hash_mismatch_is_reported(monkeypatch):
    """A scikit-image whose photo changed is detected (simulated by a changed pinned hash)."""
    import data_manifest.embedded as emb

    real = emb.read_embedded
    monkeypatch.setattr(emb, "read_embedded", lambda p: np.ascontiguousarray(255 - real(p)))
    with pytest.raises(MissingFileError, match="astronaut.png.*expected sha256"):
        dm.load_eval_set("embedded-test", 2)


def test_cached_sets_come_back_as_independent_copies():
    a = dm.load_eval_set("embedded-test", 3)
    a[0].hr[0, 0, 0] ^= 1
    a[0].lr[0, 0, 0] ^= 1
    b = dm.load_eval_set("embedded-test", 3)
    assert b[0].hr[0, 0, 0] != a[0].hr[0, 0, 0] and b[0].lr[0, 0, 0] != a[0].lr[0, 0, 0]
    assert dm.pixel_sha256(b[0].hr) == dm.dataset_info("embedded-test").images[0].sha256


@needs_shared
def test_urban100_x2_lr_is_generated_from_the_modcropped_hr():
    pairs = dm.load_eval_set("urban100", 2, data_dir=SHARED_DATA)
    assert len(pairs) == 100 and all(p.lr_source == "generated" for p in pairs)
    first = pairs[0]
    assert first.hr.shape[0] % 2 == 0 and first.lr.shape == (first.hr.shape[0] // 2, first.hr.shape[1] // 2, 3)
    assert np.array_equal(first.lr, matlab_imresize(np.ascontiguousarray(first.hr), 0.5))
    x4 = dm.load_eval_set("urban100", 4, data_dir=SHARED_DATA)
    assert all(p.lr_source == "official" for p in x4)


@needs_shared
def test_modcrop_at_x3_and_grayscale_bridge():
    pairs = {p.name: p for p in dm.load_eval_set("set14", 3, data_dir=SHARED_DATA)}
    full = {n: im for n, im in dm.load_hr_named("set14", data_dir=SHARED_DATA)}
    for name, p in pairs.items():
        h, w = full[name].shape[:2]
        assert p.hr.shape[:2] == (h - h % 3, w - w % 3)
        assert np.array_equal(p.hr, full[name][: p.hr.shape[0], : p.hr.shape[1]])
    bridge = pairs["bridge"]
    for img in (bridge.hr, bridge.lr):
        assert img.shape[2] == 3 and np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 1], img[..., 2])


def test_user_supplied_set_from_data_dir(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "KHU" / "HR").mkdir(parents=True)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (50, 62, 3), dtype=np.uint8)).save(tmp_path / "KHU" / "HR" / f"k{i}.png")
    pairs = dm.load_eval_set("khu", 4, data_dir=tmp_path)
    assert [p.name for p in pairs] == ["k0", "k1", "k2"]
    assert pairs[0].hr.shape == (48, 60, 3) and pairs[0].lr.shape == (12, 15, 3)
    assert pairs[0].lr_source == "generated"


def test_user_supplied_set_missing_says_how_to_supply(tmp_path):
    with pytest.raises(MissingFileError) as err:
        dm.load_eval_set("vrroom", 4, data_dir=tmp_path)
    msg = str(err.value)
    assert "vrroom" in msg and str(tmp_path / "VRroom") in msg and "--data-dir" in msg and "BENCH_DATA_DIR" in msg
    assert "\n" not in msg


def test_unpinned_set_checks_the_count(tmp_path):
    (tmp_path / "General100" / "HR").mkdir(parents=True)
    Image.fromarray(np.zeros((24, 24, 3), np.uint8)).save(tmp_path / "General100" / "HR" / "im_1.bmp")
    with pytest.raises(MissingFileError, match="1 images .* expects 100"):
        dm.load_eval_set("general100", 2, data_dir=tmp_path)


def test_argument_errors():
    with pytest.raises(BenchError, match="valid choices"):
        dm.load_eval_set("set55", 2)
    with pytest.raises(BenchError, match="scale"):
        dm.load_eval_set("embedded-test", 1)
    with pytest.raises(BenchError, match="evaluation set"):
        dm.load_train_images("embedded-test")


def test_canonical_name():
    assert dm.canonical_name("Set5") == "set5"
    assert dm.canonical_name("BSD100") == "b100"
    assert dm.canonical_name("Urban100") == "urban100"
    assert dm.canonical_name("embedded-test") == "embedded-test"
    with pytest.raises(BenchError, match="valid choices"):
        dm.canonical_name("Set6")
    assert dm.display_name("b100") == "B100" and dm.display_name("set14") == "Set14"
    assert dm.display_name("embedded-test") == "embedded-test" and dm.display_name("div2k-train") == "div2k-train"
