"""Tiny methods for the run-graph tests (registered once per process under test-only names)."""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.errors import BenchError
from methods.base import METHODS, Method, MethodConfig, register_method


def _register(name: str):
    def deco(cls):
        return cls if name in METHODS else register_method(name)(cls)
    return deco


@_register("test-noop")
class NoOp(Method):
    """Trains nothing (zero gradient): a stage-2 student must equal its init exactly."""

    def losses(self, lr, hr, step):
        yield "G", {"zero": 0.0 * self.student(lr).sum()}


@_register("test-kd")
class PlainKD(Method):
    """L1 to HR plus L1 to the teacher's SR."""

    needs_teacher = True

    def losses(self, lr, hr, step):
        sr = self.student(lr)
        yield "G", {"rec": F.l1_loss(sr, hr), "kd": F.l1_loss(sr, self.teacher_forward(lr))}


@dataclasses.dataclass(frozen=True)
class GanLikeConfig(MethodConfig):
    d_every: int = 2  # D steps on even iterations only
    d_lr: float = 0.0  # 0: the profile's lr


@_register("test-gan-like")
class GanLike(Method):
    """Two groups, G every step and D every `d_every` steps; a frozen helper; a diagnostic."""

    Config = GanLikeConfig
    accepts = frozenset({"discriminator"})

    def __init__(self, student, cfg, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        if self.ctx.lr_patch and self.ctx.hr_patch != self.ctx.lr_patch * self.ctx.scale:
            raise BenchError("inconsistent context")
        self.disc = nn.Conv2d(3, 1, 3, padding=1)
        self.add_frozen("helper", nn.Conv2d(3, 3, 1))

    def param_groups(self):
        return {"G": list(self.student.parameters()), "D": list(self.disc.parameters())}

    def optim_settings(self):
        return {"D": {"lr": self.cfg.d_lr}} if self.cfg.d_lr else {}

    def losses(self, lr, hr, step):
        sr = self.student(lr)
        yield "G", {"l1": F.l1_loss(self.frozen("helper")(sr), hr)}
        if step % self.cfg.d_every == 0:
            real, fake = self.disc(hr).mean(), self.disc(sr.detach()).mean()
            yield "D", {"gap": (fake - real) ** 2}, {"d_real": real.detach()}


@dataclasses.dataclass(frozen=True)
class PatchCheckConfig(MethodConfig):
    hr_patch: int = 128


@_register("test-needs-128")
class NeedsPatch(Method):
    """Refuses, at construction, any HR patch other than its discriminator's input size."""

    Config = PatchCheckConfig

    def __init__(self, student, cfg, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        if self.ctx.hr_patch != cfg.hr_patch:
            raise BenchError(f"discriminator takes {cfg.hr_patch}px HR patches, the profile gives {self.ctx.hr_patch}px")

    def losses(self, lr, hr, step):
        yield "G", {"l1": F.l1_loss(self.student(lr), hr)}


@_register("test-pair")
class Pair(Method):
    """Two peers trained side by side (as mutual learning does); both are evaluated."""

    def __init__(self, student, cfg, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        import copy

        self.peer_b = copy.deepcopy(student)
        with torch.no_grad():
            for p in self.peer_b.parameters():
                p.mul_(0.5)

    @classmethod
    def evaluated_outputs(cls, cfg):
        return ("peer_a", "peer_b")

    def sr_models(self):
        return {"peer_a": self.student, "peer_b": self.peer_b}

    def param_groups(self):
        return {"A": list(self.student.parameters()), "B": list(self.peer_b.parameters())}

    def losses(self, lr, hr, step):
        yield "A", {"l1": F.l1_loss(self.student(lr), hr)}
        yield "B", {"l1": F.l1_loss(self.peer_b(lr), hr)}
