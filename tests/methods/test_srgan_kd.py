"""Paper 001's KD variants (methods/srgan_kd.py) on tiny models: l_KD against a hand computation,
which parameters each optimizer steps (the teacher none; G never D's and vice versa), and the
shipped matrix's two-stage rows starting stage 2 from stage 1 (init cells)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from benchmarks.matrix import load_matrix
from methods import build_method
from tests.gan.grads import grads_per_group, names_of

from .conftest import batch


def test_gan2g_adds_mse_to_the_teacher_with_the_content_weight(tiny_student, tiny_teacher, train_ctx):
    m = build_method("gan2g", tiny_student, {}, teacher=tiny_teacher, ctx=train_ctx)
    lr, hr = batch(torch.Generator().manual_seed(0))
    with torch.no_grad():
        sr, t = tiny_student(lr), tiny_teacher(lr)
        content = m.content(sr, hr)
    (group, terms), = list(m.losses(lr, hr, 0))
    assert group == "G" and set(terms) == {"content", "kd"}
    assert float(terms["kd"]) == pytest.approx(float(((sr - t) ** 2).mean()), rel=1e-6)  # weight 1 = l_c's
    assert float(terms["content"]) == pytest.approx(float(content), rel=1e-6)
    m2 = build_method("gan2g", tiny_student, {"kd_weight": 0.5}, teacher=tiny_teacher, ctx=train_ctx)
    (_, terms2), = list(m2.losses(lr, hr, 0))
    assert float(terms2["kd"]) == pytest.approx(0.5 * float(F.mse_loss(sr, t)), rel=1e-6)


def test_gan2g_steps_the_student_only(tiny_student, tiny_teacher, train_ctx):
    m = build_method("gan2g", tiny_student, {}, teacher=tiny_teacher, ctx=train_ctx)
    lr, hr = batch(torch.Generator().manual_seed(1))
    seen = grads_per_group(m, lr, hr, extra={"teacher": tiny_teacher, "vgg": m.frozen("vgg")})
    assert seen == {"G": names_of(m, m.student)}


def test_gan2gan_terms_and_groups(tiny_student, tiny_teacher, train_ctx):
    m = build_method("gan2gan", tiny_student, {"d_num_feat": 4}, teacher=tiny_teacher, ctx=train_ctx)
    assert m.cfg.d_num_feat == 4 and build_method("gan2gan", tiny_student, {}, teacher=tiny_teacher,
                                                  ctx=train_ctx).cfg.d_num_feat == 64  # the teacher's D size
    lr, hr = batch(torch.Generator().manual_seed(2))
    with torch.no_grad():
        kd = F.mse_loss(tiny_student(lr), tiny_teacher(lr))
    group, terms = next(m.losses(lr, hr, 0))
    assert group == "G" and set(terms) == {"content", "kd", "adversarial"}
    assert float(terms["kd"]) == pytest.approx(float(kd), rel=1e-6)
    seen = grads_per_group(m, lr, hr, extra={"teacher": tiny_teacher, "vgg": m.frozen("vgg")})
    assert seen == {"G": names_of(m, m.student), "D": names_of(m, m.adversary)}
    assert all(p.grad is None for p in tiny_teacher.parameters())


def test_matrix_two_stage_rows_start_from_stage_one():
    m = load_matrix("srgan-kd2021")
    for profile in ("smoke", "paper"):
        rows = {s.id: s for s in m.expand(profile)}
        assert set(rows) == {"student", "gan2gan", "gan2g", "gan2g-al", "g2g-al", "bicubic"}
        gan2g, gan2g_al, g2g_al = rows["gan2g"], rows["gan2g-al"], rows["g2g-al"]
        # GAN2G+AL: stage 2 (adversarial, no KD) from exactly the GAN2G row's cell
        assert gan2g_al.cell.method == "srgan" and gan2g_al.cell.input("init").cell == gan2g.cell
        # G2G+AL: stage 1 is GAN2G's loss with the l_c-only teacher; stage 2 as GAN2G+AL
        stage1 = g2g_al.cell.input("init").cell
        assert stage1.method == "gan2g" and g2g_al.cell.method == "srgan"
        assert stage1.input("teacher").cell.method == "srgan-content"
        assert gan2g.teacher.cell.method == "srgan" == rows["gan2gan"].teacher.cell.method
        assert gan2g.teacher.cell == rows["gan2gan"].teacher.cell  # one adversarial teacher, trained once
        # every generator starts from a PSNR pre-training cell
        for row in ("student", "gan2gan", "gan2g"):
            assert rows[row].cell.input("init").cell.method == "psnr-pretrain"
        assert stage1.input("init").cell == gan2g.cell.input("init").cell
        assert {s.scale for s in rows.values()} == {4}
