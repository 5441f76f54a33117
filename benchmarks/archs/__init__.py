"""Architectures by lower-case name: `build_arch("edsr", scale=2, num_blocks=16, num_feat=64)`.

Every model maps an RGB batch in [0, 1] of shape (N, 3, h, w) to (N, 3, h*scale, w*scale),
unclamped. Factories take `scale` plus keyword-only size options; unknown options are a
BenchError naming the option.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from torch import nn

from ..errors import BenchError
from ..registry import Registry

ARCHS: Registry[Callable[..., nn.Module]] = Registry("arch")
register_arch = ARCHS.register


def build_arch(name: str, scale: int, **kwargs: Any) -> nn.Module:
    """Instantiate arch `name` at `scale`; validates option names against the factory."""
    factory = ARCHS.get(name)
    params = inspect.signature(factory).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        valid = [k for k in params if k != "scale"]
        for key in kwargs:
            if key not in params or key == "scale":
                raise BenchError(
                    f"arch {name!r}: unknown option {key!r}; valid options: {', '.join(valid) or 'none'}"
                )
    return factory(scale=scale, **kwargs)


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not) of `model`."""
    return sum(p.numel() for p in model.parameters())


def _register_builtin() -> None:
    # Imported for their @register_arch side effects.
    from . import bicubic, carn, edsr, imdn, rrdbnet, srresnet  # noqa: F401


_register_builtin()
