"""Precision, channels_last and the host-sync budget of the training loop (CPU)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from benchmarks.archs import build_arch
from benchmarks.errors import BenchError
from benchmarks.precision import Precision
from benchmarks.profile import TrainProfile
from benchmarks.train import CHECKPOINT, train
from methods import build_method

from .batches import host_batches

PROFILE = TrainProfile(name="p", iterations=8, batch_size=2, patch_size=8, lr=1e-3, checkpoint_every=4, log_every=2)


def images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (40, 36, 3), dtype=np.uint8) for _ in range(3)]


def run(tmp_path, **fields):
    torch.manual_seed(0)
    method = build_method("baseline", build_arch("edsr", 2, num_blocks=1, num_feat=8))
    outcome = train(method, host_batches(images()), dataclasses.replace(PROFILE, **fields), tmp_path,
                    torch.device("cpu"), progress=False)
    return method, outcome


def test_profile_fields_are_checked_and_left_out_of_the_key_at_their_defaults():
    with pytest.raises(BenchError, match="precision must be one of fp32, tf32, bf16, fp16, got 'fp8'"):
        dataclasses.replace(PROFILE, precision="fp8")
    with pytest.raises(BenchError, match="channels_last must be true or false"):
        dataclasses.replace(PROFILE, channels_last="yes")
    assert "precision" not in PROFILE.identity()
    assert dataclasses.replace(PROFILE, precision="bf16").identity()["precision"] == "bf16"
    assert "data_source" not in dataclasses.replace(PROFILE, data_source="loader").identity()


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_autocast_trains_fp32_master_weights(tmp_path, precision):
    fp32, _ = run(tmp_path / "fp32")
    method, outcome = run(tmp_path / precision, precision=precision)
    assert outcome.precision == precision and outcome.steps == 8
    assert all(p.dtype == torch.float32 for p in method.parameters())
    drift = max(float((a - b).detach().abs().max()) for a, b in zip(method.parameters(), fp32.parameters()))
    assert 0 < drift < 5e-3  # low-precision forwards: close to fp32, not identical


def test_fp16_scaler_state_is_checkpointed(tmp_path):
    run(tmp_path, precision="fp16")
    state = torch.load(tmp_path / CHECKPOINT, weights_only=True)
    assert set(state["scalers"]) == {"G"} and state["scalers"]["G"]["scale"] > 0


def test_channels_last_gives_the_same_model(tmp_path):
    plain, _ = run(tmp_path / "a")
    nhwc, _ = run(tmp_path / "b", channels_last=True)
    for a, b in zip(plain.state_dict().values(), nhwc.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_tf32_flags_are_restored_after_training(tmp_path):
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark)
    with Precision("tf32").backend_flags(torch.device("cpu")):
        assert torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
            torch.backends.cudnn.benchmark) == before


class Watched(torch.Tensor):
    """A loss term that counts how often its value (or anything computed from it) goes to the host."""

    reads = 0
    READS = {torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.__float__, torch.Tensor.__bool__}

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in cls.READS:
            cls.reads += 1
        return super().__torch_function__(func, types, args, kwargs or {})


def test_losses_are_read_back_once_per_log_window_and_checkpoint(tmp_path):
    torch.manual_seed(0)
    method = build_method("baseline", build_arch("edsr", 2, num_blocks=1, num_feat=8))
    original = method.losses

    def watched(lr, hr, step):
        for group, terms in original(lr, hr, step):
            yield group, {k: v.as_subclass(Watched) for k, v in terms.items()}

    method.losses = watched
    Watched.reads = 0
    train(method, host_batches(images()), dataclasses.replace(PROFILE, iterations=40, log_every=10,
                                                              checkpoint_every=20), tmp_path, torch.device("cpu"),
          progress=False)
    # 4 log windows (+ up to 2 NaN checks before the checkpoints); a per-step read would be 40+
    assert 4 <= Watched.reads <= 4 + 2
