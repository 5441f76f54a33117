"""Paper 003's discriminator mutual learning (methods/dml_srgan.py) on tiny models: L_md against
a hand-computed Bernoulli KL (ML and the softened ML*), which parameters each of the four
optimizers steps (the peer's D none: its logits are detached), Independent has no L_md, the
peer input, both generators evaluated."""

from __future__ import annotations

import math

import pytest
import torch

from benchmarks.errors import BenchError
from methods import build_method
from tests.gan.grads import grads_per_group, names_of

from .conftest import batch

CFG = {"d_num_feat": 4}


def kl_by_hand(t: torch.Tensor, s: torch.Tensor, temp: float) -> float:
    total = 0.0
    for a, b in zip(t.flatten().tolist(), s.flatten().tolist()):
        pt, ps = 1 / (1 + math.exp(-a / temp)), 1 / (1 + math.exp(-b / temp))
        total += pt * math.log(pt / ps) + (1 - pt) * math.log((1 - pt) / (1 - ps))
    return total / t.numel() * temp ** 2


def test_mutual_loss_of_one_discriminator_by_hand(tiny_student, train_ctx):
    for mutual, temp in (("kl", 1.0), ("soft", 4.0)):
        m = build_method("srgan-ml", tiny_student, {**CFG, "mutual": mutual}, ctx=train_ctx)
        gen = torch.Generator().manual_seed(1)
        real, fake, peer_real, peer_fake = (torch.randn(3, 1, generator=gen) for _ in range(4))
        got = m.mutual_loss(real, fake, peer_real, peer_fake)
        want = kl_by_hand(peer_fake, fake, temp) + kl_by_hand(peer_real, real, temp)  # KL_SR + KL_HR
        assert float(got) == pytest.approx(want, rel=1e-5)
    assert m.cfg.temperature == 4.0  # ML*'s default T (our choice)


def test_discriminator_terms_use_the_peers_logits_of_the_same_forward(tiny_student, train_ctx):
    m = build_method("srgan-ml", tiny_student, {**CFG, "net_d_iters": 2}, ctx=train_ctx).train()
    lr, hr = batch(torch.Generator().manual_seed(2))
    da, db = m.adversary.net, m.adversary_b.net
    with torch.no_grad():  # step 0 with net_d_iters 2: no G step, so the SRs are the ones below
        sr_a, sr_b = m.student(lr), m.peer_b(lr)
        a_real, a_fake, b_real, b_fake = da(hr), da(sr_a), db(hr), db(sr_b)
    items = list(m.losses(lr, hr, 0))  # no optimizer steps: the D_b term sees D_a's logits above
    assert [i[0] for i in items] == ["D_a", "D_b"]
    (_, ta, _), (_, tb, _) = items
    want_a = kl_by_hand(b_fake, a_fake, 1.0) + kl_by_hand(b_real, a_real, 1.0)
    want_b = kl_by_hand(a_fake, b_fake, 1.0) + kl_by_hand(a_real, b_real, 1.0)
    assert float(ta["mutual"].detach()) == pytest.approx(want_a, rel=1e-4)
    assert float(tb["mutual"].detach()) == pytest.approx(want_b, rel=1e-4)
    assert float(ta["d_real"].detach()) == pytest.approx(float(torch.log1p(torch.exp(-a_real)).mean()), rel=1e-5)


def test_each_of_the_four_optimizers_steps_only_its_network(tiny_student, train_ctx):
    m = build_method("srgan-ml", tiny_student, {**CFG, "mutual": "soft"}, ctx=train_ctx)
    lr, hr = batch(torch.Generator().manual_seed(3))
    seen = grads_per_group(m, lr, hr, extra={"vgg": m.frozen("vgg")})
    assert list(seen) == ["G_a", "G_b", "D_a", "D_b"]
    assert seen["G_a"] == names_of(m, m.student)
    assert seen["G_b"] == names_of(m, m.peer_b)
    assert seen["D_a"] == names_of(m, m.adversary)      # not D_b: the peer's logits are detached
    assert seen["D_b"] == names_of(m, m.adversary_b)


def test_independent_has_no_mutual_term(tiny_student, train_ctx):
    m = build_method("srgan-ml", tiny_student, {**CFG, "mutual": "none"}, ctx=train_ctx)
    lr, hr = batch(torch.Generator().manual_seed(4))
    d_terms = [set(i[1]) for i in m.losses(lr, hr, 0) if i[0].startswith("D")]
    assert d_terms == [{"d_real", "d_fake"}, {"d_real", "d_fake"}]


def test_peers_are_evaluated_and_saved(tiny_student, make_edsr, train_ctx):
    m = build_method("srgan-ml", tiny_student, CFG, ctx=train_ctx)
    assert m.evaluated_outputs(m.cfg) == ("student", "peer_b") == tuple(m.sr_models())
    assert set(m.saved_models()) == {"student", "peer_b", "discriminator", "discriminator_b"}
    # without a peer input, peer B is the student's architecture, initialised independently
    assert m.peer_b.arch_info == tiny_student.arch_info
    assert not all(torch.equal(a, b) for a, b in zip(m.peer_b.parameters(), tiny_student.parameters()))
    peer = make_edsr()
    with_peer = build_method("srgan-ml", tiny_student, CFG, ctx=train_ctx, inputs={"peer": peer})
    assert with_peer.peer_b is peer
    with pytest.raises(BenchError, match="peer input does not have the student's structure"):
        build_method("srgan-ml", tiny_student, CFG, ctx=train_ctx, inputs={"peer": make_edsr(num_feat=6)})
