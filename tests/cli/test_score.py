"""`bench score`: a folder of images scored by name-matched pairs; CSV; missing weights/refs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from benchmarks.cli import main
from benchmarks.metrics import get_metric, weights

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
NIQE_FILE = SHARED / "weights" / "metrics" / "niqe_modelparameters.mat"


@pytest.fixture(autouse=True)
def offline_isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv(weights.ENV_OFFLINE, "1")
    monkeypatch.delenv(weights.ENV_WEIGHTS_DIR, raising=False)
    weights.set_weights_dir(None)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors; immune to OpenMP spin-waits on a busy machine
    yield
    torch.set_num_threads(threads)
    weights.set_weights_dir(None)


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def folders(tmp_path):
    rng = np.random.default_rng(0)
    sr, ref = tmp_path / "sr", tmp_path / "ref"
    sr.mkdir()
    ref.mkdir()
    imgs = {}
    for i, name in enumerate(["b.png", "a.png", "c.png"]):
        hr = rng.integers(0, 256, (100 + 4 * i, 104, 3), dtype=np.uint8)
        out = np.clip(hr.astype(int) + rng.integers(-12, 13, hr.shape), 0, 255).astype(np.uint8)
        Image.fromarray(hr).save(ref / name)
        Image.fromarray(out).save(sr / name)
        imgs[name] = (out, hr)
    return sr, ref, imgs


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_psnr_ssim_csv_matches_metrics(tmp_path, folders):
    sr, ref, imgs = folders
    out = tmp_path / "out.csv"
    res = invoke("score", "--metrics", "psnr,ssim", "--ref", ref, sr, "--crop-border", 3, "--output", out)
    assert res.exit_code == 0, res.output
    rows = _rows(out)
    assert list(rows[0].keys()) == ["image", "psnr", "ssim"]
    assert [r["image"] for r in rows] == ["a.png", "b.png", "c.png"]
    for r in rows:
        s, h = imgs[r["image"]]
        assert float(r["psnr"]) == pytest.approx(get_metric("psnr").score([s], [h], 3).mean, abs=1e-9)
        assert float(r["ssim"]) == pytest.approx(get_metric("ssim").score([s], [h], 3).mean, abs=1e-12)
    mean_psnr = np.mean([float(r["psnr"]) for r in rows])
    assert f"psnr  mean {mean_psnr:.4f}" in res.output
    assert (tmp_path / "out_summary.csv").is_file()


def test_crop_border_defaults_to_zero(tmp_path, folders):
    sr, ref, imgs = folders
    out = tmp_path / "o.csv"
    assert invoke("score", "--metrics", "psnr", "--ref", ref, sr, "--output", out).exit_code == 0
    s, h = imgs["a.png"]
    assert float(_rows(out)[0]["psnr"]) == pytest.approx(get_metric("psnr").score([s], [h], 0).mean)


def test_missing_weights_leave_column_empty_others_computed(tmp_path, folders):
    sr, ref, _ = folders
    out = tmp_path / "o.csv"
    res = invoke("score", "--metrics", "psnr,lpips", "--ref", ref, sr, "--output", out,
                 "--weights-dir", tmp_path / "empty")
    assert res.exit_code == 0, res.output
    assert "not computed" in res.output and "alexnet-owt-7be5be79.pth" in res.output
    rows = _rows(out)
    assert all(r["lpips"] == "" for r in rows) and all(float(r["psnr"]) > 0 for r in rows)
    summary = {r["metric"]: r for r in _rows(tmp_path / "o_summary.csv")}
    assert summary["lpips"]["status"] == "not computed" and summary["lpips"]["value"] == ""


def test_missing_reference_file_is_an_error(folders):
    sr, ref, _ = folders
    (ref / "c.png").unlink()
    res = invoke("score", "--metrics", "psnr", "--ref", ref, sr)
    assert res.exit_code == 2
    assert "c.png" in res.output and "Traceback" not in res.output


def test_reference_with_other_extension_is_matched_by_stem(tmp_path, folders):
    sr, ref, _ = folders
    for p in list(ref.iterdir()):
        Image.open(p).save(p.with_suffix(".bmp"))
        p.unlink()
    assert invoke("score", "--metrics", "psnr", "--ref", ref, sr).exit_code == 0


def test_full_reference_metric_without_ref(folders):
    sr, _, _ = folders
    res = invoke("score", "--metrics", "psnr", sr)
    assert res.exit_code == 2 and "--ref" in res.output


def test_unknown_metric(folders):
    sr, ref, _ = folders
    res = invoke("score", "--metrics", "psnr,foo", "--ref", ref, sr)
    assert res.exit_code == 2 and "unknown metric 'foo'" in res.output


def test_size_mismatch_names_file(folders):
    sr, ref, _ = folders
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(ref / "b.png")
    res = invoke("score", "--metrics", "psnr", "--ref", ref, sr)
    assert res.exit_code == 2 and "b.png" in res.output


@pytest.mark.skipif(not NIQE_FILE.is_file(), reason="../shared NIQE parameters not present")
def test_no_reference_metric_needs_no_ref(tmp_path, folders):
    sr, _, _ = folders
    out = tmp_path / "n.csv"
    res = invoke("score", "--metrics", "niqe", sr, "--output", out, "--weights-dir", NIQE_FILE.parent)
    assert res.exit_code == 0, res.output
    assert all(float(r["niqe"]) > 0 for r in _rows(out))
