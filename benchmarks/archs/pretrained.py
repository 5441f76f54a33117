"""Public checkpoints the papers' code starts from, and how a state dict tells its pixel range.

Known files (by name; ../shared/docs/references.md secs. 2-3):
  * EDSR-PyTorch (sanghyun-son/EDSR-PyTorch, src/model/edsr.py url dict), under
    https://cv.snu.ac.kr/research/EDSR/models/ : `edsr_baseline_x{2,3,4}-*.pt` (16 x 64) and
    `edsr_x{2,3,4}-*.pt` (32 x 256, res_scale 0.1, the CLSD / CKD / FAKD teacher). Their keys are
    EDSR-PyTorch's module names, which benchmarks/archs/edsr.py uses as they are: `sub_mean`,
    `head.0`, `body.{i}.body.{0,2}`, `body.{n}`, `tail.0.{0,2}`, `tail.1`, `add_mean`. The part
    of a name after the dash is torch.hub's convention, the first hex digits of the file's
    SHA-256; it is checked (`verify`) and reported, not enforced.
  * RCAN teachers as the FAKD code loads them (`RCAN_BIX{2,3,4}.pt`, the RCAN authors' release,
    in the FAKD README's Google Drive folder; official RCAN layout; no hash published).

Pixel range. EDSR-PyTorch trains with `rgb_range 255`: its MeanShift subtracts 255 x the DIV2K
mean, so `sub_mean.bias` is about (-114.4, -111.5, -103.0); a network trained on [0, 1] has
biases of magnitude < 1. `state_dict_range` reads the range from that bias (a mean is a
fraction of the range, so |bias| > 1 means 255), and `fit_options` builds the arch with that
`rgb_range` -- loading an official checkpoint into an arch built for [0, 1] gives a network
that subtracts 114 from inputs in [0, 1] and scores ~5 dB, silently. An explicit `rgb_range`
that disagrees with the state dict is an error. Structure options of a known file come from
the table (options given on the command line win, and a mismatch then fails on the keys).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import torch
from torch import Tensor

from ..errors import BenchError

EDSR_URL = "https://cv.snu.ac.kr/research/EDSR/models/"
FAKD_TEACHERS_URL = "https://drive.google.com/drive/folders/1qxE2XwBOI2kO0Obi7IC1mYzkfgTyeY61"
DIV2K_MEAN = (0.4488, 0.4371, 0.4040)
_EDSR_TEACHER = {"num_blocks": 32, "num_feat": 256, "res_scale": 0.1}
_RCAN_TEACHER = {"num_groups": 10, "num_blocks": 20, "num_feat": 64}


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A public checkpoint: what it is (arch, options, scale, pixel range) and where it comes from."""

    filename: str
    arch: str
    scale: int
    options: Mapping[str, Any] = dataclasses.field(hash=False)
    url: str
    hash_prefix: str = ""      # torch.hub convention: the first hex digits of the file's sha256
    pixel_range: int = 255
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))


def _edsr(name: str, scale: int, digest: str, options: Mapping[str, Any]) -> Checkpoint:
    filename = f"{name}_x{scale}-{digest}.pt"
    return Checkpoint(filename, "edsr", scale, options, EDSR_URL + filename, digest,
                      source="EDSR-PyTorch official release (src/model/edsr.py url dict)")


_KNOWN = [
    _edsr("edsr_baseline", 2, "1bc95232", {}), _edsr("edsr_baseline", 3, "abf2a44e", {}),
    _edsr("edsr_baseline", 4, "6b446fab", {}),
    _edsr("edsr", 2, "0edfb8a3", _EDSR_TEACHER), _edsr("edsr", 3, "ea3ef2c6", _EDSR_TEACHER),
    _edsr("edsr", 4, "4f62e9ef", _EDSR_TEACHER),
    *[Checkpoint(f"RCAN_BIX{s}.pt", "rcan", s, _RCAN_TEACHER, FAKD_TEACHERS_URL,
                 source="RCAN authors' release, as the FAKD code loads it (README: teacher folder)")
      for s in (2, 3, 4)],
]
CHECKPOINTS: dict[str, Checkpoint] = {c.filename: c for c in _KNOWN}


def known(path: str | Path) -> Checkpoint | None:
    """The known checkpoint a file is, by its name (None for any other file)."""
    return CHECKPOINTS.get(Path(path).name)


def verify(path: str | Path) -> str:
    """'sha256 <12 hex> (matches the name's <prefix>)' / '(does NOT match ...)' / '(no hash published)'."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    hexdigest = digest.hexdigest()
    ck = known(path)
    if ck is None or not ck.hash_prefix:
        return f"sha256 {hexdigest[:12]} (no hash published)"
    verdict = "matches" if hexdigest.startswith(ck.hash_prefix) else "does NOT match"
    return f"sha256 {hexdigest[:12]} ({verdict} the name's {ck.hash_prefix})"


def state_dict_range(sd: Mapping[str, Tensor]) -> int | None:
    """255 or 1 from `sub_mean.bias` (-rgb_range x mean); None when the state dict has no mean shift."""
    bias = sd.get("sub_mean.bias")
    if bias is None:
        return None
    return 255 if float(bias.abs().max()) > 1.0 else 1


def mean_shifts(pixel_range: int, mean: tuple[float, ...] = DIV2K_MEAN) -> dict[str, Tensor]:
    """EDSR-PyTorch's frozen MeanShift tensors (std 1): weight I, bias -/+ range x mean."""
    eye = torch.eye(3).view(3, 3, 1, 1)
    bias = pixel_range * torch.tensor(mean, dtype=torch.float32)
    return {"sub_mean.weight": eye.clone(), "sub_mean.bias": -bias,
            "add_mean.weight": eye.clone(), "add_mean.bias": bias.clone()}


def fit_options(arch: str, sd: dict[str, Tensor], scale: int, options: Mapping[str, Any],
                source: str, accepts_range: bool) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The state dict and the arch options to load it with (see the module docstring).

    A known file gets its table's options under the given ones, must match `arch` and `scale`,
    and gets EDSR-PyTorch's mean shifts if it has none; an arch with an `rgb_range` option gets
    the range its state dict says."""
    out = dict(options)
    ck = known(source)
    if ck is not None and ck.arch == arch:
        if ck.scale != scale:
            raise BenchError(f"{source}: {ck.filename} is the x{ck.scale} checkpoint, not x{scale}")
        out = dict(ck.options) | out
        if accepts_range and "sub_mean.bias" not in sd and "add_mean.bias" not in sd:
            sd = {**sd, **mean_shifts(ck.pixel_range)}
    detected = state_dict_range(sd) if accepts_range else None
    if detected is not None:
        given = out.get("rgb_range")
        if given is not None and float(given) != detected:
            raise BenchError(f"{source}: its mean shift (sub_mean.bias) is for pixel range {detected}, "
                             f"but rgb_range={given} was given")
        if detected != 1 or given is not None:  # [0, 1] is every such arch's default
            out["rgb_range"] = detected
    return sd, out
