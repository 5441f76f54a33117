"""Model files that carry their structure: a saved network reloads without the run that made it.

`save_model(model, path)` writes, atomically, a dict of plain data (loadable with
`torch.load(..., weights_only=True)`):

    {"format": "srkd-model/1", "arch": "edsr", "scale": 2, "options": {...},
     "shapes": {"head.0.weight": [64, 3, 3, 3], ...}, "state_dict": {...}}

The model must have been built through `build_arch` or `build_discriminator` (it carries
`arch_info`; a discriminator's name is `discriminator:<name>`). `load_model(path)`
rebuilds the arch from name/scale/options; where the recorded shapes differ from the fresh build
(a structurally pruned network, with fewer channels) it replaces those `nn.Conv2d` / `nn.Linear`
modules by ones of the recorded shape, then loads the weights strictly. Plain state dicts (e.g.
published checkpoints) are not model files: load them with `archs.zoo.load_pretrained`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .archs import ArchInfo, build_arch
from .archs.zoo import load_state_dict_strict
from .errors import BenchError, MissingFileError

FORMAT = "srkd-model/1"
_FIELDS = ("arch", "scale", "options", "shapes", "state_dict")


def file_sha256(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of the file's bytes, read in chunks (for keying `load` cells by content)."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"file not found: {path}")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def _plain_option(value: Any, where: str) -> Any:
    """`value` as weights_only-safe plain data (tuples become lists), else a BenchError."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain_option(v, where) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _plain_option(v, f"{where}.{k}") for k, v in value.items()}
    raise BenchError(f"arch option {where} = {value!r} cannot be saved in a model file "
                     f"(use numbers, strings, booleans, lists or dicts)")


