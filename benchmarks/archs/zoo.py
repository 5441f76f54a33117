"""Load local pretrained checkpoints into registered archs: strict, offline, one-line errors.

Accepts plain state_dicts, DataParallel (`module.`-prefixed) ones, and training files that nest
the weights under `params_ema` / `params` / `state_dict` / `model`; official EDSR-PyTorch / RCAN
checkpoints as they are, in their pixel range (archs/pretrained.py). Never downloads.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import BenchError, MissingFileError
from . import ARCHS, build_arch
from .pretrained import fit_options, known

_NESTED_KEYS = ("params_ema", "params", "state_dict", "model")


def extract_state_dict(obj: Any, source: str = "checkpoint") -> dict[str, Tensor]:
    """The tensor dict inside `obj`, unwrapping nesting and stripping a `module.` prefix."""
    while isinstance(obj, Mapping) and not any(isinstance(v, Tensor) for v in obj.values()):
        key = next((k for k in _NESTED_KEYS if isinstance(obj.get(k), Mapping)), None)
        if key is None:
            break
        obj = obj[key]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, Tensor) for v in obj.values()):
        raise BenchError(f"{source}: not a state_dict of tensors (got {type(obj).__name__})")
    sd = {str(k): v for k, v in obj.items()}
    if all(k.startswith("module.") for k in sd):
        sd = {k[len("module."):]: v for k, v in sd.items()}
    return sd


def _examples(keys: set[str], n: int = 3) -> str:
    return ", ".join(sorted(keys)[:n]) + (", ..." if len(keys) > n else "")


def load_state_dict_strict(model: nn.Module, sd: Mapping[str, Tensor], source: str) -> None:
    """`model.load_state_dict(sd, strict=True)` with a one-line BenchError on any mismatch."""
    own = model.state_dict()
    missing, unexpected = set(own) - set(sd), set(sd) - set(own)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing ({_examples(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected ({_examples(unexpected)})")
        raise BenchError(f"{source}: keys do not match the arch: {'; '.join(parts)}")
    shapes = {k for k in own if tuple(own[k].shape) != tuple(sd[k].shape)}
    if shapes:
        k = min(shapes)
        raise BenchError(
            f"{source}: {len(shapes)} tensors differ in shape, e.g. {k}: "
            f"checkpoint {tuple(sd[k].shape)} vs arch {tuple(own[k].shape)}"
        )
    model.load_state_dict(sd, strict=True)


def load_pretrained(arch: str, weights: str | Path, scale: int, **options: Any) -> nn.Module:
    """Build `arch` at `scale` (with size `options`), load `weights` strictly, return it in eval mode.

    The state dict decides the pixel range of archs with an `rgb_range` option (an official
    EDSR-PyTorch checkpoint: 255), and a known public file (archs/pretrained.py) its structure
    options; anything that does not fit is an error naming the keys, never a partial load."""
    path = Path(weights)
    if not path.is_file():
        ck = known(path)
        where = (f"; download {ck.url} ({ck.source}) into a folder given with --weights-dir DIR or "
                 "BENCH_WEIGHTS_DIR=DIR" if ck else "")
        raise MissingFileError(f"weights file not found: {path}{where}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- torch.load raises UnpicklingError, KeyError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"{path}: not a loadable torch checkpoint ({first})") from None
    sd = extract_state_dict(obj, str(path))
    accepts_range = "rgb_range" in inspect.signature(ARCHS.get(arch)).parameters
    sd, options = fit_options(arch, sd, scale, options, str(path), accepts_range)
    model = build_arch(arch, scale, **options)
    load_state_dict_strict(model, sd, f"{path} for {arch} x{scale}")
    return model.eval()
