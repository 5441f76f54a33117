"""Training profiles: how long and how a model is trained, with per-group optimizer settings.

`smoke` and `paper` profiles come from the matrix YAML. A profile's key identity leaves out
fields that do not change the numbers (checkpoint and logging intervals) and fields left at
their defaults, so adding a new field with a neutral default never re-keys finished work.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping

from .errors import BenchError
from .precision import PRECISIONS

#: Optimizer settings a parameter group may override (profile `groups:` or Method.optim_settings).
GROUP_FIELDS = ("lr", "betas", "milestones", "gamma", "warmup")
# Fields that never change the numbers: intervals, and where batches come from (every source
# yields the same batches, tests/test_trainer_data.py).
_NOT_IN_KEY = ("checkpoint_every", "log_every", "data_source", "data_workers")
#: The pixel ranges a profile may train in (see TrainProfile.pixel_range).
PIXEL_RANGES = (1, 255)
DATA_SOURCES = ("auto", "host", "loader", "gpu")


@dataclasses.dataclass(frozen=True)
class GroupSettings:
    """Adam + step decay (+ linear warm-up) for one parameter group."""

    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    milestones: tuple[int, ...] = ()  # the group's own steps at which lr is multiplied by gamma
    gamma: float = 0.5
    warmup: int = 0  # steps of linear warm-up from 0 to lr

    def factor(self, step: int) -> float:
        """Learning-rate multiplier after the group has been stepped `step` times."""
        decay = self.gamma ** sum(step >= m for m in self.milestones)
        return decay * min(1.0, (step + 1) / self.warmup) if self.warmup else decay

    def merged(self, overrides: Mapping[str, Any], where: str) -> "GroupSettings":
        unknown = set(overrides) - set(GROUP_FIELDS)
        if unknown:
            raise BenchError(f"{where}: unknown field {sorted(unknown)[0]!r}; valid fields: {', '.join(GROUP_FIELDS)}")
        values = dataclasses.asdict(self) | _coerce_group(overrides, where)
        return GroupSettings(**values)


def _coerce_group(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("betas", "milestones"):
            if not isinstance(value, (list, tuple)):
                raise BenchError(f"{where}.{key}: expected a list, got {value!r}")
            out[key] = tuple(value)
        elif key in ("lr", "gamma"):
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise BenchError(f"{where}.{key}: expected a number, got {value!r}")
            try:
                out[key] = float(value)
            except ValueError:
                raise BenchError(f"{where}.{key}: expected a number, got {value!r}") from None
        elif key == "warmup":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BenchError(f"{where}.warmup: expected a non-negative integer, got {value!r}")
            out[key] = value
        else:
            out[key] = value
    return out


@dataclasses.dataclass(frozen=True)
class TrainProfile:
    """How long and how a model is trained; `smoke` and `paper` come from the matrix YAML."""

    name: str
    iterations: int
    batch_size: int
    patch_size: int  # LR patch side; HR patch = patch_size * scale
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    milestones: tuple[int, ...] = ()  # steps at which the learning rate is multiplied by gamma
    gamma: float = 0.5
    warmup: int = 0
    groups_json: str = "{}"  # per-group overrides, e.g. {"D": {"lr": 1e-4}} (canonical JSON)
    #: Method config fields this profile sets in every train cell whose method declares them,
    #: over the row's cfg (e.g. smoke: {"vgg_weights": "random", "d_num_feat": 8}); canonical JSON.
    method_cfg_json: str = "{}"
    checkpoint_every: int = 500
    # loss-curve rows are means over this many steps; also how often losses are read back to the
    # host and checked for NaN/inf (steps in between never wait for the device)
    log_every: int = 100
    augment: bool = True  # random flips and 90-degree rotations
    # Pixel range the losses see: 1 ([0, 1], BasicSR) or 255 ([0, 255], EDSR-PyTorch / FAKD code:
    # rgb_range 255). Pixel L1 scales with it, normalised terms (affinities, contrastive ratios)
    # do not; archs with an `rgb_range` option get it too (benchmarks/pixel_range.py).
    pixel_range: int = 1
    # How the trainer computes (benchmarks/precision.py): fp32, tf32, or bf16/fp16 autocast with
    # fp32 master weights. Evaluation is always fp32.
    precision: str = "fp32"
    channels_last: bool = False  # NHWC activations and weights (faster convolutions on tensor cores)
    compile: bool = False  # torch.compile the student(s) and the teacher
    # Where batches come from: auto (the whole set on the GPU when it fits, else a DataLoader;
    # host on CPU), host, loader or gpu. Batches are the same whichever: a function of (seed, step).
    data_source: str = "auto"
    data_workers: int = -1  # DataLoader workers; -1: min(4, cores - 1)

    def __post_init__(self) -> None:
        for name in ("iterations", "batch_size", "patch_size", "checkpoint_every", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise BenchError(f"profile {self.name!r}: {name} must be a positive integer, got {value!r}")
        if type(self.pixel_range) is not int or self.pixel_range not in PIXEL_RANGES:
            raise BenchError(f"profile {self.name!r}: pixel_range must be one of "
                             f"{', '.join(map(str, PIXEL_RANGES))}, got {self.pixel_range!r}")
        if self.precision not in PRECISIONS:
            raise BenchError(f"profile {self.name!r}: precision must be one of {', '.join(PRECISIONS)}, "
                             f"got {self.precision!r}")
        for name in ("channels_last", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise BenchError(f"profile {self.name!r}: {name} must be true or false, got {getattr(self, name)!r}")
        if self.data_source not in DATA_SOURCES:
            raise BenchError(f"profile {self.name!r}: data_source must be one of {', '.join(DATA_SOURCES)}, "
                             f"got {self.data_source!r}")
        if type(self.data_workers) is not int or self.data_workers < -1:
            raise BenchError(f"profile {self.name!r}: data_workers must be -1 (automatic) or a count >= 0, "
                             f"got {self.data_workers!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise BenchError(f"profile {self.name!r}: lr must be a positive number, got {self.lr!r}")

    @property
    def groups(self) -> dict[str, dict[str, Any]]:
        return json.loads(self.groups_json)

    @property
    def method_cfg(self) -> dict[str, Any]:
        return json.loads(self.method_cfg_json)

    def cfg_for(self, fields: Any, cfg: Mapping[str, Any]) -> dict[str, Any]:
        """`cfg` with this profile's `method_cfg` entries that name one of `fields` (a method's
        config field names) set over it."""
        names = set(fields)
        return dict(cfg) | {k: v for k, v in self.method_cfg.items() if k in names}

    def base_settings(self) -> GroupSettings:
        return GroupSettings(self.lr, self.betas, self.milestones, self.gamma, self.warmup)

    def group_settings(self, group: str, method_overrides: Mapping[str, Any] | None = None) -> GroupSettings:
        """The profile's settings, then the method's overrides, then the profile's `groups` entry."""
        settings = self.base_settings().merged(method_overrides or {}, f"method settings for group {group!r}")
        return settings.merged(self.groups.get(group, {}), f"profile {self.name!r}: groups.{group}")

    def identity(self) -> dict[str, Any]:
        """Fields that change the numbers, left out where they hold their default."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _NOT_IN_KEY or (f.default is not dataclasses.MISSING and value == f.default):
                continue
            out[f.name] = json.loads(value) if f.name.endswith("_json") else value
        return out

    @classmethod
    def from_mapping(cls, name: str, data: Mapping[str, Any], where: str) -> "TrainProfile":
        fields = ({f.name for f in dataclasses.fields(cls)} - {"name", "groups_json", "method_cfg_json"}) \
            | {"groups", "method_cfg"}
        unknown = set(data) - fields
        if unknown:
            raise BenchError(f"{where}: unknown field {sorted(unknown)[0]!r}; valid fields: {', '.join(sorted(fields))}")
        missing = {"iterations", "batch_size", "patch_size", "lr"} - set(data)
        if missing:
            raise BenchError(f"{where}: missing field {sorted(missing)[0]!r}")
        kwargs = dict(data)
        kwargs.update(_coerce_group({k: v for k, v in data.items() if k in GROUP_FIELDS}, where))
        groups = kwargs.pop("groups", None) or {}
        if not isinstance(groups, Mapping):
            raise BenchError(f"{where}.groups: expected a mapping of group: settings, got {groups!r}")
        checked = {}
        for group, raw in groups.items():
            if not isinstance(raw, Mapping):
                raise BenchError(f"{where}.groups.{group}: expected a mapping, got {raw!r}")
            GroupSettings(float(kwargs["lr"])).merged(raw, f"{where}.groups.{group}")  # validates
            checked[str(group)] = _coerce_group(raw, f"{where}.groups.{group}")
        kwargs["groups_json"] = json.dumps(checked, sort_keys=True, separators=(",", ":"))
        method_cfg = kwargs.pop("method_cfg", None) or {}
        if not isinstance(method_cfg, Mapping):
            raise BenchError(f"{where}.method_cfg: expected a mapping of config field: value, got {method_cfg!r}")
        kwargs["method_cfg_json"] = json.dumps(dict(method_cfg), sort_keys=True, separators=(",", ":"))
        return cls(name=name, **kwargs)
