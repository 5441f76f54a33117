"""DS and CLSD: the losses by hand, the stop-gradient, the heads, and the paper's ablation rows
and projection-head sweep expressed as configurations."""

from __future__ import annotations

import pytest
import torch

from benchmarks.archs import count_params
from methods import build_method


def px(*values):
    """Images of one channel, one row: shape (N, 1, 1, W)."""
    return torch.tensor(values, dtype=torch.float32).view(len(values), 1, 1, -1)


def fake_outputs(method, monkeypatch, sr, heads):
    monkeypatch.setattr(method.aux, "forward", lambda lr: (sr, heads))


def test_ds_loss_by_hand(tiny_student, monkeypatch):
    method = build_method("ds", tiny_student, {})
    hr, sr = px([1.0, 1.0]), px([0.5, 1.0])
    heads = [px([1.0, 0.0]), px([0.0, 1.0]), px([1.0, 1.0])]
    fake_outputs(method, monkeypatch, sr, heads)
    (group, terms), = list(method.losses(None, hr, 0))
    assert group == "G"
    assert terms["sr"].item() == pytest.approx(0.25)                  # (0.5 + 0) / 2
    assert terms["asr"].item() == pytest.approx((0.5 + 0.5 + 0) / 3)  # mean_j L1(SR^j, HR)
    # mean_j L1(SR^j, SR): (0.5 + 1)/2, (0.5 + 0)/2, (0.5 + 0)/2; times alpha = 10
    assert terms["sd"].item() == pytest.approx(10 * (0.75 + 0.25 + 0.25) / 3)


@pytest.mark.parametrize("detach", [True, False])
def test_sd_stop_gradient_on_the_main_output(detach, tiny_student):
    method = build_method("ds", tiny_student, {"detach_main": detach, "asr_weight": 0.0})
    sr = px([0.5, 1.0]).requires_grad_()
    heads = [px([1.0, 0.0]).requires_grad_()]
    terms = method.head_terms(sr, heads, px([1.0, 1.0]))
    terms["sd"].backward()
    assert heads[0].grad is not None
    assert (sr.grad is None) == detach


def test_clsd_loss_by_hand(tiny_student, monkeypatch):
    method = build_method("clsd", tiny_student, {"num_heads": 2})
    hr = sr = px(0.0, 1.0)  # batch of two one-pixel images
    h1, h2 = px(0.25, 1.5), px(0.0, 1.0)
    fake_outputs(method, monkeypatch, sr, [h1, h2])
    (_, terms), = list(method.losses(None, hr, 0))
    assert set(terms) == {"sr", "asr", "cs"}                  # L_SD not kept by default
    assert terms["sr"].item() == pytest.approx(0.0)
    assert terms["asr"].item() == pytest.approx(((0.25 + 0.5) / 2 + 0) / 2)
    # head 1, i=0: pos |0.25-0| = 0.25; negatives main SR_1 |0.25-1| = 0.75, head h1_1 |0.25-1.5|
    #   = 1.25 -> 0.25 / 2.0.  i=1: pos |1.5-1| = 0.5; negatives SR_0 1.5, h1_0 1.25 -> 0.5 / 2.75
    # head 2 equals the main output: ratio 0.  beta * mean over heads:
    cs1 = 0.25 / 2.0 + 0.5 / 2.75
    assert terms["cs"].item() == pytest.approx(10 * cs1 / 2, rel=1e-6)


@pytest.mark.parametrize("negatives,expected", [("main", 0.25 / 0.75 + 0.5 / 1.5),
                                                ("head", 0.25 / 1.25 + 0.5 / 1.25)])
def test_clsd_negative_sets(negatives, expected, tiny_student):
    method = build_method("clsd", tiny_student, {"num_heads": 1, "negatives": negatives,
                                                 "asr_weight": 0.0})
    terms = method.head_terms(px(0.0, 1.0), [px(0.25, 1.5)], px(0.0, 1.0))
    assert set(terms) == {"cs"}
    assert terms["cs"].item() == pytest.approx(10 * expected, rel=1e-6)


def test_heads_attach_after_quarter_blocks_and_match_hr(make_edsr):
    student = make_edsr(num_blocks=16, num_feat=4)
    method = build_method("ds", student, {"head_blocks": 1})
    assert method.aux.paths == ("body.3", "body.7", "body.11")
    sr, heads = method.aux(torch.rand(2, 3, 6, 6))
    assert len(heads) == 3 and all(h.shape == sr.shape == (2, 3, 12, 12) for h in heads)


