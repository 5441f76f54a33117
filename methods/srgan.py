"""SRGAN training of a generator (Ledig et al., CVPR 2017): the plain, no-KD GAN methods.

* `psnr-pretrain`: pixel loss only, the PSNR-oriented pre-training a GAN starts from (an `init`
  cell). MSE as SRGAN's SRResNet; `pixel_criterion: l1` as BasicSR/ESRGAN.
* `srgan-content`: the generator alone with the content loss l_c (no discriminator): paper
  001's G2G teacher ("trained by minimising l_c alone").
* `srgan`: G minimises content_weight l_c + pixel_weight l_pix + adversarial_weight l_a, then D
  its BCE terms on HR and the detached SR (methods/_gan.py). Paper 001's teacher (eq. 1), its
  no-KD student and the stage 2 of GAN2G+AL / G2G+AL; paper 003's SRGANs (eq. 1).

Defaults are the SRGAN paper's: content loss on VGG19 relu5_4, MSE, features / 12.75, weight 1
(methods/_perceptual.py); adversarial weight 1e-3 (paper 003 prints it; paper 001 prints a plain
sum l_c + l_a, read as the cited SRGAN's weighting); vanilla GAN; the SRGAN D with 64 base
filters; no pixel term. Optimiser settings (Adam 1e-4, SRGAN's 1e5 + 1e5 steps at 1e-4 / 1e-5)
come from the profile, per group (`groups: {G: ..., D: ...}`), learning-rate warm-up included
(`warmup`, e.g. `groups: {G: {warmup: 1000}}`); `net_d_init_iters` gives D-only steps first
and `net_d_iters` a G step every k iterations (BasicSR's names). Our choices: `ema_decay` 0
(off; BasicSR's 0.999 when set; the EMA copy is then the evaluated and saved generator); an
optional `discriminator` input gives D's starting weights (e.g. `output: discriminator` of
another cell).
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

from torch import Tensor, nn

from ._gan import EMA, Adversary, AdversarialConfig, g_steps, params
from ._perceptual import CRITERIA, PerceptualConfig, perceptual_loss
from .base import LossTerms, Method, MethodConfig, register_method


@dataclasses.dataclass(frozen=True)
class PixelConfig(MethodConfig):
    pixel_criterion: str = "mse"  # SRGAN's SRResNet; BasicSR/ESRGAN pre-train with l1

    def __post_init__(self) -> None:
        if self.pixel_criterion not in CRITERIA:
            raise ValueError(f"pixel_criterion: {self.pixel_criterion!r}; valid choices: {', '.join(CRITERIA)}")


@register_method("psnr-pretrain")
class PSNRPretrain(Method):
    """L = criterion(SR, HR): the generator a GAN stage starts from."""

    Config = PixelConfig

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple[str, LossTerms]]:
        yield "G", {"pixel": CRITERIA[self.cfg.pixel_criterion](self.student(lr), hr)}


@dataclasses.dataclass(frozen=True)
class ContentConfig(PerceptualConfig):
    pixel_weight: float = 0.0     # SRGAN: none; BasicSR: 1e-2 (L1)
    pixel_criterion: str = "l1"   # BasicSR
    ema_decay: float = 0.0        # our choice: off; BasicSR 0.999

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pixel_criterion not in CRITERIA:
            raise ValueError(f"pixel_criterion: {self.pixel_criterion!r}; valid choices: {', '.join(CRITERIA)}")
        if self.pixel_weight < 0:
            raise ValueError(f"pixel_weight must be >= 0, got {self.pixel_weight!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (0: off), got {self.ema_decay!r}")


@register_method("srgan-content")
class ContentTraining(Method):
    """G alone: content_weight l_c (+ pixel_weight l_pix). Subclasses add terms and a D."""

    Config = ContentConfig

    def __init__(self, student: nn.Module, cfg: ContentConfig, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        self.content = perceptual_loss(self, cfg)
        self.ema = EMA(student, cfg.ema_decay) if cfg.ema_decay else None

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"G": params(self.student)}

    def generator_terms(self, lr: Tensor, hr: Tensor, sr: Tensor) -> LossTerms:
        terms = {"content": self.cfg.content_weight * self.content(sr, hr)}
        if self.cfg.pixel_weight:
            terms["pixel"] = self.cfg.pixel_weight * CRITERIA[self.cfg.pixel_criterion](sr, hr)
        return terms

    def after_g_step(self) -> None:
        if self.ema is not None:
            self.ema.update(self.student)

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple]:
        yield "G", self.generator_terms(lr, hr, self.student(lr))
        self.after_g_step()

    def sr_models(self) -> dict[str, nn.Module]:
        return {"student": self.ema.net if self.ema is not None else self.student}


@dataclasses.dataclass(frozen=True)
class SRGANConfig(ContentConfig, AdversarialConfig):
    pass


@register_method("srgan")
class SRGAN(ContentTraining):
    """Adversarial training of G with its own D (see the module docstring)."""

    Config = SRGANConfig
    accepts = frozenset({"discriminator"})
    monotone_loss = False

    def __init__(self, student: nn.Module, cfg: SRGANConfig, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        self.adversary = Adversary(cfg, self.ctx, self.inputs.get("discriminator"))

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"G": params(self.student), "D": params(self.adversary)}

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple]:
        sr = self.student(lr)
        if g_steps(step, self.cfg.net_d_iters, self.cfg.net_d_init_iters):
            terms = self.generator_terms(lr, hr, sr)
            terms["adversarial"] = self.cfg.adversarial_weight * self.adversary.g_loss(sr, hr)
            yield "G", terms
            self.after_g_step()
        terms, diagnostics, _, _ = self.adversary.d_step(sr, hr)
        yield "D", terms, diagnostics

    def saved_models(self) -> dict[str, nn.Module]:
        return {**self.sr_models(), "discriminator": self.adversary.net}

