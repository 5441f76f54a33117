"""Model transforms for "derive" cells: a model made from another model.

`TRANSFORMS.get("prune")(model, ratio=0.3)` returns `(derived_model, info)`; the input model is
never modified (transforms work on a deep copy) and the derived model keeps `arch_info`, so
`benchmarks.model_files.save_model` writes it.

`prune` criteria live in `PRUNE_CRITERIA`, each `fn(model, ratio) -> model` working in place on
the copy it is given (or returning a new, smaller module):

* `l1-unstructured`: global L1-magnitude pruning over the weights of every Conv2d/Linear
  (`torch.nn.utils.prune.global_unstructured`), made permanent with `prune.remove` (plain
  tensors, same state-dict keys, no masks or hooks). `ratio` is a fraction of ALL parameters,
  as in the ESRGAN-pruning paper (Teacher_0.3 keeps 0.7 x 16.7M): the round(ratio * total)
  smallest-magnitude prunable weights are zeroed (weights already zero count among them).

* `l1-structured` (benchmarks/prune_structured.py): whole channels removed with torch-pruning's
  dependency graph, to the same parameter target; the model is physically smaller, its info
  reports the lower `params_total`, and model_files saves/reloads the new shapes.

Another criterion registers with `@PRUNE_CRITERIA.register("<name>")`.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from .archs import count_params
from .errors import BenchError
from .registry import Registry

Transform = Callable[..., tuple[nn.Module, dict[str, Any]]]
TRANSFORMS: Registry[Transform] = Registry("transform")
PRUNE_CRITERIA: Registry[Callable[[nn.Module, float], nn.Module]] = Registry("prune criterion")

PRUNABLE_TYPES: tuple[type[nn.Module], ...] = (nn.Conv2d, nn.Linear)


def apply_transform(name: str, model: nn.Module, **options: Any) -> tuple[nn.Module, dict[str, Any]]:
    """Run transform `name` on `model`; unknown option names are a BenchError listing the valid ones."""
    fn = TRANSFORMS.get(name)
    valid = [k for k in inspect.signature(fn).parameters if k != "model"]
    for key in options:
        if key not in valid:
            raise BenchError(f"transform {name!r}: unknown option {key!r}; valid options: {', '.join(valid)}")
    return fn(model, **options)


def count_nonzero(model: nn.Module) -> int:
    """Number of non-zero parameter entries of `model`."""
    return sum(int(torch.count_nonzero(p.detach())) for p in model.parameters())


def prunable_weights(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, "weight") for every Conv2d/Linear in `model` (subclasses included), in module order."""
    return [(m, "weight") for m in model.modules() if isinstance(m, PRUNABLE_TYPES)]


def _check_ratio(ratio: Any) -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not math.isfinite(ratio) \
            or not 0.0 <= ratio < 1.0:
        raise BenchError(f"prune: ratio must be a number in [0, 1), got {ratio!r}")
    return float(ratio)


@TRANSFORMS.register("prune")
def prune(model: nn.Module, ratio: float, criterion: str = "l1-unstructured") -> tuple[nn.Module, dict[str, Any]]:
    """A pruned deep copy of `model` and `{criterion, ratio, params_total, params_nonzero,
    prunable_total, prunable_nonzero}` (counts of the derived model)."""
    ratio = _check_ratio(ratio)
    criterion_fn = PRUNE_CRITERIA.get(criterion)
    derived = copy.deepcopy(model)
    if ratio > 0.0:
        derived = criterion_fn(derived, ratio)
    if hasattr(model, "arch_info"):
        derived.arch_info = model.arch_info
    weights = [getattr(m, name) for m, name in prunable_weights(derived)]
    info = {
        "criterion": criterion,
        "ratio": ratio,
        "params_source": count_params(model),
        "params_total": count_params(derived),
        "params_nonzero": count_nonzero(derived),
        "prunable_total": sum(w.numel() for w in weights),
        "prunable_nonzero": sum(int(torch.count_nonzero(w.detach())) for w in weights),
    }
    return derived, info


@PRUNE_CRITERIA.register("l1-unstructured")
def l1_unstructured(model: nn.Module, ratio: float) -> nn.Module:
    """Zero the round(ratio * all params) smallest-magnitude Conv2d/Linear weights, globally, in place."""
    targets = prunable_weights(model)
    prunable = sum(getattr(m, name).numel() for m, name in targets)
    amount = round(ratio * count_params(model))
    if amount > prunable:
        raise BenchError(
            f"prune: ratio {ratio} of {count_params(model)} parameters is {amount} weights, but only "
            f"{prunable} are prunable (Conv2d/Linear weights); use a ratio <= {prunable / count_params(model):.4f}")
    if amount == 0:
        return model
    # prune.remove re-registers `weight` last; keep each module's parameter order (state-dict order).
    orders = [list(m._parameters) for m, _ in targets]
    torch_prune.global_unstructured(targets, pruning_method=torch_prune.L1Unstructured, amount=amount)
    for (module, name), order in zip(targets, orders):
        torch_prune.remove(module, name)
        params = module._parameters
        items = [(k, params.pop(k)) for k in order]
        params.update(items)
    return model


@PRUNE_CRITERIA.register("l1-structured")
def l1_structured(model: nn.Module, ratio: float) -> nn.Module:
    """Channel pruning to at most (1 - ratio) of the parameters (benchmarks/prune_structured.py)."""
    from .prune_structured import l1_structured as structured

    return structured(model, ratio)