def test_paper_sized_heads(make_edsr):
    student = make_edsr(num_blocks=16, num_feat=64)
    method = build_method("ds", student, {})
    head = method.aux.heads[0]
    assert len(head.blocks) == 5 and isinstance(head.entry, torch.nn.Identity)
    assert head.blocks[0].body[0].in_channels == 64
    assert count_params(method.sr_model()) == count_params(make_edsr(num_blocks=16, num_feat=64))
    assert not any("aux" in k for k in method.sr_model().state_dict())
    assert any(k.startswith("aux.heads.2.") for k in method.state_dict())


def test_head_width_differs_from_student(tiny_student):
    method = build_method("ds", tiny_student, {"head_feat": 12, "num_heads": 2,
                                               "attach": ["body.1", "body.3"]})
    assert method.aux.heads[0].entry.out_channels == 12
    _, heads = method.aux(torch.rand(1, 3, 6, 6))
    assert [h.shape for h in heads] == [(1, 3, 12, 12)] * 2


@pytest.mark.parametrize("name,cfg,terms,heads", [
    ("ds", {"num_heads": 0}, {"sr"}, 0),                                    # L_SR (= baseline)
    ("ds", {"asr_weight": 0.0, "sd_weight": 0.0}, {"sr"}, 0),               # L_SR, by weights
    ("ds", {"sd_weight": 0.0}, {"sr", "asr"}, 3),                           # L_SR + L_aux
    ("ds", {}, {"sr", "asr", "sd"}, 3),                                     # + L_KD  (= DS)
    ("clsd", {}, {"sr", "asr", "cs"}, 3),                                   # + L_CL  (= CLSD)
    ("clsd", {"sd_weight": 10.0}, {"sr", "asr", "sd", "cs"}, 3),            # DS + L_CS
])
def test_table5_rows_are_configurations(name, cfg, terms, heads, tiny_student, make_edsr):
    method = build_method(name, tiny_student, cfg)
    assert len(method.aux.heads) == heads
    (_, got), = list(method.losses(torch.rand(2, 3, 6, 6), torch.rand(2, 3, 12, 12), 0))
    assert set(got) == terms
    if heads == 0:
        assert count_params(method) == count_params(make_edsr())


@pytest.mark.parametrize("blocks", [1, 2, 5, 10])
@pytest.mark.parametrize("name", ["ds", "clsd"])
def test_projection_head_depth_sweep(name, blocks, tiny_student):
    method = build_method(name, tiny_student, {"head_blocks": blocks})
    assert all(len(h.blocks) == blocks for h in method.aux.heads)
    (_, terms), = list(method.losses(torch.rand(2, 3, 6, 6), torch.rand(2, 3, 12, 12), 0))
    sum(terms.values()).backward()
    assert all(p.grad is not None for p in method.aux.heads.parameters())


def test_clsd_anchor_main_is_the_decoded_equation(tiny_student):
    # decoded eq. 6: sum_i d(SR_i, SR_i^j) / sum_{k != i} d(SR_i, SR_k^j) (negatives: head j)
    method = build_method("clsd", tiny_student, {"num_heads": 1, "anchor": "main", "negatives": "head",
                                                 "asr_weight": 0.0})
    sr, head = px(0.0, 1.0), px(0.25, 1.5)
    terms = method.head_terms(sr, [head], px(0.0, 1.0))
    # i=0: |0 - 0.25| / |0 - 1.5| ; i=1: |1 - 1.5| / |1 - 0.25|
    assert terms["cs"].item() == pytest.approx(10 * (0.25 / 1.5 + 0.5 / 0.75), rel=1e-6)
    # the default anchors on the head: same positives, other negatives (|h_i - h_k|)
    default = build_method("clsd", tiny_student, {"num_heads": 1, "negatives": "head", "asr_weight": 0.0})
    assert default.head_terms(sr, [head], sr)["cs"].item() == pytest.approx(10 * (0.25 / 1.25 + 0.5 / 1.25))


def test_clsd_anchor_main_keeps_the_stop_gradient(tiny_student):
    method = build_method("clsd", tiny_student, {"num_heads": 1, "anchor": "main", "asr_weight": 0.0})
    sr, head = px(0.0, 1.0).requires_grad_(), px(0.25, 1.5).requires_grad_()
    method.head_terms(sr, [head], px(0.0, 1.0))["cs"].backward()
    assert sr.grad is None and head.grad is not None


def test_clsd_bad_anchor(tiny_student):
    from benchmarks.errors import BenchError

    with pytest.raises(BenchError, match="anchor must be one of"):
        build_method("clsd", tiny_student, {"anchor": "teacher"})
