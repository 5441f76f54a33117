"""Knowledge distillation into a slim SRGAN generator (Lee & Park 2021, paper 001).

The student generator adds l_KD = MSE(SR_teacher, SR_student) to its loss, with the same weight
as the content loss l_c (paper: "equal weights"; `kd_weight` 1, `content_weight` 1). The paper
chose MSE over a VGG distance for l_KD after preliminary tests. No teacher-vs-student
discriminator is used (paper).

* `gan2gan` (eq. 2): l_c + l_KD + l_a for G, and the student's own D (same architecture as the
  teacher's: the SRGAN D at `d_num_feat` 64) with l_D. The paper does not say D starts from the
  teacher's D; it starts fresh unless the row gives a `discriminator` input.
* `gan2g`: l_c + l_KD for G; no D, no adversarial term. It is also stage 1 of GAN2G+AL and
  G2G+AL, whose stage 2 is `srgan` (l_c + l_a and D, no KD) started from it (`init: {stage: ...}`);
  G2G+AL's teacher is `srgan-content` (G trained with l_c alone).

Every other default (content loss, adversarial weight 1e-3, D, schedule) is `srgan`'s, i.e. the
cited SRGAN paper's, since paper 001 states none of them (methods/srgan.py).
"""

from __future__ import annotations

import dataclasses

import torch.nn.functional as F
from torch import Tensor

from .base import LossTerms, register_method
from .srgan import SRGAN, ContentConfig, ContentTraining, SRGANConfig


def _check_kd(cfg) -> None:
    if cfg.kd_weight < 0:
        raise ValueError(f"kd_weight must be >= 0, got {cfg.kd_weight!r}")


@dataclasses.dataclass(frozen=True)
class GAN2GConfig(ContentConfig):
    kd_weight: float = 1.0  # paper 001: equal to l_c's weight

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_kd(self)


@dataclasses.dataclass(frozen=True)
class GAN2GANConfig(SRGANConfig):
    kd_weight: float = 1.0  # paper 001: equal to l_c's weight

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_kd(self)


class _Distilled:
    """Adds l_KD = kd_weight * MSE(SR_student, SR_teacher) to the generator's terms."""

    needs_teacher = True

    def generator_terms(self, lr: Tensor, hr: Tensor, sr: Tensor) -> LossTerms:
        terms = super().generator_terms(lr, hr, sr)  # type: ignore[misc]
        terms["kd"] = self.cfg.kd_weight * F.mse_loss(sr, self.teacher_forward(lr))  # type: ignore[attr-defined]
        return terms


@register_method("gan2g")
class GAN2G(_Distilled, ContentTraining):
    """Student G with l_c + l_KD, no discriminator (paper 001, GAN2G; stage 1 of the +AL variants)."""

    Config = GAN2GConfig


@register_method("gan2gan")
class GAN2GAN(_Distilled, SRGAN):
    """Student G with l_c + l_KD + l_a and a full-size student D (paper 001, GAN2GAN)."""

    Config = GAN2GANConfig
