"""Weight files: search order, library caches, downloads, one-line messages when missing."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from benchmarks.metrics import MetricUnavailable, weights


def test_every_learned_metric_has_files_with_urls():
    for metric in ("niqe", "nrqm", "pi", "lpips", "lpips-vgg", "fid", "fid-patch"):
        files = weights.WEIGHT_FILES[metric]
        assert files
        for wf in files:
            assert wf.url.startswith("https://") and wf.url.endswith(wf.filename)
    assert {wf.filename for wf in weights.WEIGHT_FILES["pi"]} == {"NRQM_model.mat", "niqe_modelparameters.mat"}


def test_search_order_cli_dir_then_env_then_library_cache(tmp_path, monkeypatch):
    wf = weights.NRQM_MODEL
    cli, env = tmp_path / "cli", tmp_path / "env"
    cache = weights.hub_dir() / "pyiqa"
    for d in (cli, env, cache):
        d.mkdir(parents=True, exist_ok=True)
        (d / wf.filename).write_bytes(b"x")
    monkeypatch.setenv(weights.ENV_WEIGHTS_DIR, str(env))
    weights.set_weights_dir(cli)
    assert weights.find(wf) == cli / wf.filename
    (cli / wf.filename).unlink()
    assert weights.find(wf) == env / wf.filename
    (env / wf.filename).unlink()
    assert weights.find(wf) == cache / wf.filename
    paths = weights.candidate_paths(wf)
    assert paths.index(cli / wf.filename) < paths.index(env / wf.filename) < paths.index(cache / wf.filename)


def test_torch_home_shaped_weights_dir(tmp_path):
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    target = tmp_path / "hub" / "checkpoints" / weights.ALEXNET.filename
    target.write_bytes(b"x")
    assert weights.find(weights.ALEXNET, tmp_path) == target


def test_library_cache_follows_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert weights.library_cache_dirs(weights.FID_INCEPTION)[0] == tmp_path / "th" / "hub" / "checkpoints"
    assert weights.library_cache_dirs(weights.NIQE_PARAMS)[0] == tmp_path / "th" / "hub" / "pyiqa"


def test_missing_offline_is_one_clear_line(tmp_path):
    weights.set_weights_dir(tmp_path)
    with pytest.raises(MetricUnavailable) as exc:
        weights.resolve("fid", weights.FID_INCEPTION)
    msg = str(exc.value)
    assert "\n" not in msg
    for part in ("'fid'", weights.FID_INCEPTION.filename, weights.FID_INCEPTION.url, "--weights-dir",
                 weights.ENV_WEIGHTS_DIR, "checkpoints"):
        assert part in msg, part


def _file_weight(tmp_path: Path, content: bytes, good_prefix: bool = True) -> weights.WeightFile:
    src = tmp_path / "served" / "thing-abcd.pth"
    src.parent.mkdir()
    src.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    return dataclasses.replace(weights.ALEXNET, filename=src.name, url=src.as_uri(),
                               hash_prefix=digest[:8] if good_prefix else "00000000")


def test_download_goes_to_library_cache_and_checks_hash_prefix(tmp_path):
    wf = _file_weight(tmp_path, b"weights!")
    path = weights.resolve("lpips", wf, allow_download=True)
    assert path == weights.hub_dir() / "checkpoints" / wf.filename
    assert path.read_bytes() == b"weights!"
    # found now without downloading
    assert weights.resolve("lpips", wf, allow_download=False) == path


def test_download_with_bad_hash_is_rejected_and_not_retried(tmp_path):
    wf = _file_weight(tmp_path, b"tampered", good_prefix=False)
    with pytest.raises(MetricUnavailable, match="does not start with 00000000"):
        weights.resolve("lpips", wf, allow_download=True)
    assert not (weights.hub_dir() / "checkpoints" / wf.filename).exists()
    assert not list((weights.hub_dir() / "checkpoints").glob("*.part"))
    with pytest.raises(MetricUnavailable, match="download failed"):
        weights.resolve("lpips", wf, allow_download=True)  # remembered, not fetched again


def test_hub_checkpoints_points_torch_hub_at_resolved_files(tmp_path):
    import torch.hub

    f = tmp_path / "elsewhere" / "model-12345678.pth"
    f.parent.mkdir()
    f.write_bytes(b"x")
    before = torch.hub.get_dir()
    with weights.hub_checkpoints({f.name: f}):
        staged = Path(torch.hub.get_dir()) / "checkpoints" / f.name
        assert staged.read_bytes() == b"x"
    assert torch.hub.get_dir() == before


def test_status_reports_presence_and_checksums(tmp_path):
    (tmp_path / weights.NRQM_MODEL.filename).write_bytes(b"abc")
    rows = weights.status(["pi"], tmp_path)
    by_file = {r.file.filename: r for r in rows}
    nrqm = by_file["NRQM_model.mat"]
    assert nrqm.found == tmp_path / "NRQM_model.mat"
    assert nrqm.sha256 == hashlib.sha256(b"abc").hexdigest() and nrqm.checksum == "unrecorded"
    assert all(r.metric == "pi" for r in rows)


def test_niqe_checksum_recorded(niqe_file):
    from data_manifest.pixels import file_sha256

    assert file_sha256(niqe_file) == weights.NIQE_PARAMS.sha256
