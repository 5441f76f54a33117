"""Teacher-initialised student trained with L1 only: the fair arm for KD methods.

It asks how much of a KD gain the teacher's weights alone explain. The student starts from a
slice of the teacher and is then trained exactly like the baseline (L1 to HR).

Slicing rule (same-family archs only, e.g. EDSR 32x256 -> EDSR 16x64; BenchError otherwise):
  * Blocks: in every nn.Sequential, student child i takes teacher child i (the *first*
    num_blocks ResBlocks), except that the student's *last* child takes the teacher's last one.
    For EDSR's `body` this means the trunk conv body.{B_s} comes from the teacher's trunk conv
    body.{B_t}, not from its block B_s.
  * Channels: every tensor takes the teacher's *first* entries along each dimension
    (weight[:c_out, :c_in], bias[:c_out]); RGB dims (head input, tail output) are 3 on both.
  * Upsampler: a conv followed by PixelShuffle(f) has c*f^2 outputs, output channel
    c*f^2 + r feeding shuffled channel c. Its out-dimension is sliced in whole groups of f^2
    (the first c_s*f^2 rows), so the student's shuffled channel c is the teacher's channel c.
    Teacher and student must have the same scale (same pixel-shuffle stages).
  * Mean shifts and rgb_range: a network without biases is positively homogeneous, so
    multiplying every bias by rgb_range_S / rgb_range_T turns a teacher trained on [0, 255]
    (official checkpoints) into the same function on the student's [0, 1] range. The frozen
    mean shifts are copied too (rescaled), so the student uses the teacher's rgb_mean.
  * res_scale: where student and teacher ResBlocks have different res_scale (official EDSR
    32x256: 0.1; baseline: 1.0), the block's last conv (weight and bias) is multiplied by
    res_scale_T / res_scale_S, so each copied block computes exactly the teacher's block.
A student of the teacher's own size therefore reproduces the teacher's output exactly.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from benchmarks.errors import BenchError

from .base import LossTerms, Method, MethodConfig, register_method


def _teacher_key(key: str, s_len: dict[str, int], t_len: dict[str, int]) -> str:
    s_parts: list[str] = []
    t_parts: list[str] = []
    for part in key.split("."):
        s_prefix, t_prefix = ".".join(s_parts), ".".join(t_parts)
        s_parts.append(part)
        if part.isdigit() and s_prefix in s_len:
            n_s, n_t = s_len[s_prefix], t_len.get(t_prefix, 0)
            if n_s > n_t:
                raise BenchError(f"teacher-init: student {s_prefix or 'model'} has {n_s} "
                                 f"children, the teacher only {n_t} (more blocks than the "
                                 "teacher, or a different scale?)")
            if int(part) == n_s - 1:
                part = str(n_t - 1)
        t_parts.append(part)
    return ".".join(t_parts)


def _slice(t: Tensor, shape: torch.Size, group: int, key: str) -> Tensor:
    if t.dim() != len(shape) or any(s > d for s, d in zip(shape, t.shape)):
        raise BenchError(f"teacher-init: cannot slice teacher {key} {tuple(t.shape)} to the "
                         f"student's {tuple(shape)}")
    if group > 1:  # pixel-shuffle conv: keep whole groups of f*f output channels
        t = t.reshape(t.shape[0] // group, group, *t.shape[1:])[: shape[0] // group]
        t = t.reshape(-1, *t.shape[2:])
    return t[tuple(slice(0, s) for s in shape)].clone()


def _res_scale_fix(model_s: nn.Module, model_t: nn.Module) -> dict[str, float]:
    """{param prefix of a ResBlock's last conv: res_scale_T / res_scale_S}."""
    fix: dict[str, float] = {}
    t_modules = dict(model_t.named_modules())
    for name, m in model_s.named_modules():
        if hasattr(m, "res_scale") and name in t_modules:
            ratio = float(getattr(t_modules[name], "res_scale", m.res_scale)) / float(m.res_scale)
            convs = [n for n, c in m.named_modules() if isinstance(c, nn.Conv2d)]
            if ratio != 1.0 and convs:
                fix[f"{name}.{convs[-1]}."] = ratio
    return fix


def sliced_teacher_state(student: nn.Module, teacher: nn.Module) -> dict[str, Tensor]:
    """The student's state dict filled from the teacher by the rule in the module docstring."""
    if type(student).__name__ != type(teacher).__name__:
        raise BenchError(f"teacher-init needs student and teacher of the same family; got "
                         f"{type(student).__name__} and {type(teacher).__name__}")
    s_len = {n: len(m) for n, m in student.named_modules() if isinstance(m, nn.Sequential)}
    t_len = {n: len(m) for n, m in teacher.named_modules() if isinstance(m, nn.Sequential)}
    groups: dict[str, int] = {}
    for name, m in student.named_modules():
        if isinstance(m, nn.Sequential):
            for i, child in enumerate(m):
                if isinstance(child, nn.PixelShuffle) and i > 0:
                    groups[f"{name}.{i - 1}." if name else f"{i - 1}."] = child.upscale_factor ** 2
    bias_ratio = (float(getattr(student, "rgb_range", 1.0))
                  / float(getattr(teacher, "rgb_range", 1.0)))
    res_fix = _res_scale_fix(student, teacher)
    t_state = teacher.state_dict()
    out: dict[str, Tensor] = {}
    for key, s_val in student.state_dict().items():
        t_key = _teacher_key(key, s_len, t_len)
        if t_key not in t_state:
            raise BenchError(f"teacher-init: teacher has no {t_key!r} for student {key!r}")
        group = next((g for p, g in groups.items() if key.startswith(p)), 1)
        val = _slice(t_state[t_key], s_val.shape, group, t_key).to(s_val.dtype)
        if key.endswith("bias"):
            val = val * bias_ratio
        val = val * next((r for p, r in res_fix.items() if key.startswith(p)), 1.0)
        out[key] = val
    return out


@dataclasses.dataclass(frozen=True)
class TeacherInitConfig(MethodConfig):
    """No options: the slicing rule is fixed (module docstring); the loss is L1."""


@register_method("teacher-init")
class TeacherInit(Method):
    """Student initialised from a slice of the teacher, then L_SR = mean |SR - HR|."""

    needs_teacher = True
    Config = TeacherInitConfig

    def __init__(self, student, cfg, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        with torch.no_grad():
            self.student.load_state_dict(sliced_teacher_state(student, self.teacher))

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple[str, LossTerms]]:
        yield "G", {"l1": F.l1_loss(self.student(lr), hr)}
