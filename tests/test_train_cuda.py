"""The training loop on a CUDA device: no host synchronisation between read-backs, every precision
and batch source trains, bf16/fp16 keep fp32 master weights. Skipped without CUDA (`-m gpu`)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch

from benchmarks.archs import build_arch
from benchmarks.profile import TrainProfile
from benchmarks.train import train
from benchmarks.trainer_data import TrainPairs, make_batch_source
from methods import build_method

pytestmark = pytest.mark.gpu
PROFILE = TrainProfile(name="cuda", iterations=60, batch_size=4, patch_size=16, lr=1e-4, checkpoint_every=60,
                       log_every=20)


@pytest.fixture(scope="module")
def pairs():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    rng = np.random.default_rng(0)
    return TrainPairs.build([rng.integers(0, 256, (96, 96, 3), dtype=np.uint8) for _ in range(4)], 2, 16)


def _train(pairs, tmp_path, source="gpu", **fields):
    torch.manual_seed(0)
    device = torch.device("cuda")
    method = build_method("baseline", build_arch("edsr", 2, num_blocks=2, num_feat=16))
    profile = dataclasses.replace(PROFILE, **fields)
    batches = make_batch_source(pairs, patch_size=16, scale=2, augment=True, seed=0, batch_size=4, pixel_range=1,
                                device=device, source=source, workers=2)
    try:
        return method, train(method, batches, profile, tmp_path, device, progress=False)
    finally:
        batches.close()


def test_steps_between_read_backs_do_not_synchronise(pairs, tmp_path, monkeypatch):
    _train(pairs, tmp_path / "warm")  # cuDNN autotuning and lazy initialisation outside the count
    # the final checkpoint copies every tensor to the host (one sync each): not a training step
    monkeypatch.setattr("benchmarks.train._save_checkpoint", lambda *args: None)
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _train(pairs, tmp_path / "counted", iterations=60, log_every=20, checkpoint_every=1000)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in caught if "synchroniz" in str(w.message)]
    # 3 loss read-backs and the final NaN check, a few syncs each; a per-step sync would give 60+
    assert len(syncs) < 20, [str(w.message)[:120] for w in syncs[:5]]


@pytest.mark.parametrize("precision", ["fp32", "tf32", "bf16", "fp16"])
def test_every_precision_trains_fp32_master_weights(pairs, tmp_path, precision):
    method, outcome = _train(pairs, tmp_path, precision=precision, channels_last=precision == "bf16")
    assert outcome.steps == 60 and outcome.precision == precision
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in method.parameters())
    assert np.isfinite(list(outcome.last_losses.values())).all()


@pytest.mark.parametrize("source", ["host", "loader", "gpu"])
def test_every_batch_source_gives_the_same_model(pairs, tmp_path, source):
    reference, _ = _train(pairs, tmp_path / "ref", source="host")
    method, outcome = _train(pairs, tmp_path / source, source=source)
    assert outcome.data.startswith({"host": "host", "loader": "DataLoader", "gpu": "gpu-resident"}[source])
    for a, b in zip(reference.state_dict().values(), method.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)  # same batches; cuDNN may pick other kernels
