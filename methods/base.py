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
from typing import Any, ClassVar, Iterable, Iterator, Mapping

import torch
from torch import Tensor, nn

from benchmarks.errors import BenchError
from benchmarks.registry import Registry

LossTerms = dict[str, Tensor]
#: What `Method.losses` yields: (group, terms) or (group, terms, diagnostics).
Yielded = tuple


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


#: Roles an input model may play for a train cell (matrix rows name them).
ROLES = ("teacher", "init", "discriminator", "peer")


@dataclasses.dataclass(frozen=True)
class TrainContext:
    """What a method may need to know before training: scale, patch and batch, device, length.

    Given at construction so a method can refuse a bad setting (e.g. a 128-px discriminator
    with 96-px HR patches) before anything trains. `lr_patch` 0 means "not known" (unit tests).
    """

    scale: int = 1
    lr_patch: int = 0
    batch_size: int = 0
    device: str = "cpu"
    iterations: int = 0

    @property
    def hr_patch(self) -> int:
        return self.lr_patch * self.scale


class Method(nn.Module):
    """Base class: the student plus whatever the method trains alongside it.

    Inputs by role (`teacher`, `discriminator`, `peer`, ...) arrive in `inputs`; the teacher and
    helper networks registered with `add_frozen` sit outside the module tree, so they are never
    optimised, saved in checkpoints, or counted as the method's parameters.
    """

    name: ClassVar[str] = ""
    needs_teacher: ClassVar[bool] = False
    #: Input roles the method uses besides `init` (which the trainer applies to the student).
    accepts: ClassVar[frozenset[str]] = frozenset()
    Config: ClassVar[type[MethodConfig]] = MethodConfig
    #: Whether the summed loss is expected to fall over a short run (False for adversarial
    #: training, whose G and D terms trade off); the shared method tests read it.
    monotone_loss: ClassVar[bool] = True

    def __init__(self, student: nn.Module, cfg: MethodConfig, ctx: TrainContext | None = None,
                 inputs: Mapping[str, nn.Module] | None = None):
        super().__init__()
        inputs = dict(inputs or {})
        self.ctx = ctx or TrainContext()
        if self.needs_teacher and inputs.get("teacher") is None:
            raise BenchError(f"method {self.name!r} needs a teacher; the run spec has none")
        self.student = student
        self.cfg = cfg
        self.scale = self.ctx.scale
        self.inputs = inputs
        self._frozen: dict[str, nn.Module] = {}
        if inputs.get("teacher") is not None:
            self.add_frozen("teacher", inputs["teacher"])

    def add_frozen(self, name: str, module: nn.Module) -> nn.Module:
        """Keep `module` as a frozen helper (teacher, VGG19, a fixed discriminator): eval mode,
        no gradients, moved with the method, never optimised or saved."""
        module.eval()
        module.requires_grad_(False)
        self._frozen[name] = module
        return module

    def frozen(self, name: str) -> nn.Module:
        if name not in self._frozen:
            raise BenchError(f"method {self.name!r} has no {name!r} network")
        return self._frozen[name]

    @property
    def teacher(self) -> nn.Module:
        return self.frozen("teacher")

    def _apply(self, fn, recurse: bool = True):
        super()._apply(fn, recurse)
        for module in self.__dict__.get("_frozen", {}).values():
            module._apply(fn)
        return self

    def train(self, mode: bool = True) -> "Method":
        super().train(mode)
        for module in self._frozen.values():
            module.eval()  # frozen: no BN/dropout updates, whatever the trainer does
        return self

    @torch.no_grad()
    def teacher_forward(self, lr: Tensor) -> Tensor:
        """The teacher's SR output, without gradients."""
        return self.teacher(lr)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Named parameter groups, one optimizer each; by default all trainable params in 'G'."""
        return {"G": [p for p in self.parameters() if p.requires_grad]}

    def optim_settings(self) -> dict[str, dict[str, Any]]:
        """Per-group optimizer overrides from the method's config, e.g. {"D": {"lr": 1e-4}}.

        Valid keys: lr, betas, milestones, gamma, warmup. The profile's `groups` entries win.
        """
        return {}

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[Yielded]:
        """Yield (group, {term: loss}) or (group, {term: loss}, {diagnostic: value}) in stepping
        order; see the module docstring. Diagnostics are logged, never back-propagated."""
        raise NotImplementedError

    @classmethod
    def evaluated_outputs(cls, cfg: MethodConfig) -> tuple[str, ...]:
        """Names of `sr_models()`, known before training so a matrix row can show each
        (e.g. both peers of a mutual-learning pair); the first is the row's main model."""
        return ("student",)

    def sr_models(self) -> dict[str, nn.Module]:
        """The networks that are evaluated, by name (as `evaluated_outputs`); the first is the main one."""
        return {"student": self.student}

    def saved_models(self) -> dict[str, nn.Module]:
        """The networks a train cell saves for later cells (evaluated ones plus, e.g., a D)."""
        return self.sr_models()

    def sr_model(self) -> nn.Module:
        """The main evaluated network."""
        return next(iter(self.sr_models().values()))


METHODS: Registry[type[Method]] = Registry("method")


def register_method(name: str):
    """Class decorator: register a Method subclass under `name` and set its `name`."""

    def deco(cls: type[Method]) -> type[Method]:
        cls.name = name
        METHODS.add(name, cls)
        return cls

    return deco


def build_method(name: str, student: nn.Module, cfg: Mapping[str, Any] | None = None,
                 teacher: nn.Module | None = None, scale: int = 1, ctx: TrainContext | None = None,
                 inputs: Mapping[str, nn.Module] | None = None) -> Method:
    """Build method `name` around `student`; `teacher=`/`scale=` are shortcuts for inputs/ctx."""
    cls = METHODS.get(name)
    config = cls.Config.from_mapping(cfg, where=f"method {name!r}")
    inputs = dict(inputs or {})
    if teacher is not None:
        inputs["teacher"] = teacher
    check_roles(name, cls, inputs)
    return cls(student, config, ctx or TrainContext(scale=scale), {k: v for k, v in inputs.items() if k != "init"})


def check_roles(name: str, cls: type[Method], roles: Iterable[str]) -> None:
    """An input role the method does not use is an error, never silently ignored."""
    usable = set(cls.accepts) | {"init"} | ({"teacher"} if cls.needs_teacher else set())
    for role in roles:
        if role not in ROLES:
            raise BenchError(f"method {name!r}: unknown input role {role!r}; valid roles: {', '.join(ROLES)}")
        if role not in usable:
            raise BenchError(f"method {name!r} does not take a {role!r} input; it takes: "
                             f"{', '.join(sorted(usable))}")


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
