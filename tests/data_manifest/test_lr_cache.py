"""The on-disk LR cache: exact, read back, self-healing, safe when unwritable, used by eval sets."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from PIL import Image

import data_manifest as dm
import data_manifest.lr_cache as lc
from data_manifest.lr_cache import cached_lr, lr_cache_dir
from data_manifest.imresize import matlab_imresize


def hr_image(seed: int = 0, shape=(24, 18)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


def fail_after_first(monkeypatch) -> list[int]:
    """Let matlab_imresize run once; a second computation fails the test."""
    calls = []

    def resize(img, scale):
        calls.append(1)
        if len(calls) > 1:
            raise AssertionError("LR recomputed instead of read from the cache")
        return matlab_imresize(img, scale)

    monkeypatch.setattr(lc, "matlab_imresize", resize)
    return calls


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_equals_matlab_imresize_and_is_read_back(tmp_path, monkeypatch, scale):
    hr = hr_image(scale)
    want = matlab_imresize(hr, 1.0 / scale)
    calls = fail_after_first(monkeypatch)
    first = cached_lr(hr, scale, tmp_path)
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == [f"{lc.lr_key(hr, scale)}.npy"]
    second = cached_lr(hr, scale, tmp_path)
    assert len(calls) == 1
    for got in (first, second):
        assert got.dtype == np.uint8 and got.shape == want.shape and np.array_equal(got, want)


def test_key_depends_on_pixels_shape_and_scale():
    hr = hr_image()
    keys = {lc.lr_key(hr, 2), lc.lr_key(hr, 3), lc.lr_key(hr.reshape(18, 24, 3), 2)}
    flipped = hr.copy()
    flipped[0, 0, 0] ^= 1
    keys.add(lc.lr_key(flipped, 2))
    assert len(keys) == 4


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong shape", "wrong dtype", "pickled"])
def test_a_bad_cached_file_is_regenerated_and_overwritten(tmp_path, damage):
    hr = hr_image(1)
    want = matlab_imresize(hr, 0.5)
    path = tmp_path / f"{lc.lr_key(hr, 2)}.npy"
    if damage == "garbage":
        path.write_bytes(b"not an npy file")
    elif damage == "truncated":
        np.save(path, want)
        path.write_bytes(path.read_bytes()[:-10])
    elif damage == "wrong shape":
        np.save(path, want[:-1])
    elif damage == "wrong dtype":
        np.save(path, want.astype(np.int16))
    else:
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert np.array_equal(cached_lr(hr, 2, tmp_path), want)
    assert np.array_equal(np.load(path, allow_pickle=False), want)


def test_unwritable_cache_computes_and_warns_once(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cache = blocker / "lr"   # a path under a file: no directory can be made there, even as root
    with pytest.warns(RuntimeWarning, match="not writable"):
        assert np.array_equal(cached_lr(hr_image(2), 2, cache), matlab_imresize(hr_image(2), 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(cached_lr(hr_image(3), 2, cache), matlab_imresize(hr_image(3), 0.5))


def test_no_cache_dir_means_no_caching(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert np.array_equal(cached_lr(hr_image(), 2, None), matlab_imresize(hr_image(), 0.5))
    assert not list(tmp_path.iterdir())


def test_concurrent_writers_leave_one_good_file(tmp_path):
    hr, out = hr_image(4, (48, 36)), []
    threads = [threading.Thread(target=lambda: out.append(cached_lr(hr, 2, tmp_path))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    want = matlab_imresize(hr, 0.5)
    assert len(out) == 4 and all(np.array_equal(o, want) for o in out)
    assert [f.name for f in tmp_path.iterdir()] == [f"{lc.lr_key(hr, 2)}.npy"]   # no tmp files left


def test_cache_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCH_LR_CACHE", raising=False)
    monkeypatch.delenv("BENCH_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert lr_cache_dir(None) == tmp_path / "xdg" / "srkd-bench" / "lr"
    data = tmp_path / "data"
    data.mkdir()
    assert lr_cache_dir(data) == data / ".lr_cache"
    monkeypatch.setenv("BENCH_DATA_DIR", str(data))
    assert lr_cache_dir(None) == data / ".lr_cache"
    monkeypatch.setattr(lc.os, "access", lambda *a, **k: False)       # a read-only data dir
    assert lr_cache_dir(data) == tmp_path / "xdg" / "srkd-bench" / "lr"
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "bench"))
    assert lr_cache_dir(data) == tmp_path / "bench" / "lr"
    monkeypatch.setenv("BENCH_LR_CACHE", str(tmp_path / "env"))
    assert lr_cache_dir(data) == tmp_path / "env"


def test_eval_set_generated_lr_uses_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCH_LR_CACHE", raising=False)
    rng = np.random.default_rng(0)
    (tmp_path / "KHU" / "HR").mkdir(parents=True)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (26, 34, 3), dtype=np.uint8)).save(tmp_path / "KHU" / "HR" / f"k{i}.png")
    calls = []
    monkeypatch.setattr(lc, "matlab_imresize", lambda img, s: calls.append(1) or matlab_imresize(img, s))
    first = dm.load_eval_set("khu", 2, data_dir=tmp_path)
    assert len(calls) == 2 and len(list((tmp_path / ".lr_cache").glob("*.npy"))) == 2
    dm.clear_cache()
    again = dm.load_eval_set("khu", 2, data_dir=tmp_path)
    assert len(calls) == 2                                               # read from <data_dir>/.lr_cache
    for a, b in zip(first, again):
        assert a.lr_source == "generated" and np.array_equal(a.lr, b.lr)
        assert np.array_equal(a.lr, matlab_imresize(np.ascontiguousarray(a.hr), 0.5))
