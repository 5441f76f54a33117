"""Which parameters each optimizer group's loss reaches, stepping groups as the trainer does."""

from __future__ import annotations

from torch import nn

from benchmarks.train import Optimization


def grads_per_group(method, lr, hr, step: int = 0, lr_value: float = 1e-3,
                    extra: dict[str, nn.Module] | None = None) -> dict[str, set[str]]:
    """Run one iteration of `method.losses` the trainer's way (each yielded group is
    back-propagated and stepped before the next is asked for); before each backward every
    gradient is cleared, after it the names of the parameters that received one are recorded.
    Names: the method's own (`named_parameters`) plus `extra` modules' as "<key>.<name>"
    (a teacher, a frozen helper)."""
    optim = Optimization.uniform(method, lr_value)
    named = dict(method.named_parameters())
    for key, module in (extra or {}).items():
        named.update({f"{key}.{n}": p for n, p in module.named_parameters()})
    seen: dict[str, set[str]] = {}
    method.train()
    for item in method.losses(lr, hr, step):
        group, terms = item[0], item[1]
        for p in named.values():
            p.grad = None
        sum(terms.values()).backward()
        seen[group] = {n for n, p in named.items() if p.grad is not None}
        optim.optimizers[group].step()
    return seen


def names_of(method, module: nn.Module) -> set[str]:
    """The method-level names of `module`'s trainable parameters."""
    ids = {id(p) for p in module.parameters() if p.requires_grad}
    return {n for n, p in method.named_parameters() if id(p) in ids}
