"""SRGAN training (methods/srgan.py) on tiny models: each term against a hand computation,
which parameters each optimizer steps, the G/D schedule, EMA, a discriminator input, PSNR
pre-training. The VGG19 is the conftest's VGG-shaped stand-in (random, 1/16 of the channels)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from benchmarks.archs.discriminators import build_discriminator
from benchmarks.errors import BenchError
from methods import build_method
from methods._perceptual import IMAGENET_MEAN, IMAGENET_STD
from tests.gan.grads import grads_per_group, names_of

from .conftest import batch

GAN = {"d_num_feat": 4}


def phi(vgg, x, layer):
    x = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    for name, module in vgg.named_children():
        x = module(x)
        if name == layer:
            return x


def softplus_mean(x):
    return torch.log1p(torch.exp(x)).mean()


def test_psnr_pretrain_is_mse_or_l1(tiny_student, train_ctx):
    lr, hr = batch(torch.Generator().manual_seed(0))
    for crit, fn in (("mse", lambda a, b: ((a - b) ** 2).mean()), ("l1", lambda a, b: (a - b).abs().mean())):
        m = build_method("psnr-pretrain", tiny_student, {"pixel_criterion": crit}, ctx=train_ctx)
        (group, terms), = list(m.losses(lr, hr, 0))
        want = fn(tiny_student(lr), hr).detach()
        assert group == "G" and float(terms["pixel"].detach()) == pytest.approx(float(want), rel=1e-6)


def test_generator_and_discriminator_terms_by_hand(tiny_student, train_ctx):
    cfg = {**GAN, "pixel_weight": 0.01}
    m = build_method("srgan", tiny_student, cfg, ctx=train_ctx).train()
    lr, hr = batch(torch.Generator().manual_seed(1))
    vgg, d = m.frozen("vgg"), m.adversary.net
    with torch.no_grad():
        sr = tiny_student(lr)
        s = 1 / 12.75  # SRGAN paper: relu5_4 features / 12.75, MSE
        content = F.mse_loss(phi(vgg, sr, "relu5_4") * s, phi(vgg, hr, "relu5_4") * s)
        fake = d(sr)
        adversarial = 1e-3 * softplus_mean(-fake)           # -log sigmoid(D(SR)), weight 1e-3
        pixel = 0.01 * (sr - hr).abs().mean()                 # BasicSR-style L1 pixel term
    gen = m.losses(lr, hr, 0)
    group, terms = next(gen)
    assert group == "G" and set(terms) == {"content", "pixel", "adversarial"}
    assert float(terms["content"]) == pytest.approx(float(content), rel=1e-5)
    assert float(terms["adversarial"]) == pytest.approx(float(adversarial), rel=1e-5)
    assert float(terms["pixel"]) == pytest.approx(float(pixel), rel=1e-6)
    with torch.no_grad():  # D sees the same SR (not stepped yet) and HR
        real, fake = d(hr), d(sr)
    group, terms, diag = next(gen)
    assert group == "D"
    assert float(terms["d_real"]) == pytest.approx(float(softplus_mean(-real)), rel=1e-5)
    assert float(terms["d_fake"]) == pytest.approx(float(softplus_mean(fake)), rel=1e-5)
    assert float(diag["d_real_logit"]) == pytest.approx(float(real.mean()), rel=1e-5)


def test_each_optimizer_steps_only_its_network(tiny_student, train_ctx):
    m = build_method("srgan", tiny_student, GAN, ctx=train_ctx)
    lr, hr = batch(torch.Generator().manual_seed(2))
    seen = grads_per_group(m, lr, hr, extra={"vgg": m.frozen("vgg")})
    g, d = names_of(m, m.student), names_of(m, m.adversary)
    assert list(seen) == ["G", "D"]
    assert seen["G"] == g          # every generator weight, no D weight (D frozen in G's step), no VGG
    assert seen["D"] == d          # every D weight, nothing of G (SR detached)
    groups = m.param_groups()
    assert {id(p) for p in groups["G"]} == {id(p) for p in m.student.parameters() if p.requires_grad}
    assert {id(p) for p in groups["D"]} == {id(p) for p in m.adversary.parameters()}


def test_update_schedule_net_d_iters_and_init_iters(tiny_student, train_ctx):
    m = build_method("srgan", tiny_student, {**GAN, "net_d_iters": 2, "net_d_init_iters": 2}, ctx=train_ctx)
    lr, hr = batch(torch.Generator().manual_seed(3))
    groups = [[item[0] for item in m.losses(lr, hr, step)] for step in range(5)]
    # BasicSR at iteration i = step + 1: G when i % 2 == 0 and i > 2; D every iteration
    assert groups == [["D"], ["D"], ["D"], ["G", "D"], ["D"]]


def test_ema_generator_is_evaluated_and_follows_the_decay(tiny_student, train_ctx):
    m = build_method("srgan", tiny_student, {**GAN, "ema_decay": 0.9}, ctx=train_ctx)
    start = [p.detach().clone() for p in m.student.parameters()]
    lr, hr = batch(torch.Generator().manual_seed(4))
    grads_per_group(m, lr, hr)
    assert m.sr_models()["student"] is m.ema.net and m.saved_models()["student"] is m.ema.net
    for e, s0, s1 in zip(m.ema.net.parameters(), start, m.student.parameters()):
        assert torch.allclose(e, 0.9 * s0 + 0.1 * s1.detach(), atol=1e-7)


def test_discriminator_input_gives_d_its_weights(tiny_student, train_ctx):
    d0 = build_discriminator("srgan", num_feat=4)
    m = build_method("srgan", tiny_student, GAN, ctx=train_ctx, inputs={"discriminator": d0})
    assert all(torch.equal(a, b) for a, b in zip(m.adversary.net.state_dict().values(), d0.state_dict().values()))
    assert m.saved_models()["discriminator"] is m.adversary.net
    with pytest.raises(BenchError, match="the discriminator input: .*differ in shape"):
        build_method("srgan", tiny_student, {"d_num_feat": 8}, ctx=train_ctx, inputs={"discriminator": d0})


def test_relativistic_generator_loss_uses_detached_real_logits(tiny_student, train_ctx):
    m = build_method("srgan", tiny_student, {**GAN, "gan_type": "ragan"}, ctx=train_ctx).train()
    lr, hr = batch(torch.Generator().manual_seed(5))
    d = m.adversary.net
    with torch.no_grad():
        real, fake = d(hr), d(tiny_student(lr))
        want = 1e-3 * 0.5 * (softplus_mean(real - fake.mean()) + softplus_mean(-(fake - real.mean())))
    _, terms = next(m.losses(lr, hr, 0))
    assert float(terms["adversarial"]) == pytest.approx(float(want), rel=1e-5)


def test_content_only_generator_has_no_discriminator(tiny_student, train_ctx):
    m = build_method("srgan-content", tiny_student, {}, ctx=train_ctx)
    lr, hr = batch(torch.Generator().manual_seed(6))
    seen = grads_per_group(m, lr, hr, extra={"vgg": m.frozen("vgg")})
    assert seen == {"G": names_of(m, m.student)}
    with pytest.raises(BenchError, match="does not take a 'discriminator' input"):
        build_method("srgan-content", tiny_student, {}, ctx=train_ctx,
                     inputs={"discriminator": build_discriminator("srgan", num_feat=4)})
