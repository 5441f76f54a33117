"""Structured (channel) pruning to a parameter target, with torch-pruning's dependency graph.

`l1-structured` removes whole output channels by L1 magnitude. torch-pruning's dependency
graph keeps coupled layers consistent (residual sums, RRDB's dense concatenations), so the
result is a physically smaller network of the same arch; benchmarks.model_files saves it with
its tensor shapes and reloads it. Channels are pruned uniformly per layer at a channel ratio
found by bisection so that the remaining parameter count is the largest one not above
(1 - ratio) x the original, matching the unstructured criterion's meaning of `ratio`
(a fraction of all parameters). Layers that must keep their width are left alone: those that
output RGB, and convolutions feeding a PixelShuffle (their channel groups are interleaved).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .archs import count_params
from .errors import BenchError

_STEPS = 10  # bisection steps on the channel ratio: ~1e-3 resolution


def protected_layers(model: nn.Module) -> list[nn.Module]:
    """Convolutions whose output width is fixed: RGB outputs and pixel-shuffle inputs."""
    keep: list[nn.Module] = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.out_channels == 3]
    for seq in model.modules():
        if isinstance(seq, nn.Sequential):
            children = list(seq)
            keep += [a for a, b in zip(children, children[1:])
                     if isinstance(a, nn.Conv2d) and isinstance(b, nn.PixelShuffle)]
    return keep


def channel_pruned(model: nn.Module, channel_ratio: float, example: torch.Tensor) -> nn.Module:
    """A copy of `model` with `channel_ratio` of every prunable layer's channels removed (L1)."""
    import torch_pruning as tp

    pruned = copy.deepcopy(model).eval()
    if channel_ratio <= 0:
        return pruned
    pruner = tp.pruner.MetaPruner(pruned, example, importance=tp.importance.MagnitudeImportance(p=1),
                                  pruning_ratio=channel_ratio, ignored_layers=protected_layers(pruned))
    try:
        pruner.step()
    except (IndexError, RuntimeError, ValueError) as exc:
        raise BenchError(f"structured pruning failed on {type(model).__name__}: {exc}") from None
    return pruned


def l1_structured(model: nn.Module, ratio: float) -> nn.Module:
    """The channel-pruned model with at most (1 - ratio) of the parameters, as close as found."""
    try:
        import torch_pruning  # noqa: F401
    except ImportError:
        raise BenchError("prune criterion 'l1-structured' needs torch-pruning: pip install torch-pruning") from None
    if ratio <= 0:
        return model
    target = (1.0 - ratio) * count_params(model)
    example = torch.rand(1, 3, 16, 16)
    low, high, best = 0.0, 0.99, None
    for _ in range(_STEPS):
        mid = (low + high) / 2
        candidate = channel_pruned(model, mid, example)
        if count_params(candidate) <= target:
            best, high = candidate, mid
        else:
            low = mid
    if best is None:
        raise BenchError(f"structured pruning cannot remove {ratio:.0%} of {type(model).__name__}'s parameters")
    return best
