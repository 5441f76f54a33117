"""FAKD: the spatial affinity matrix by hand, and the loss's structure."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from benchmarks.errors import BenchError
from methods import build_method
from methods._heads import block_paths, tapped, thirds_paths
from methods.fakd import spatial_affinity


def test_affinity_of_a_2x2_map_by_hand():
    # positions (row-major) carry the channel vectors (1,0), (0,2), (3,4), (-1,0)
    feat = torch.tensor([[[1.0, 0.0], [3.0, -1.0]], [[0.0, 2.0], [4.0, 0.0]]]).unsqueeze(0)
    # normalised: (1,0), (0,1), (0.6,0.8), (-1,0); A_pq = their dot products
    expected = torch.tensor([[1.0, 0.0, 0.6, -1.0],
                             [0.0, 1.0, 0.8, 0.0],
                             [0.6, 0.8, 1.0, -0.6],
                             [-1.0, 0.0, -0.6, 1.0]])
    a = spatial_affinity(feat)
    assert a.shape == (1, 4, 4)
    assert torch.allclose(a[0], expected, atol=1e-6)


def test_affinity_ignores_channel_count_and_scale():
    torch.manual_seed(0)
    f = torch.randn(2, 4, 3, 3)
    wide = torch.cat([f, torch.zeros(2, 12, 3, 3)], dim=1) * 7.0  # 16 channels, rescaled
    assert spatial_affinity(wide).shape == spatial_affinity(f).shape == (2, 9, 9)
    assert torch.allclose(spatial_affinity(wide), spatial_affinity(f), atol=1e-5)


def test_default_positions_are_evenly_spaced(make_edsr):
    assert block_paths(make_edsr(num_blocks=16, num_feat=4), 3) == ("body.3", "body.7", "body.11")
    assert block_paths(make_edsr(num_blocks=32, num_feat=4), 3) == ("body.7", "body.15", "body.23")
    assert block_paths(make_edsr(num_blocks=4, num_feat=4), 3) == ("body.0", "body.1", "body.2")


def test_default_positions_are_the_official_codes_thirds(make_edsr):
    # code/models/edsr.py: blocks split [n//3, 2n//3 - n//3, n - 2n//3]; taps at the end of each
    # third, the last (trunk conv included) after the in-place global skip: body + head
    student, teacher = make_edsr(num_blocks=16, num_feat=4), make_edsr(num_blocks=32, num_feat=4)
    method = build_method("fakd", student, {}, teacher=teacher)
    assert method.student_paths == ("body.4", "body.9", "body+head")    # 5 / 5 / 6 blocks
    assert method.teacher_paths == ("body.9", "body.20", "body+head")   # 10 / 11 / 11 blocks
    assert thirds_paths(make_edsr(num_blocks=3, num_feat=4)) == ("body.0", "body.1", "body+head")


def test_rcan_thirds_are_groups_3_and_7_of_10():
    from benchmarks.archs import build_arch

    rcan = build_arch("rcan", 2, num_groups=10, num_blocks=1, num_feat=8, reduction=4)
    assert thirds_paths(rcan) == ("body.2", "body.6", "body+head")  # code/models/rcan.py group_id 2, 6


def test_even_positions_remain_an_option(make_edsr):
    student, teacher = make_edsr(num_blocks=16, num_feat=4), make_edsr(num_blocks=32, num_feat=4)
    method = build_method("fakd", student, {"taps": "even"}, teacher=teacher)
    assert method.student_paths == ("body.3", "body.7", "body.11")
    assert method.teacher_paths == ("body.7", "body.15", "body.23")
    cfg = {"student_paths": ["body.4", "body.9", "body.16"], "teacher_paths": ["body.9", "body.20", "body.32"]}
    assert build_method("fakd", student, cfg, teacher=teacher).teacher_paths == ("body.9", "body.20", "body.32")


def test_sum_tap_is_the_feature_after_the_global_skip(make_edsr):
    torch.manual_seed(0)
    net = make_edsr(num_blocks=2, num_feat=4)
    x = torch.rand(1, 3, 5, 5)
    with tapped(net, ["body+head", "head"]) as tap:
        net(x)
        feats = tap.pop()
    with torch.no_grad():
        head = net.head(net.sub_mean(x * net.rgb_range))
        after_skip = net.body(head) + head  # what the tail receives
    torch.testing.assert_close(feats["body+head"], after_skip)
    torch.testing.assert_close(feats["head"], head)


def test_bad_taps_is_a_config_error_and_one_side_pairs_up(make_edsr):
    with pytest.raises(BenchError, match="taps must be one of"):
        build_method("fakd", make_edsr(), {"taps": "quarters"}, teacher=make_edsr())
    # one side given: the other gets as many positions (thirds when 3, else evenly spaced)
    two = build_method("fakd", make_edsr(), {"student_paths": ["body.0", "body.1"]},
                       teacher=make_edsr(num_blocks=6))
    assert two.teacher_paths == ("body.1", "body.3")
    three = build_method("fakd", make_edsr(), {"student_paths": ["body.0", "body.1", "body.2"]},
                         teacher=make_edsr(num_blocks=6))
    assert three.teacher_paths == ("body.1", "body.3", "body+head")


def test_loss_terms_by_construction(tiny_student):
    teacher = copy.deepcopy(tiny_student)  # same network: affinities and outputs coincide
    method = build_method("fakd", tiny_student, {}, teacher=teacher)
    lr, hr = torch.rand(2, 3, 6, 6), torch.rand(2, 3, 12, 12)
    (_, terms), = list(method.losses(lr, hr, 0))
    assert terms["fa"].item() == pytest.approx(0.0, abs=1e-6)
    assert terms["ts"].item() == pytest.approx(0.0, abs=1e-7)
    with torch.no_grad():
        rec = 0.5 * F.l1_loss(tiny_student(lr), hr).item()
    assert terms["rec"].item() == pytest.approx(rec, rel=1e-6)


def test_fa_term_is_weighted_sum_over_positions(tiny_student, tiny_teacher):
    method = build_method("fakd", tiny_student, {"fa_weight": 2.0, "ts_weight": 0.0, "taps": "even"},
                          teacher=tiny_teacher)
    lr, hr = torch.rand(2, 3, 6, 6), torch.rand(2, 3, 12, 12)
    (_, terms), = list(method.losses(lr, hr, 0))
    assert "ts" not in terms
    feats = {}
    hooks = [dict(m.named_modules())[p].register_forward_hook(
        lambda _m, _i, out, key=(name, p): feats.__setitem__(key, out))
        for name, m, paths in (("s", tiny_student, method.student_paths),
                               ("t", tiny_teacher, method.teacher_paths)) for p in paths]
    with torch.no_grad():
        tiny_student(lr), tiny_teacher(lr)
    for h in hooks:
        h.remove()
    expected = sum(F.l1_loss(spatial_affinity(feats["s", ps]), spatial_affinity(feats["t", pt]))
                   for ps, pt in zip(method.student_paths, method.teacher_paths))
    assert terms["fa"].item() == pytest.approx(2.0 * expected.item(), rel=1e-5)
