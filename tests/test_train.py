"""Training loop: resume after a kill gives the same weights; NaN losses stop with a clear error."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from benchmarks.archs import build_arch
from benchmarks.errors import TrainingDiverged
from benchmarks.spec import TrainProfile
from benchmarks.train import CHECKPOINT, train
from benchmarks.trainer_data import PatchSampler
from methods import build_method

PROFILE = TrainProfile(name="t", iterations=6, batch_size=2, patch_size=8, lr=1e-3, checkpoint_every=2,
                       milestones=(3,))


def images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (40, 36, 3), dtype=np.uint8) for _ in range(3)]


def fresh(seed=0):
    torch.manual_seed(seed)
    method = build_method("baseline", build_arch("edsr", 2, num_blocks=1, num_feat=4))
    return method, PatchSampler(images(), 2, 8, True, seed=0)


def test_sampler_patches_are_aligned():
    sampler = PatchSampler(images(), 2, 8, augment=True, seed=1)
    lr, hr = sampler.batch(3)
    assert lr.shape == (3, 3, 8, 8) and hr.shape == (3, 3, 16, 16)
    assert 0.0 <= float(lr.min()) and float(hr.max()) <= 1.0


def test_resume_after_kill_matches_uninterrupted_run(tmp_path):
    method, sampler = fresh()
    train(method, sampler, PROFILE, tmp_path / "a", torch.device("cpu"), progress=False)
    expected = {k: v.clone() for k, v in method.state_dict().items()}

    method, sampler = fresh()
    original = method.losses
    calls = {"n": 0}

    def dying_losses(lr, hr, step):
        if step == 5 and calls["n"] == 0:
            calls["n"] += 1
            raise KeyboardInterrupt  # a kill after the step-4 checkpoint
        return original(lr, hr, step)

    method.losses = dying_losses
    with pytest.raises(KeyboardInterrupt):
        train(method, sampler, PROFILE, tmp_path / "b", torch.device("cpu"), progress=False)
    assert torch.load(tmp_path / "b" / CHECKPOINT, weights_only=True)["step"] == 4

    method, sampler = fresh(seed=123)  # different init: everything must come from the checkpoint
    outcome = train(method, sampler, PROFILE, tmp_path / "b", torch.device("cpu"), progress=False)
    assert outcome.steps == 6
    for key, value in method.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0)


def test_nan_loss_raises_training_diverged_and_keeps_checkpoint(tmp_path):
    method, sampler = fresh()
    original = method.losses

    def nan_losses(lr, hr, step):
        for group, terms in original(lr, hr, step):
            yield group, {k: v * float("nan") if step == 3 else v for k, v in terms.items()}

    method.losses = nan_losses
    with pytest.raises(TrainingDiverged, match=r"G/l1 is nan at step 3"):
        train(method, sampler, dataclasses.replace(PROFILE), tmp_path, torch.device("cpu"), progress=False)
    assert (tmp_path / CHECKPOINT).is_file()
