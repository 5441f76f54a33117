"""Fine-tuning a pruned model without losing its pruning.

Unstructured pruning leaves exact zeros in Conv2d/Linear weights. `keep_zeros` masks their
gradients (a hook multiplies each gradient by the weight's non-zero mask), so Adam, whose update
for an entry that never had a gradient is exactly 0, leaves them at zero, and an EMA copy of the
net keeps them too. Weights stay plain parameters: the state dict, deep copies and checkpoints
are those of the unpruned arch. A trained, unpruned network has no exactly-zero weights, so a
model with none gets no hooks.
"""

from __future__ import annotations

from torch import Tensor, nn

from .derive import prunable_weights

MASK = "_nonzero_mask"  # non-persistent buffer: moves with the module, not in its state dict


def keep_zeros(model: nn.Module) -> int:
    """Hold the exactly-zero entries of every prunable weight of `model` at zero while it
    trains (in place); returns how many entries that is."""
    zeros = 0
    for module, name in prunable_weights(model):
        weight = getattr(module, name)
        mask = weight.detach() != 0
        if not weight.requires_grad or bool(mask.all()):  # fixed layers (EDSR's mean shift) are not trained
            continue
        zeros += int((~mask).sum())
        module.register_buffer(MASK, mask.to(weight.dtype), persistent=False)
        weight.register_hook(lambda grad, owner=module: _masked(grad, owner))
    return zeros


def _masked(grad: Tensor, owner: nn.Module) -> Tensor:
    return grad * getattr(owner, MASK).to(grad.dtype)


def count_zeros(model: nn.Module) -> int:
    """Exactly-zero entries over the prunable weights of `model`."""
    return sum(int((getattr(m, n).detach() == 0).sum()) for m, n in prunable_weights(model))


def same_shapes(a: nn.Module, b: nn.Module) -> bool:
    """Whether two networks have the same state-dict keys and tensor shapes."""
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(tuple(sa[k].shape) == tuple(sb[k].shape) for k in sa)
