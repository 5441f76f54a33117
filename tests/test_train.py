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
from methods import build_method

from .batches import host_batches

PROFILE = TrainProfile(name="t", iterations=6, batch_size=2, patch_size=8, lr=1e-3, checkpoint_every=2,
                       milestones=(3,))


def images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (40, 36, 3), dtype=np.uint8) for _ in range(3)]


def fresh(seed=0):
    torch.manual_seed(seed)
    method = build_method("baseline", build_arch("edsr", 2, num_blocks=1, num_feat=4))
    return method, host_batches(images(), 2, 8, PROFILE.batch_size)


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
    with pytest.raises(TrainingDiverged, match=r"G/l1 became non-finite between steps 3 and 4"):
        train(method, sampler, dataclasses.replace(PROFILE), tmp_path, torch.device("cpu"), progress=False)
    assert (tmp_path / CHECKPOINT).is_file()


# --------------------------------------------------------------------------- per-group optimisation
def gan_like(**cfg):
    from tests.graph import graph_methods  # noqa: F401  (registers test-gan-like)

    torch.manual_seed(0)
    return build_method("test-gan-like", build_arch("edsr", 2, num_blocks=1, num_feat=4), cfg)


def test_each_group_gets_its_own_settings_profile_groups_win():
    from benchmarks.profile import TrainProfile as P
    from benchmarks.train import Optimization

    profile = P.from_mapping("t", {"iterations": 4, "batch_size": 2, "patch_size": 8, "lr": 1e-3,
                                   "groups": {"D": {"betas": [0.5, 0.9]}}}, "test")
    optim = Optimization.for_profile(gan_like(d_lr=4e-4), profile)
    assert optim.lr("G") == pytest.approx(1e-3) and optim.lr("D") == pytest.approx(4e-4)  # method's D lr
    assert optim.optimizers["D"].param_groups[0]["betas"] == (0.5, 0.9)
    over = P.from_mapping("t", {"iterations": 4, "batch_size": 2, "patch_size": 8, "lr": 1e-3,
                                "groups": {"D": {"lr": 2e-4}}}, "test")
    assert Optimization.for_profile(gan_like(d_lr=4e-4), over).lr("D") == pytest.approx(2e-4)


def test_bad_group_settings_name_the_field():
    from benchmarks.errors import BenchError
    from benchmarks.profile import TrainProfile as P

    with pytest.raises(BenchError, match=r"groups.D: unknown field 'momentum'"):
        P.from_mapping("t", {"iterations": 1, "batch_size": 1, "patch_size": 8, "lr": 1e-3,
                             "groups": {"D": {"momentum": 0.9}}}, "m: profiles.t")


def test_an_unstepped_group_does_not_advance_its_schedule():
    from benchmarks.profile import GroupSettings
    from benchmarks.train import Optimization, train_step

    method = gan_like(d_every=2)
    optim = Optimization(method, {"G": GroupSettings(1e-3, milestones=(3,)), "D": GroupSettings(1e-3, milestones=(3,))})
    gen = torch.Generator().manual_seed(0)
    stepped = []
    for step in range(4):
        lr = torch.rand(2, 3, 8, 8, generator=gen)
        result = train_step(method, optim, lr, torch.rand(2, 3, 16, 16, generator=gen), step)
        stepped.append(result.stepped)
    assert stepped == [("G", "D"), ("G",), ("G", "D"), ("G",)]
    assert optim.lr("G") == pytest.approx(5e-4)  # G stepped 4 times: past its milestone 3
    assert optim.lr("D") == pytest.approx(1e-3)  # D stepped twice: not yet


def test_warmup_ramps_the_learning_rate():
    from benchmarks.profile import GroupSettings

    g = GroupSettings(1e-3, warmup=4, milestones=(6,))
    assert [g.factor(s) for s in range(8)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 0.5, 0.5]


def test_diagnostics_are_logged_not_back_propagated():
    from benchmarks.train import Optimization, train_step

    method = gan_like()
    result = train_step(method, Optimization.uniform(method, 1e-3), torch.rand(2, 3, 8, 8),
                        torch.rand(2, 3, 16, 16), 0)
    assert set(result.losses) == {"G/l1", "D/gap"} and set(result.diagnostics) == {"D/d_real"}


def test_frozen_helpers_are_neither_optimised_nor_saved(tmp_path):
    method = gan_like()
    helper = method.frozen("helper")
    before = {k: v.clone() for k, v in helper.state_dict().items()}
    sampler = host_batches(images(), 2, 8, PROFILE.batch_size)
    train(method, sampler, PROFILE, tmp_path, torch.device("cpu"), progress=False)
    state = torch.load(tmp_path / CHECKPOINT, weights_only=True)["method"]
    assert not any(k.startswith(("helper", "_frozen", "teacher")) for k in state)
    assert any(k.startswith("disc.") for k in state)  # the method's own trained modules are kept
    assert all(torch.equal(before[k], v) for k, v in helper.state_dict().items())
    assert not any(p.requires_grad for p in helper.parameters())
    ids = {id(p) for ps in method.param_groups().values() for p in ps}
    assert not ids & {id(p) for p in helper.parameters()}


def test_the_loss_curve_is_logged_during_training(tmp_path):
    from benchmarks.loss_log import read_loss_csv

    method, sampler = fresh()
    train(method, sampler, dataclasses.replace(PROFILE, log_every=2), tmp_path, torch.device("cpu"), progress=False)
    curve = read_loss_csv(tmp_path)
    assert sorted(set(curve["step"])) == [2, 4, 6] and set(curve["name"]) == {"G/l1"}


def test_a_step_an_fp16_scaler_skips_does_not_advance_the_schedule():
    from benchmarks.profile import GroupSettings
    from benchmarks.train import Optimization, train_step

    method = gan_like(d_every=1)
    optim = Optimization(method, {"G": GroupSettings(1e-3, milestones=(1,)), "D": GroupSettings(1e-3, milestones=(1,))})
    scalers = {"G": torch.amp.GradScaler("cpu"), "D": torch.amp.GradScaler("cpu")}
    original = method.losses

    def inf_grad_losses(lr, hr, step):
        for item in original(lr, hr, step):
            if item[0] == "D":  # a finite loss whose gradient is infinite: sqrt'(0) = inf
                b = method.disc.bias
                yield "D", {"gap": item[1]["gap"] + torch.sqrt((b - b.detach()).sum())}
            else:
                yield item

    method.losses = inf_grad_losses
    before = [p.clone() for p in method.disc.parameters()]
    result = train_step(method, optim, torch.rand(2, 3, 8, 8), torch.rand(2, 3, 16, 16), 0, scalers=scalers)
    assert result.stepped == ("G",)  # the scaler skipped D's step
    assert all(torch.equal(a, b) for a, b in zip(before, method.disc.parameters()))
    assert optim.lr("G") == pytest.approx(5e-4) and optim.lr("D") == pytest.approx(1e-3)
