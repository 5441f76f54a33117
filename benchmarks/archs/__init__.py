"""Architectures by lower-case name: `build_arch("edsr", scale=2, num_blocks=16, num_feat=64)`.

Every model maps an RGB batch in [0, 1] of shape (N, 3, h, w) to (N, 3, h*scale, w*scale),
unclamped. Factories take `scale` plus keyword-only size options; unknown options are a
BenchError naming the option. Every built model carries `arch_info` (name, scale, options), so
`benchmarks.model_files.save_model` can write a file that rebuilds it.

Arch modules are found by listing this package: a new `archs/<name>.py` that registers with
`@register_arch` needs no edit here (helper modules are listed in `_NOT_ARCH_MODULES`).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ..errors import BenchError
from ..registry import Registry

ARCHS: Registry[Callable[..., nn.Module]] = Registry("arch")
register_arch = ARCHS.register


@dataclass(frozen=True)
class ArchInfo:
    """How a model was built: `build_arch(name, scale, **options)` rebuilds its structure."""

    name: str
    scale: int
    options: dict[str, Any] = field(default_factory=dict, hash=False)


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
    model = factory(scale=scale, **kwargs)
    model.arch_info = ArchInfo(name=name, scale=scale, options=dict(kwargs))
    return model


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not) of `model`."""
    return sum(p.numel() for p in model.parameters())


# Modules of this package that define no arch (they use build_arch, so import them yourself).
_NOT_ARCH_MODULES = frozenset({"presets", "pretrained", "zoo"})


def _register_builtin() -> None:
    # Imported for their @register_arch side effects (alphabetical; carn imports edsr itself).
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _NOT_ARCH_MODULES and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_register_builtin()
