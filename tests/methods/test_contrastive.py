"""The shared contrastive ratio (paper 002 eq. 1 / paper 000 eq. 6) against hand-computed values,
and contrastive-kd's wiring of anchors, positives and negatives."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from benchmarks.errors import BenchError
from methods import build_method
from methods._contrastive import contrastive_ratio


def imgs(*values):
    """One-pixel, one-channel images: shape (N, 1, 1, 1)."""
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1, 1)


A, P, B = imgs(0.0, 1.0, 3.0), imgs(0.5, 1.5, 2.0), imgs(1.0, 2.0, 5.0)
# d_pos = |a_i - p_i| = 0.5, 0.5, 1
# i=0: negatives b_1, b_2: |0-2| + |0-5| = 7      -> 0.5 / 7
# i=1: negatives b_0, b_2: |1-1| + |1-5| = 4      -> 0.5 / 4
# i=2: negatives b_0, b_1: |3-1| + |3-2| = 3      -> 1 / 3
L1_SUM = 0.5 / 7 + 0.5 / 4 + 1 / 3


def test_l1_ratio_sum_and_mean_by_hand():
    assert contrastive_ratio(A, P, [B]).item() == pytest.approx(L1_SUM, rel=1e-6)
    mean = contrastive_ratio(A, P, [B], reduction="mean").item()
    assert mean == pytest.approx(L1_SUM / 3, rel=1e-6)


def test_l1_ratio_two_negative_banks_by_hand():
    # second bank = the anchors themselves (within-model negatives):
    # i=0: 7 + (|0-1| + |0-3|) = 11; i=1: 4 + (|1-0| + |1-3|) = 7; i=2: 3 + (|3-0| + |3-1|) = 8
    expected = 0.5 / 11 + 0.5 / 7 + 1 / 8
    assert contrastive_ratio(A, P, [B, A]).item() == pytest.approx(expected, rel=1e-6)


def test_l1_distance_is_a_per_sample_mean_over_pixels():
    a = torch.tensor([[0.0, 0.0], [1.0, 1.0]]).view(2, 1, 1, 2)
    p = torch.tensor([[0.0, 2.0], [1.0, 1.0]]).view(2, 1, 1, 2)
    b = torch.tensor([[0.0, 0.0], [3.0, 1.0]]).view(2, 1, 1, 2)
    # i=0: pos mean(0, 2) = 1, neg d(a0, b1) = mean(3, 1) = 2 -> 0.5; i=1: pos 0 -> 0
    assert contrastive_ratio(a, p, [b]).item() == pytest.approx(0.5, rel=1e-6)


def test_cosine_is_infonce_by_hand():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).view(2, 2, 1, 1)
    p = torch.tensor([[1.0, 0.0], [1.0, 1.0]]).view(2, 2, 1, 1)
    r = 1 / math.sqrt(2)
    # s_pos = (1, r); the negative of anchor 0 is p_1 (cos r), of anchor 1 is p_0 (cos 0)
    for tau in (1.0, 0.5):
        l0 = math.log(math.exp(1 / tau) + math.exp(r / tau)) - 1 / tau
        l1 = math.log(math.exp(r / tau) + math.exp(0.0)) - r / tau
        got = contrastive_ratio(a, p, [p], distance="cosine", temperature=tau)
        assert got.item() == pytest.approx(l0 + l1, rel=1e-5)


def test_finite_and_non_negative_in_degenerate_cases():
    same = imgs(0.3, 0.3, 0.3)
    assert contrastive_ratio(same, same, [same]).item() == 0.0  # 0 / (0 + eps)
    ones = imgs(1.0, 1.0, 1.0)  # anchor 1 (= 1.0) coincides with all its negatives: 0.5 / eps
    assert torch.isfinite(contrastive_ratio(A, P, [ones]))
    torch.manual_seed(0)
    for _ in range(5):
        x, y, z = (torch.randn(4, 3, 5, 5) for _ in range(3))
        for distance in ("l1", "cosine"):
            value = contrastive_ratio(x, y, [z, x], distance=distance)
            assert torch.isfinite(value) and value.item() >= 0
    zeros = torch.zeros(3, 3, 2, 2)  # cosine of zero vectors is 0: each anchor gives log 3
    value = contrastive_ratio(zeros, zeros, [zeros], distance="cosine").item()
    assert value == pytest.approx(3 * math.log(3), rel=1e-6)


def test_batch_of_one_is_a_clear_error():
    with pytest.raises(BenchError, match="at least 2"):
        contrastive_ratio(imgs(1.0), imgs(1.0), [imgs(1.0)])


@pytest.mark.parametrize("negatives", ["teacher", "student", "both"])
def test_contrastive_kd_positives_and_negatives(negatives, tiny_student, tiny_teacher):
    method = build_method("contrastive-kd", tiny_student, {"negatives": negatives},
                          teacher=tiny_teacher)
    torch.manual_seed(0)
    lr, hr = torch.rand(3, 3, 6, 6), torch.rand(3, 3, 12, 12)
    (group, terms), = list(method.losses(lr, hr, 0))
    with torch.no_grad():
        sr, sr_t = tiny_student(lr), tiny_teacher(lr)
    banks = {"teacher": [sr_t], "student": [sr], "both": [sr_t, sr]}[negatives]
    assert group == "G"
    expected = 10 * contrastive_ratio(sr, sr_t, banks).item()
    assert terms["cl"].item() == pytest.approx(expected, rel=1e-5)
    assert terms["rec"].item() == pytest.approx(F.l1_loss(sr, hr).item(), rel=1e-6)


def test_cosine_literal_form_by_hand():
    # anchors (2,1), (1,2); positives/negatives (1,1), (1,3): cosines by hand
    a = torch.tensor([[2.0, 1.0], [1.0, 2.0]]).view(2, 2, 1, 1)
    p = torch.tensor([[1.0, 1.0], [1.0, 3.0]]).view(2, 2, 1, 1)
    # i=0: s_pos = 3/sqrt(10), s_neg = cos((2,1),(1,3)) = 5/sqrt(50) = 1/sqrt(2)
    # i=1: s_pos = 7/sqrt(50),  s_neg = cos((1,2),(1,1)) = 3/sqrt(10)
    l0 = math.log(1 / math.sqrt(2)) - math.log(3 / math.sqrt(10))
    l1 = math.log(3 / math.sqrt(10)) - math.log(7 / math.sqrt(50))
    got = contrastive_ratio(a, p, [p], distance="cosine", cosine_form="literal")
    assert got.item() == pytest.approx(l0 + l1, rel=1e-6)
    assert got.item() == pytest.approx(math.log(5 / 7), rel=1e-6)  # the literal form can be negative
    infonce = contrastive_ratio(a, p, [p], distance="cosine")
    assert infonce.item() > 0 and infonce.item() != pytest.approx(got.item())


def test_cosine_literal_is_finite_where_similarities_vanish():
    zeros = torch.zeros(3, 3, 2, 2)  # every cosine is 0: both clamped at eps -> log(eps) - log(eps) = 0
    assert contrastive_ratio(zeros, zeros, [zeros], distance="cosine", cosine_form="literal").item() == 0.0


@pytest.mark.parametrize("cfg, needle", [
    ({"cosine_form": "literal"}, "applies to distance 'cosine' only"),              # default distance l1
    ({"distance": "cosine", "cosine_form": "literal", "temperature": 0.5}, "temperature applies"),
    ({"distance": "cosine", "cosine_form": "log"}, "cosine_form must be one of"),
])
def test_cosine_form_config_errors(cfg, needle, tiny_student, tiny_teacher):
    with pytest.raises(BenchError, match=needle):
        build_method("contrastive-kd", tiny_student, cfg, teacher=tiny_teacher)


def test_contrastive_kd_literal_cosine_wiring(tiny_student, tiny_teacher):
    method = build_method("contrastive-kd", tiny_student, {"distance": "cosine", "cosine_form": "literal"},
                          teacher=tiny_teacher)
    torch.manual_seed(1)
    lr, hr = torch.rand(3, 3, 6, 6), torch.rand(3, 3, 12, 12)
    (_, terms), = list(method.losses(lr, hr, 0))
    with torch.no_grad():
        sr, sr_t = tiny_student(lr), tiny_teacher(lr)
    expected = 10 * contrastive_ratio(sr, sr_t, [sr_t], distance="cosine", cosine_form="literal").item()
    assert terms["cl"].item() == pytest.approx(expected, rel=1e-5)