def _tuples(value: Any) -> Any:
    """Lists back to tuples (option defaults are tuples; factories accept either)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def save_model(model: nn.Module, path: str | Path) -> Path:
    """Write `model` (built by build_arch, possibly pruned) to `path` atomically; returns the path."""
    path = Path(path)
    info = getattr(model, "arch_info", None)
    if not isinstance(info, ArchInfo):
        raise BenchError(f"cannot save {type(model).__name__} to {path}: it was not built through "
                         f"build_arch (no arch_info), so the file could not rebuild it")
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload = {
        "format": FORMAT,
        "arch": info.name,
        "scale": int(info.scale),
        "options": {k: _plain_option(v, k) for k, v in info.options.items()},
        "shapes": {k: list(v.shape) for k, v in state.items()},
        "state_dict": state,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise MissingFileError(f"model file not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- torch.load raises UnpicklingError, KeyError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"{path}: not a loadable torch checkpoint ({first})") from None
    if not isinstance(obj, Mapping) or "format" not in obj:
        raise BenchError(f"{path}: not an srkd-bench model file (no 'format' key); "
                         f"load plain state dicts with load_pretrained and an arch")
    if obj["format"] != FORMAT:
        raise BenchError(f"{path}: unsupported model file format {obj['format']!r} (this version reads {FORMAT!r})")
    missing = [k for k in _FIELDS if k not in obj]
    if missing:
        raise BenchError(f"{path}: model file lacks {', '.join(missing)}")
    sd, shapes = obj["state_dict"], obj["shapes"]
    if not isinstance(sd, Mapping) or not all(isinstance(v, Tensor) for v in sd.values()):
        raise BenchError(f"{path}: model file's state_dict is not a dict of tensors")
    if not isinstance(shapes, Mapping) or set(shapes) != set(sd):
        raise BenchError(f"{path}: model file's shapes do not list the state_dict's keys")
    bad = sorted(k for k in sd if list(sd[k].shape) != list(shapes[k]))
    if bad:
        raise BenchError(f"{path}: model file's recorded shapes disagree with its tensors, e.g. {bad[0]}: "
                         f"recorded {list(shapes[bad[0]])} vs tensor {list(sd[bad[0]].shape)}")
    return dict(obj)


def _resized(old: nn.Module, shapes: Mapping[str, list[int]], prefix: str, source: str) -> nn.Module:
    """A fresh `nn.Conv2d` / `nn.Linear` like `old` with the recorded weight (and bias) shape."""
    weight = shapes.get(f"{prefix}weight")
    bias = shapes.get(f"{prefix}bias")
    has_bias = old.bias is not None
    if weight is None or (bias is not None) != has_bias:
        raise BenchError(f"{source}: cannot resize {prefix[:-1]}: weight/bias keys do not match the arch")
    factory = {"device": old.weight.device, "dtype": old.weight.dtype}
    try:
        if type(old) is nn.Conv2d:
            out_ch, in_per_group, *kernel = weight
            if tuple(kernel) != tuple(old.kernel_size):
                raise ValueError(f"kernel size {tuple(kernel)} != arch {tuple(old.kernel_size)}")
            new: nn.Module = nn.Conv2d(
                in_per_group * old.groups, out_ch, old.kernel_size, stride=old.stride,
                padding=old.padding, dilation=old.dilation, groups=old.groups, bias=has_bias,
                padding_mode=old.padding_mode, **factory)
        else:
            out_f, in_f = weight
            new = nn.Linear(in_f, out_f, bias=has_bias, **factory)
    except (ValueError, TypeError) as exc:
        raise BenchError(f"{source}: cannot resize {prefix[:-1]} to {list(weight)}: {exc}") from None
    if has_bias and list(bias) != [new.weight.shape[0]]:
        raise BenchError(f"{source}: {prefix}bias shape {list(bias)} does not fit weight {list(weight)}")
    new.train(old.training)
    new.requires_grad_(old.weight.requires_grad)
    return new


def _resize_to(model: nn.Module, shapes: Mapping[str, list[int]], source: str) -> None:
    """Replace the Conv2d/Linear modules whose recorded shapes differ from `model`'s."""
    own = model.state_dict()
    differ = sorted(k for k in own if tuple(own[k].shape) != tuple(shapes[k]))
    modules = dict(model.named_modules())
    targets: dict[str, nn.Module] = {}
    for key in differ:
        mod_name, _, attr = key.rpartition(".")
        mod = modules.get(mod_name)
        if type(mod) not in (nn.Conv2d, nn.Linear) or attr not in ("weight", "bias"):
            kind = type(mod).__name__ if mod is not None else "?"
            raise BenchError(
                f"{source}: {len(differ)} tensors differ in shape from the arch and {key} "
                f"({kind}) cannot be resized (only nn.Conv2d/nn.Linear weights and biases): "
                f"file {list(shapes[key])} vs arch {list(own[key].shape)}")
        targets[mod_name] = mod
    for name, old in targets.items():
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, _resized(old, shapes, f"{name}.", source))


def _build(name: str, scale: int, options: dict[str, Any]) -> nn.Module:
    """The structure a model file names: an SR arch, or a GAN discriminator."""
    from .archs.discriminators import PREFIX, build_discriminator

    if name.startswith(PREFIX):
        return build_discriminator(name[len(PREFIX):], **options)
    return build_arch(name, scale, **options)


def load_model(path: str | Path) -> nn.Module:
    """Rebuild the model saved at `path` (pruned channels included), weights loaded strictly, eval mode."""
    path = Path(path)
    obj = _read(path)
    name, scale = obj["arch"], obj["scale"]
    source = f"{path} ({name} x{scale})"
    try:
        model = _build(name, int(scale), _tuples(dict(obj["options"])))
    except BenchError as exc:
        raise BenchError(f"{path}: {exc}") from None
    sd, shapes = obj["state_dict"], obj["shapes"]
    if set(model.state_dict()) != set(sd):
        load_state_dict_strict(model, sd, source)  # raises the one-line key mismatch
    _resize_to(model, shapes, source)
    load_state_dict_strict(model, sd, source)
    return model.eval()
