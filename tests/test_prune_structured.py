"""Structured pruning: RRDB's dense concatenations survive, the parameter target is met, and the
smaller network is saved with its shapes and reloads."""

from __future__ import annotations

import pytest
import torch

from benchmarks.archs import build_arch, count_params
from benchmarks.derive import prune
from benchmarks.errors import BenchError
from benchmarks.model_files import load_model, save_model


def tiny_rrdb():
    torch.manual_seed(0)
    return build_arch("rrdbnet", 4, num_blocks=1, num_feat=32, num_grow=16)


@pytest.mark.parametrize("ratio", [0.3, 0.5])
def test_channel_pruned_rrdbnet_meets_the_parameter_target_and_runs(ratio):
    model = tiny_rrdb()
    pruned, info = prune(model, ratio, criterion="l1-structured")
    total = count_params(model)
    assert info["params_source"] == total and info["params_total"] == count_params(pruned)
    assert info["params_total"] <= (1 - ratio) * total
    # as close to the target as whole channels allow (a channel here is ~1-3 % of the parameters)
    assert info["params_total"] >= (1 - ratio) * total * 0.93
    # dense concatenations stay consistent: the network runs at its scale
    assert pruned(torch.rand(1, 3, 10, 12)).shape == (1, 3, 40, 48)
    assert pruned.conv_first.out_channels < 32  # channels really removed
    assert count_params(model) == total  # the source is untouched


def test_a_structurally_pruned_rrdbnet_is_saved_with_its_shapes_and_reloads(tmp_path):
    pruned, _ = prune(tiny_rrdb(), 0.3, criterion="l1-structured")
    path = save_model(pruned, tmp_path / "pruned.pt")
    again = load_model(path)
    x = torch.rand(1, 3, 8, 8)
    torch.testing.assert_close(again(x), pruned.eval()(x), rtol=0, atol=0)
    assert count_params(again) == count_params(pruned)


def test_pixel_shuffle_upsamplers_keep_their_width_in_edsr():
    torch.manual_seed(0)
    model = build_arch("edsr", 2, num_blocks=2, num_feat=16)
    pruned, info = prune(model, 0.3, criterion="l1-structured")
    assert pruned(torch.rand(1, 3, 8, 8)).shape == (1, 3, 16, 16)
    assert info["params_total"] <= 0.7 * count_params(model)


def test_unknown_criterion_lists_the_choices():
    with pytest.raises(BenchError, match="l1-structured"):
        prune(tiny_rrdb(), 0.3, criterion="random")
