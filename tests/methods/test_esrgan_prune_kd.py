"""esrgan-prune-kd (methods/esrgan_prune_kd.py, paper 004) on tiny RRDBNets: regressors map the
student's channels to the (pruned) teacher's, the terms against a hand computation, the
teacher's discriminator loaded and fine-tuned while the teacher generator stays fixed."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from benchmarks.archs import build_arch
from benchmarks.archs.discriminators import build_discriminator
from benchmarks.derive import apply_transform
from benchmarks.errors import BenchError
from methods import build_method
from tests.gan.grads import grads_per_group, names_of

from .conftest import SCALE, batch

CFG = {"d_num_feat": 4}


def rrdb(num_feat: int, seed: int, num_blocks: int = 2):
    torch.manual_seed(seed)
    return build_arch("rrdbnet", SCALE, num_feat=num_feat, num_blocks=num_blocks, num_grow=4)


@pytest.fixture
def pair():
    return rrdb(4, 1), rrdb(8, 2)


def test_regressors_map_student_to_teacher_channels(pair, train_ctx):
    student, teacher = pair
    m = build_method("esrgan-prune-kd", student, CFG, teacher=teacher, ctx=train_ctx)
    assert m.paths == ["body.0", "body.1"]  # default: every RRDB
    assert [(r.in_channels, r.out_channels, r.kernel_size) for r in m.regressors] == [(4, 8, (1, 1))] * 2
    one = build_method("esrgan-prune-kd", rrdb(4, 1), {**CFG, "distill_blocks": [1]}, teacher=teacher,
                       ctx=train_ctx)
    assert one.paths == ["body.1"] and len(one.regressors) == 1


def test_regressors_follow_a_structurally_pruned_teacher(train_ctx):
    teacher = rrdb(16, 2)
    pruned, info = apply_transform("prune", teacher, ratio=0.3, criterion="l1-structured")
    trunk = pruned.conv_first.out_channels
    assert trunk < 16 and info["params_total"] < info["params_source"]
    m = build_method("esrgan-prune-kd", rrdb(4, 1), CFG, teacher=pruned, ctx=train_ctx)
    assert [r.out_channels for r in m.regressors] == [trunk, trunk]


def test_terms_by_hand(pair, train_ctx):
    student, teacher = pair
    cfg = {**CFG, "lambda_recon": 0.5, "lambda_distill": 2.0, "distill_blocks": [0]}
    m = build_method("esrgan-prune-kd", student, cfg, teacher=teacher, ctx=train_ctx).train()
    lr, hr = batch(torch.Generator().manual_seed(3))
    group, terms = next(m.losses(lr, hr, 0))
    assert group == "G" and set(terms) == {"recon", "distill", "adversarial"}
    feats = {}
    hs = student.body[0].register_forward_hook(lambda _m, _i, o: feats.__setitem__("s", o))
    ht = teacher.body[0].register_forward_hook(lambda _m, _i, o: feats.__setitem__("t", o))
    with torch.no_grad():
        sr = student(lr)
        teacher(lr)
        distill = F.l1_loss(m.regressors[0](feats["s"]), feats["t"])
        real, fake = m.adversary.net(hr), m.adversary.net(sr)
        bce = F.binary_cross_entropy_with_logits
        ragan = 0.5 * (bce(real - fake.mean(), torch.zeros_like(real))
                       + bce(fake - real.mean(), torch.ones_like(fake)))
    hs.remove(), ht.remove()
    assert float(terms["recon"].detach()) == pytest.approx(0.5 * float((sr - hr).abs().mean()), rel=1e-5)
    assert float(terms["distill"].detach()) == pytest.approx(2.0 * float(distill), rel=1e-5)
    assert float(terms["adversarial"].detach()) == pytest.approx(5e-3 * float(ragan), rel=1e-4)


def test_teacher_discriminator_loaded_and_fine_tuned(pair, train_ctx, steps):
    student, teacher = pair
    torch.manual_seed(7)
    d_teacher = build_discriminator("srgan", num_feat=4)
    d_before = {k: v.clone() for k, v in d_teacher.state_dict().items()}
    g_before = {k: v.clone() for k, v in teacher.state_dict().items()}
    m = build_method("esrgan-prune-kd", student, CFG, teacher=teacher, ctx=train_ctx,
                     inputs={"discriminator": d_teacher})
    loaded = m.adversary.net.state_dict()
    assert all(torch.equal(loaded[k], d_before[k]) for k in d_before)  # D starts as the teacher's
    lr, hr = batch(torch.Generator().manual_seed(0))
    seen = grads_per_group(m, lr, hr, extra={"teacher": teacher})
    assert names_of(m, m.adversary) <= seen["D"] and not seen["D"] & names_of(m, m.student)
    assert names_of(m, m.regressors) <= seen["G"] and not seen["G"] & names_of(m, m.adversary)
    assert not any(n.startswith("teacher.") for g in seen.values() for n in g)
    steps(m, 3)
    tuned = m.adversary.net.state_dict()
    assert any(not torch.equal(tuned[k], d_before[k]) for k in d_before if k.endswith("weight"))
    assert all(torch.equal(v, g_before[k]) for k, v in teacher.state_dict().items())
    assert "discriminator" in m.saved_models() and m.sr_model() is student


def test_bad_settings_are_one_line_errors(pair, train_ctx):
    student, teacher = pair
    with pytest.raises(BenchError, match="distill_blocks"):
        build_method("esrgan-prune-kd", student, {**CFG, "distill_blocks": [5]}, teacher=teacher, ctx=train_ctx)
    with pytest.raises(BenchError, match="lambda_distill"):
        build_method("esrgan-prune-kd", student, {"lambda_distill": -1.0}, teacher=teacher, ctx=train_ctx)
    with pytest.raises(BenchError, match="distill_criterion"):
        build_method("esrgan-prune-kd", student, {"distill_criterion": "cos"}, teacher=teacher, ctx=train_ctx)
    wrong_d = build_discriminator("srgan", num_feat=8)
    with pytest.raises(BenchError):
        build_method("esrgan-prune-kd", student, CFG, teacher=teacher, ctx=train_ctx,
                     inputs={"discriminator": wrong_d})
