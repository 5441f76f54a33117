"""The GAN kit's losses against hand computation: vanilla and relativistic-average BCE, the
Bernoulli KL of paper 003 (with and without temperature), the G/D schedule, D frozen in G's
step, detached SR in D's step, and G's EMA."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from methods._gan import (EMA, Adversary, AdversarialConfig, bernoulli_kl, frozen_params, g_steps,
                          ragan_d, ragan_g, vanilla_d, vanilla_g)
from methods.base import TrainContext

REAL = torch.tensor([[2.0], [-1.0]])
FAKE = torch.tensor([[0.5], [-0.5]])


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def bce(logit: float, target: float) -> float:
    """-[t log s(l) + (1 - t) log(1 - s(l))], written out."""
    return target * softplus(-logit) + (1 - target) * softplus(logit)


def test_vanilla_losses_by_hand():
    d = vanilla_d(REAL, FAKE)
    assert float(d["d_real"]) == pytest.approx((softplus(-2.0) + softplus(1.0)) / 2)  # BCE(real, 1)
    assert float(d["d_fake"]) == pytest.approx((softplus(0.5) + softplus(-0.5)) / 2)  # BCE(fake, 0)
    # non-saturating G: -log sigmoid(D(SR))
    assert float(vanilla_g(None, FAKE)) == pytest.approx((softplus(-0.5) + softplus(0.5)) / 2)


def test_relativistic_average_losses_by_hand():
    real, fake = [2.0, -1.0], [0.5, -0.5]
    mr, mf = sum(real) / 2, sum(fake) / 2  # 0.5, 0.0
    d = ragan_d(REAL, FAKE)
    assert float(d["d_real"]) == pytest.approx(0.5 * sum(bce(r - mf, 1) for r in real) / 2)
    assert float(d["d_fake"]) == pytest.approx(0.5 * sum(bce(f - mr, 0) for f in fake) / 2)
    g = ragan_g(REAL, FAKE)
    want = 0.5 * (sum(bce(r - mf, 0) for r in real) / 2 + sum(bce(f - mr, 1) for f in fake) / 2)
    assert float(g) == pytest.approx(want)


def test_ragan_generator_loss_does_not_reach_the_real_branch():
    real = REAL.clone().requires_grad_(True)
    fake = FAKE.clone().requires_grad_(True)
    ragan_g(real, fake).backward()
    assert real.grad is None and fake.grad is not None


def bernoulli_kl_by_hand(t: float, s: float, temp: float) -> float:
    pt, ps = 1 / (1 + math.exp(-t / temp)), 1 / (1 + math.exp(-s / temp))
    return pt * math.log(pt / ps) + (1 - pt) * math.log((1 - pt) / (1 - ps))


@pytest.mark.parametrize("temp", [1.0, 4.0])
def test_bernoulli_kl_by_hand(temp):
    target, logits = [1.5, -0.3, 0.0], [-0.7, 0.2, 2.5]
    want = sum(bernoulli_kl_by_hand(t, s, temp) for t, s in zip(target, logits)) / 3 * temp ** 2
    got = bernoulli_kl(torch.tensor(target).view(3, 1), torch.tensor(logits).view(3, 1), temp)
    assert float(got) == pytest.approx(want, rel=1e-5)


def test_bernoulli_kl_is_zero_for_equal_logits_and_the_same_for_flipped_classes():
    x = torch.tensor([[0.3], [-2.0]])
    assert float(bernoulli_kl(x, x)) == pytest.approx(0.0, abs=1e-7)
    y = torch.tensor([[1.0], [0.5]])
    # [p, 1 - p] vs [1 - p, p]: "judged real" and "judged not real" give the same KL
    assert float(bernoulli_kl(x, y)) == pytest.approx(float(bernoulli_kl(-x, -y)))


def test_g_steps_follows_basicsr_at_one_based_iterations():
    assert [s for s in range(8) if g_steps(s, 1, 0)] == list(range(8))
    # BasicSR: G when iter % net_d_iters == 0 and iter > net_d_init_iters (iter = step + 1)
    assert [s for s in range(10) if g_steps(s, 2, 3)] == [3, 5, 7, 9]


class TinyD(nn.Module):
    """A stand-in discriminator (one conv, mean logit), for the gradient checks only."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 3, padding=1)

    def forward(self, x):
        return self.conv(x).mean(dim=(2, 3))


def test_d_is_frozen_in_the_generator_step_and_restored():
    d, g = TinyD(), nn.Conv2d(3, 3, 1)
    sr = g(torch.rand(2, 3, 8, 8))
    with frozen_params(d):
        loss = vanilla_g(None, d(sr))
    assert all(p.requires_grad for p in d.parameters())
    loss.backward()
    assert all(p.grad is None for p in d.parameters())
    assert all(p.grad is not None for p in g.parameters())


def test_adversary_d_step_detaches_sr_and_checks_the_patch():
    adv = Adversary(AdversarialConfig(d_num_feat=4), TrainContext(scale=2, lr_patch=8))
    g = nn.Conv2d(3, 3, 1)
    sr = g(torch.rand(2, 3, 16, 16))
    terms, diag, real, fake = adv.d_step(sr, torch.rand(2, 3, 16, 16))
    sum(terms.values()).backward()
    assert all(p.grad is None for p in g.parameters())
    assert all(p.grad is not None for p in adv.parameters() if p.requires_grad)
    assert float(diag["d_real_logit"]) == pytest.approx(float(real.detach().mean()))
    assert float(terms["d_fake"].detach()) == pytest.approx(float(vanilla_d(real, fake)["d_fake"].detach()))
    from benchmarks.errors import BenchError
    with pytest.raises(BenchError, match="at least 16"):
        Adversary(AdversarialConfig(d_num_feat=4), TrainContext(scale=2, lr_patch=4))
    with pytest.raises(BenchError, match="vgg128.*128x128.*96x96"):
        Adversary(AdversarialConfig(discriminator="vgg128", d_num_feat=4), TrainContext(scale=4, lr_patch=24))


def test_ema_by_hand():
    net = nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    ema = EMA(net, 0.9)
    assert not any(p.requires_grad for p in ema.parameters())
    with torch.no_grad():
        net[0].weight.fill_(3.0)
        net[1].running_mean.fill_(5.0)
    ema.update(net)
    assert torch.allclose(ema.net[0].weight, torch.full((1, 2), 0.9 * 1.0 + 0.1 * 3.0))
    assert float(ema.net[1].running_mean) == 5.0  # buffers are copied
