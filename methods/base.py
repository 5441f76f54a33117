"""The Method interface: what a distillation method gives the shared trainer.

A method owns the student (and any auxiliary modules: heads, regressors, discriminators,
peers). The trainer asks it for named parameter groups (one optimizer each) and, per step,
iterates `losses(...)`: a sequence of (group, {term: loss}) pairs. The trainer back-propagates
and steps each group *before* asking for the next, so a GAN yields G's terms, then computes
D's terms on the detached SR; mutual learning yields peer A, then peer B. No method needs a
special case in the trainer.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, ClassVar, Iterator, Mapping

import torch
from torch import Tensor, nn

from benchmarks.errors import BenchError
from benchmarks.registry import Registry

LossTerms = dict[str, Tensor]


@dataclasses.dataclass(frozen=True)
class MethodConfig:
    """Base of every method's frozen config; subclasses add typed fields with paper defaults."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, where: str = "method_cfg") -> "MethodConfig":
        """Validate a YAML mapping into the config; unknown or mistyped fields are BenchErrors."""
        data = dict(data or {})
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key in data:
            if key not in fields:
                raise BenchError(
                    f"{where}: unknown field {key!r} for {cls.__qualname__}; "
                    f"valid fields: {', '.join(fields) or 'none'}"
                )
        kwargs = {}
        for key, value in data.items():
            kwargs[key] = _coerce(value, fields[key], f"{where}.{key}")
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise BenchError(f"{where}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(value: Any, field: dataclasses.Field, where: str) -> Any:
    default = field.default if field.default is not dataclasses.MISSING else None
    if default is None and field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        default = field.default_factory()  # type: ignore[misc]
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise BenchError(f"{where}: expected true/false, got {value!r}")
        return value
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BenchError(f"{where}: expected a number, got {value!r}")
        return type(default)(value) if isinstance(default, float) else value
    if isinstance(default, str) and not isinstance(value, str):
        raise BenchError(f"{where}: expected a string, got {value!r}")
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)):
            raise BenchError(f"{where}: expected a list, got {value!r}")
        return tuple(value)
    return value


class Method(nn.Module):
    """Base class: the student plus whatever the method trains alongside it."""

    name: ClassVar[str] = ""
    needs_teacher: ClassVar[bool] = False
    Config: ClassVar[type[MethodConfig]] = MethodConfig

    def __init__(self, student: nn.Module, cfg: MethodConfig, teacher: nn.Module | None = None,
                 scale: int = 1):
        super().__init__()
        if self.needs_teacher and teacher is None:
            raise BenchError(f"method {self.name!r} needs a teacher; the run spec has none")
        self.student = student
        self.cfg = cfg
        self.scale = scale
        # Kept outside the module tree so it is never optimised, saved, or counted as ours.
        self._teacher = (teacher,) if teacher is not None else ()
        if teacher is not None:
            teacher.eval()
            teacher.requires_grad_(False)

    @property
    def teacher(self) -> nn.Module:
        if not self._teacher:
            raise BenchError(f"method {self.name!r} has no teacher")
        return self._teacher[0]

    def train(self, mode: bool = True) -> "Method":
        super().train(mode)
        if self._teacher:
            self._teacher[0].eval()  # frozen: no BN/dropout updates, whatever the trainer does
        return self

    @torch.no_grad()
    def teacher_forward(self, lr: Tensor) -> Tensor:
        """The teacher's SR output, without gradients."""
        return self.teacher(lr)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Named parameter groups, one optimizer each; by default all trainable params in 'G'."""
        return {"G": [p for p in self.parameters() if p.requires_grad]}

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple[str, LossTerms]]:
        """Yield (group, {term: scalar loss}) in stepping order; see the module docstring."""
        raise NotImplementedError

    def sr_model(self) -> nn.Module:
        """The network that is evaluated and saved (auxiliary heads excluded)."""
        return self.student


METHODS: Registry[type[Method]] = Registry("method")


def register_method(name: str):
    """Class decorator: register a Method subclass under `name` and set its `name`."""

    def deco(cls: type[Method]) -> type[Method]:
        cls.name = name
        METHODS.add(name, cls)
        return cls

    return deco


def build_method(name: str, student: nn.Module, cfg: Mapping[str, Any] | None = None,
                 teacher: nn.Module | None = None, scale: int = 1) -> Method:
    cls = METHODS.get(name)
    config = cls.Config.from_mapping(cfg, where=f"method {name!r}")
    return cls(student, config, teacher=teacher, scale=scale)


def load_plugin(spec: str) -> None:
    """Import a user's method module ('pkg.module' or a path to a .py file) so it registers."""
    path = Path(spec)
    if spec.endswith(".py"):
        if not path.is_file():
            raise BenchError(f"plugin: file not found: {spec}")
        mod_name = f"bench_plugin_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(mod_name, path)
        assert module_spec and module_spec.loader
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[mod_name] = module
        module_spec.loader.exec_module(module)
    else:
        try:
            importlib.import_module(spec)
        except ImportError as exc:
            raise BenchError(f"plugin: cannot import {spec!r}: {exc}") from None
