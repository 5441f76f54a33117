"""LSFD: the difference-based weights by hand; the regressors are auxiliary, not in the SR model."""

from __future__ import annotations

import math

import pytest
import torch

from methods import build_method
from methods.lsfd import selective_weights


def test_weights_by_hand():
    sr_t = torch.tensor([[0.0, 1.0], [2.0, 1.0]]).view(1, 1, 2, 2)
    sr_s = torch.zeros(1, 1, 2, 2)  # difference map D = [[0, 1], [2, 1]], mean 1
    lin = selective_weights(sr_t, sr_s, (2, 2), "linear")
    assert torch.allclose(lin.flatten(), torch.tensor([0.0, 1.0, 2.0, 1.0]), atol=1e-6)
    soft = selective_weights(sr_t, sr_s, (2, 2), "softmax", temperature=1.0)
    z = 1 + 2 * math.e + math.e ** 2
    expected = torch.tensor([4 / z, 4 * math.e / z, 4 * math.e ** 2 / z, 4 * math.e / z])
    assert torch.allclose(soft.flatten(), expected, atol=1e-6)
    sharp = selective_weights(sr_t, sr_s, (2, 2), "softmax", temperature=0.5)
    z2 = 1 + 2 * math.e ** 2 + math.e ** 4
    assert sharp.flatten()[2].item() == pytest.approx(4 * math.e ** 4 / z2, rel=1e-6)
    assert torch.equal(selective_weights(sr_t, sr_s, (2, 2), "none"), torch.ones(1, 1, 2, 2))


def test_difference_is_channel_mean_and_area_pooled_to_the_feature_size():
    sr_t = torch.zeros(1, 3, 4, 4)
    sr_t[:, 0, :2, :2] = 3.0  # channel mean 1 over the top-left 2x2 block, 0 elsewhere
    w = selective_weights(sr_t, torch.zeros_like(sr_t), (2, 2), "linear")
    # pooled D = [[1, 0], [0, 0]], mean 0.25 -> weights [[4, 0], [0, 0]]
    assert torch.allclose(w.flatten(), torch.tensor([4.0, 0.0, 0.0, 0.0]), atol=1e-5)


@pytest.mark.parametrize("attention", ["softmax", "linear", "none"])
def test_equal_outputs_give_uniform_finite_weights(attention):
    x = torch.rand(2, 3, 4, 4)
    w = selective_weights(x, x.clone(), (2, 2), attention)
    assert torch.allclose(w, torch.ones_like(w))


def test_regressors_map_student_to_teacher_channels(tiny_student, tiny_teacher):
    method = build_method("lsfd", tiny_student, {"regressor_kernel": 3}, teacher=tiny_teacher)
    assert [(r.in_channels, r.out_channels, r.kernel_size) for r in method.regressors] == \
        [(8, 16, (3, 3))] * 3
    group = {id(p) for p in method.param_groups()["G"]}
    assert all(id(p) in group for p in method.regressors.parameters())
    assert not any(k.startswith("regressors") for k in method.sr_model().state_dict())


def test_none_attention_is_plain_fitnet_l1(tiny_student, tiny_teacher):
    method = build_method("lsfd", tiny_student, {"attention": "none"}, teacher=tiny_teacher)
    lr, hr = torch.rand(2, 3, 6, 6), torch.rand(2, 3, 12, 12)
    (_, terms), = list(method.losses(lr, hr, 0))
    feats = {}
    mods_s, mods_t = dict(tiny_student.named_modules()), dict(tiny_teacher.named_modules())
    hooks = [mods_s[p].register_forward_hook(lambda _m, _i, o, k=("s", p): feats.__setitem__(k, o))
             for p in method.student_paths]
    hooks += [mods_t[p].register_forward_hook(lambda _m, _i, o, k=("t", p): feats.__setitem__(k, o))
              for p in method.teacher_paths]
    with torch.no_grad():
        tiny_student(lr), tiny_teacher(lr)
        expected = sum((r(feats["s", ps]) - feats["t", pt]).abs().mean() for r, ps, pt in
                       zip(method.regressors, method.student_paths, method.teacher_paths))
    for h in hooks:
        h.remove()
    assert terms["fd"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_defaults_are_the_literal_reading(tiny_student, tiny_teacher):
    method = build_method("lsfd", tiny_student, {}, teacher=tiny_teacher)
    assert {r.kernel_size for r in method.regressors} == {(3, 3)}       # "local": a 3x3 regressor
    assert method.cfg.attention == "softmax" and method.cfg.difference == "output"
    assert method.student_paths == ("body.0", "body.1", "body.2")       # taps "even" (4 blocks)
    fitnet = build_method("lsfd", tiny_student, {"regressor_kernel": 1}, teacher=tiny_teacher)
    assert {r.kernel_size for r in fitnet.regressors} == {(1, 1)}       # the CLSD paper's DR
    assert type(method).reconstructed  # the report marks its rows "reconstructed"


class _Fixed(torch.nn.Module):
    """A toy network: `body.0` gives a fixed feature map, the output is a zero image (x2)."""

    def __init__(self, feat: torch.Tensor):
        super().__init__()
        self.feat = feat
        self.body = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Identity())
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x):
        self.body(self.feat.expand(x.shape[0], -1, -1, -1))
        return torch.zeros(x.shape[0], 3, 2 * x.shape[2], 2 * x.shape[3]) + 0 * self.w


def test_feature_difference_weights_by_hand():
    """`difference: feature`: the weights come from |F_T - r(F_S)| at each tap, not the outputs."""
    f_t = torch.zeros(1, 16, 2, 2)
    f_t[:, :, 0, 0] = 3.0  # |F_T - r(F_S)| with r = 0: channel mean 3 at (0, 0), 0 elsewhere
    student, teacher = _Fixed(torch.zeros(1, 8, 2, 2)), _Fixed(f_t)
    cfg = {"difference": "feature", "attention": "linear", "student_paths": ["body.0"], "teacher_paths": ["body.0"]}
    method = build_method("lsfd", student, cfg, teacher=teacher)
    with torch.no_grad():
        method.regressors[0].weight.zero_()
        method.regressors[0].bias.zero_()
    (_, terms), = list(method.losses(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 4, 4), 0))
    # linear weights: D = [3, 0, 0, 0] (+ eps), mean 0.75 -> w = [4, 0, 0, 0]; |r(F_S) - F_T| = 3 at
    # (0, 0) on all 16 channels -> mean over 16 x 4 of w * |.| = 16 * 4 * 3 / 64 = 3
    assert terms["fd"].item() == pytest.approx(3.0, rel=1e-5)
    # with the output difference (both outputs 0) the weights are uniform: mean |.| = 16 * 3 / 64
    method_out = build_method("lsfd", _Fixed(torch.zeros(1, 8, 2, 2)), cfg | {"difference": "output"}, teacher=teacher)
    with torch.no_grad():
        method_out.regressors[0].weight.zero_()
        method_out.regressors[0].bias.zero_()
    (_, terms), = list(method_out.losses(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 4, 4), 0))
    assert terms["fd"].item() == pytest.approx(0.75, rel=1e-5)


def test_bad_difference_and_taps_are_config_errors(tiny_student, tiny_teacher):
    from benchmarks.errors import BenchError

    with pytest.raises(BenchError, match="difference must be one of"):
        build_method("lsfd", tiny_student, {"difference": "both"}, teacher=tiny_teacher)
    with pytest.raises(BenchError, match="taps must be one of"):
        build_method("lsfd", tiny_student, {"taps": "all"}, teacher=tiny_teacher)
