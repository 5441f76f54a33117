"""Derive transforms: global L1 pruning by a fraction of all parameters, on a copy."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch import nn

from benchmarks.archs import build_arch, count_params
from benchmarks.derive import (
    PRUNE_CRITERIA,
    TRANSFORMS,
    apply_transform,
    count_nonzero,
    prune,
)
from benchmarks.errors import BenchError
from benchmarks.model_files import load_model, save_model


def tiny_edsr() -> nn.Module:
    torch.manual_seed(0)
    return build_arch("edsr", 2, num_blocks=2, num_feat=8)


def prunable_zeros(model: nn.Module) -> int:
    return sum(int((m.weight == 0).sum()) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


def outputs(model: nn.Module) -> torch.Tensor:
    torch.manual_seed(1)
    with torch.no_grad():
        return model.eval()(torch.rand(1, 3, 6, 6))


def test_registry() -> None:
    assert "prune" in TRANSFORMS and TRANSFORMS.get("prune") is prune
    assert PRUNE_CRITERIA.names() == ["l1-structured", "l1-unstructured"]


def test_ratio_is_a_fraction_of_all_parameters() -> None:
    model = tiny_edsr()
    total = count_params(model)
    derived, info = prune(model, 0.3)
    target = round(0.3 * total)
    # topk masks exactly `target` weights (ties included); the tiny EDSR has no other zeros
    # (its mean-shift off-diagonal zeros are the first weights masked, biases are non-zero).
    assert prunable_zeros(derived) == target
    assert info == {
        "criterion": "l1-unstructured", "ratio": 0.3, "params_source": total, "params_total": total,
        "params_nonzero": total - target, "prunable_total": info["prunable_total"],
        "prunable_nonzero": info["prunable_total"] - target,
    }
    assert info["prunable_total"] == sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d))
    assert count_nonzero(derived) == total - target
    # permanent: plain parameters, same keys in the same order, no masks or hooks left
    assert list(derived.state_dict()) == list(model.state_dict())
    assert all(not m._forward_pre_hooks for m in derived.modules())
    assert [p.requires_grad for p in derived.parameters()] == [p.requires_grad for p in model.parameters()]
    assert derived.arch_info == model.arch_info


def test_largest_magnitudes_survive_globally() -> None:
    conv = nn.Conv2d(1, 1, 2, bias=True)
    lin = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[0.1, -5.0], [2.0, -0.3]]).view(1, 1, 2, 2))
        conv.bias.fill_(0.01)
        lin.weight.copy_(torch.tensor([[0.2, 4.0], [-1.0, 3.0]]))
    model = nn.Sequential(conv, lin)  # 9 parameters; 0.34 * 9 -> 3 zeroed
    derived, info = prune(model, 0.34)
    assert derived[0].weight.flatten().tolist() == [0.0, -5.0, 2.0, 0.0]
    assert derived[1].weight.flatten().tolist() == [0.0, 4.0, -1.0, 3.0]
    assert derived[0].bias.tolist() == pytest.approx([0.01])  # biases are not pruned
    assert (info["params_total"], info["params_nonzero"], info["prunable_total"], info["prunable_nonzero"]) == (9, 6, 8, 5)


def test_ratio_zero_changes_nothing() -> None:
    model = tiny_edsr()
    derived, info = prune(model, 0.0)
    assert derived is not model
    sd, dsd = model.state_dict(), derived.state_dict()
    assert list(sd) == list(dsd) and all(torch.equal(sd[k], dsd[k]) for k in sd)
    assert info["params_nonzero"] == count_nonzero(model)
    assert derived.arch_info == model.arch_info


def test_original_untouched() -> None:
    model = tiny_edsr()
    before = copy.deepcopy(model.state_dict())
    keys = list(model.state_dict())
    derived, _ = prune(model, 0.5)
    assert list(model.state_dict()) == keys
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(not m._forward_pre_hooks for m in model.modules())
    assert derived.body[0].body[0].weight is not model.body[0].body[0].weight


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5, float("nan"), True, "0.3", None])
def test_bad_ratio(ratio) -> None:
    with pytest.raises(BenchError, match=r"ratio must be a number in \[0, 1\)"):
        prune(tiny_edsr(), ratio)


def test_unknown_criterion_lists_choices() -> None:
    with pytest.raises(BenchError, match="unknown prune criterion 'l2-structured'; valid choices: l1-structured, l1-unstructured"):
        prune(tiny_edsr(), 0.3, criterion="l2-structured")


def test_unreachable_ratio() -> None:
    model = nn.Linear(1, 10)  # 10 weights + 10 biases: at most half the parameters are prunable
    with pytest.raises(BenchError, match="only 10 are prunable"):
        prune(model, 0.6)
    _, info = prune(model, 0.5)
    assert info["prunable_nonzero"] == 0


def test_apply_transform_checks_options() -> None:
    _, info = apply_transform("prune", tiny_edsr(), ratio=0.2)
    assert info["ratio"] == 0.2
    with pytest.raises(BenchError, match="unknown option 'amount'; valid options: ratio, criterion"):
        apply_transform("prune", tiny_edsr(), amount=0.2)
    with pytest.raises(BenchError, match="unknown transform 'quantize'"):
        apply_transform("quantize", tiny_edsr())


def test_pruned_model_round_trips(tmp_path: Path) -> None:
    derived, info = prune(tiny_edsr(), 0.3)
    loaded = load_model(save_model(derived, tmp_path / "pruned.pt"))
    assert count_nonzero(loaded) == info["params_nonzero"]
    assert torch.equal(outputs(loaded), outputs(derived))
