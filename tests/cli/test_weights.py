"""`bench weights`: per metric each file, where it is looked for, presence, sha256, URL."""

from __future__ import annotations

import hashlib

import pytest
from click.testing import CliRunner

from benchmarks.cli import main
from benchmarks.metrics import weights


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
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


def test_lists_every_file_with_presence_checksum_and_url(tmp_path):
    d = tmp_path / "w"
    d.mkdir()
    (d / "NRQM_model.mat").write_bytes(b"stand-in")
    res = invoke("weights", "--weights-dir", d)
    assert res.exit_code == 0, res.output
    out = res.output
    for metric, files in weights.WEIGHT_FILES.items():
        for wf in files:
            assert wf.filename in out and wf.url in out, wf.filename
        assert metric in out
    line = next(ln for ln in out.splitlines() if ln.startswith("nrqm "))
    assert " yes " in line and hashlib.sha256(b"stand-in").hexdigest()[:12] in line
    fid_line = next(ln for ln in out.splitlines() if ln.startswith("fid "))
    assert " no " in fid_line
    assert f"looked in: {d}" in out and str(tmp_path / "torch_home" / "hub" / "checkpoints") in out
    assert "--weights-dir" in out and "file(s) missing" in out


def test_env_weights_dir_is_searched(tmp_path, monkeypatch):
    d = tmp_path / "envdir"
    d.mkdir()
    (d / weights.FID_INCEPTION.filename).write_bytes(b"x")
    monkeypatch.setenv(weights.ENV_WEIGHTS_DIR, str(d))
    res = invoke("weights", "--metrics", "fid", "--no-checksum")
    assert res.exit_code == 0
    assert f"found: {d / weights.FID_INCEPTION.filename}" in res.output
    assert "(not hashed)" in res.output and "niqe" not in res.output


def test_hash_prefix_mismatch_is_flagged(tmp_path):
    (tmp_path / weights.ALEXNET.filename).write_bytes(b"not alexnet")
    res = invoke("weights", "--weights-dir", tmp_path, "--metrics", "lpips")
    assert "MISMATCH" in res.output


def test_bad_metric_names(tmp_path):
    assert invoke("weights", "--metrics", "nope").exit_code == 2
    res = invoke("weights", "--metrics", "psnr")
    assert res.exit_code == 2 and "needs no weight files" in res.output
