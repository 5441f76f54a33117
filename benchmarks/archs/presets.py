"""The papers' named model sizes as data, with their published parameter counts.

`scale` is the scale the published count refers to (EDSR teacher x2, EDSR student x4: the
EDSR paper's baseline count; SRGAN/ESRGAN x4); the models themselves build at any scale.
`bench ls archs` prints `preset_table()`: measured next to published counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

import torch

from ..errors import BenchError
from . import build_arch, count_params


@dataclass(frozen=True)
class Preset:
    """A named arch configuration; `published_params` in millions, as printed (None: not given)."""

    name: str
    arch: str
    kwargs: Mapping[str, Any] = field(hash=False)
    scale: int
    published_params: float | None
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kwargs", MappingProxyType(dict(self.kwargs)))

    def build(self, scale: int | None = None) -> torch.nn.Module:
        return build_arch(self.arch, self.scale if scale is None else scale, **self.kwargs)

    def measured_params(self, scale: int | None = None) -> int:
        """Parameter count at `scale` (default: the published count's scale), built on meta."""
        with torch.device("meta"):
            return count_params(self.build(scale))

    def published_decimals(self) -> int:
        """Decimals of the published count as printed (40.7 -> 1, 0.25 -> 2)."""
        text = repr(self.published_params)
        return len(text.split(".")[1]) if "." in text else 0

    def matches_published(self, measured: int) -> bool:
        """True when `measured`, in millions, rounds to the published count's printed digits."""
        if self.published_params is None:
            return True
        return round(measured / 1e6, self.published_decimals()) == self.published_params


def _p(name: str, arch: str, kwargs: dict[str, Any], scale: int, published: float | None,
       source: str, note: str = "") -> Preset:
    return Preset(name, arch, kwargs, scale, published, source, note)


_PRESETS = [
    _p("edsr-teacher", "edsr", {"num_blocks": 32, "num_feat": 256, "res_scale": 0.1}, 2, 40.7,
       "papers 000/002 Table 1 (EDSR, Lim et al. 2017)", "43.1M at x4"),
    _p("edsr-student", "edsr", {"num_blocks": 16, "num_feat": 64}, 4, 1.5,
       "papers 000/002 Table 1 (EDSR-baseline)", "the 1.5M is the x4 count; 1.37M at x2"),
    _p("srresnet-teacher", "srresnet", {"num_blocks": 16, "num_feat": 64}, 4, 1.55, "paper 001 Table 1"),
    _p("srresnet-student", "srresnet", {"num_blocks": 8, "num_feat": 32}, 4, 0.25, "paper 001 Table 1"),
    _p("srresnet-ml", "srresnet", {"num_blocks": 32, "num_feat": 64}, 4, None,
       "paper 003 (32 blocks, 64 filters; x2 and x4)", "no count published"),
    _p("rrdbnet-teacher", "rrdbnet", {"num_feat": 64, "num_blocks": 23, "num_grow": 32}, 4, 16.7,
       "paper 004 (ESRGAN, Wang et al. 2018)"),
    *[
        _p(f"rrdbnet-student{n}", "rrdbnet", {"num_feat": n, "num_blocks": 23, "num_grow": 32}, 4, pub,
           f"paper 004 (Student_{n}; 23 blocks, 32 growth channels assumed)", note)
        for n, pub, note in [(16, 6.5, ""), (32, 9.6, ""),
                             (48, 12.9, "measured 12.97M; no 23-block config gives 6.5/9.6/12.9 at once")]
    ],
    _p("rcan-teacher", "rcan", {"num_groups": 10, "num_blocks": 20, "num_feat": 64}, 4, 15.59,
       "FAKD README (RCAN TN; Zhang et al. 2018: 10 groups x 20 RCABs)", "15.44M at x2"),
    _p("rcan-student", "rcan", {"num_groups": 10, "num_blocks": 6, "num_feat": 64}, 4, 5.17,
       "FAKD README (RCAN SN: 10 groups x 6 RCABs)", "5.02M at x2"),
    _p("imdn", "imdn", {}, 2, 0.694, "IMDN paper (Hui et al. 2019): 694K/703K/715K at x2/x3/x4"),
    _p("carn-m", "carn-m", {}, 2, 0.412, "CARN paper (Ahn et al. 2018): CARN-M 412K",
       "paper counts weights only (412,050); with biases and shifters the release has 414,811"),
    _p("bicubic", "bicubic", {}, 2, None, "reference row (MATLAB bicubic)", "no parameters"),
]
PRESETS: dict[str, Preset] = {p.name: p for p in _PRESETS}


def get_preset(name: str) -> Preset:
    """The preset called `name`; unknown names are a BenchError listing the choices."""
    try:
        return PRESETS[name]
    except KeyError:
        raise BenchError(f"unknown preset {name!r}; valid choices: {', '.join(PRESETS)}") from None


class PresetRow(NamedTuple):
    """One `bench ls archs` row; `published_params` in millions, None where not published."""

    name: str
    arch: str
    options: str
    scale: int
    measured_params: int
    published_params: float | None


def preset_table() -> list[PresetRow]:
    """Rows (name, arch, options, scale, measured params, published params in millions)."""
    return [
        PresetRow(p.name, p.arch, ", ".join(f"{k}={v}" for k, v in p.kwargs.items()), p.scale,
                  p.measured_params(), p.published_params)
        for p in PRESETS.values()
    ]
