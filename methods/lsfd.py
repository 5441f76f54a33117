"""LSFD: local-selective feature distillation (Park & Kwak, arXiv:2111.10988, 2021) -- RECONSTRUCTED.

The LSFD paper's method section is not available here (../shared/docs/references.md sec. 1: only
its abstract and introduction could be retrieved), so this is a reconstruction and the report
marks its rows "reconstructed". What the sources pin down:
  * the abstract: FitNet-style feature distillation changed to focus on *local* feature
    information, plus a *teacher-student-difference-based soft feature attention* that
    selectively weights pixel locations;
  * the CLSD paper (000, sec. II, describing [10]): LSFD keeps the FitNet distillation regressor
    (DR) and the L1 feature loss, and uses the *difference map between the teacher's and the
    student's output images* to emphasise selected positions.
Every assumption beyond that is a config field, defaulting to the most literal reading:

    D_n      = avgpool_{s x s}( mean_c |SR_T,n - sg(SR_S,n)| )     `difference: output` (000's
               difference map of the output images, area-averaged to the feature resolution)
             = mean_c |F_T^l,n - sg(r_l(F_S^l,n))|                 `difference: feature`
    softmax: w_n,p = HW * softmax_p( D_n,p / (tau * mean_q D_n,q) )  (default: "soft"
                                                                   attention over pixel
                                                                   locations; mean w = 1)
    linear:  w_n,p = (D_n,p + eps) / mean_q (D_n,q + eps)           (mean w = 1)
    none:    w = 1                                                  (plain FitNet)
    L_FD     = sum_l mean_{n,c,p} w_n,p * |r_l(F_S^l) - F_T^l|
    L        = rec_weight * L1(SR_S, HR) + feat_weight * L_FD [+ ts_weight * L1(SR_S, SR_T)]

  * regressor r_l (`regressor_kernel`): 3 by default, a 3x3 conv -- "local": each position is
    regressed from its neighbourhood; 1 = FitNet's 1x1 DR as the CLSD paper describes it.
  * temperature tau (`temperature`, 1.0): relative to the sample's mean difference, so it does
    not depend on the pixel range (an absolute temperature would turn the softmax into an
    argmax at [0, 255]).
  * the weights carry no gradient (sg on the student; the teacher is frozen).
  * weights rec 1, feat 1, ts 0 (`rec_weight`, `feat_weight`, `ts_weight`): not stated anywhere.
  * positions (`taps`): "even" (3 evenly spaced ResBlock outputs, where ds/clsd attach their
    heads; methods/_heads.py block_paths) or "thirds" (the FAKD code's); not stated anywhere.
The regressors are trained with the student and dropped at inference.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._heads import TAPS, check_pairing, paired_paths, probe, tapped
from .base import LossTerms, Method, MethodConfig, register_method

ATTENTIONS = ("softmax", "linear", "none")
DIFFERENCES = ("output", "feature")


@dataclasses.dataclass(frozen=True)
class LSFDConfig(MethodConfig):
    taps: str = "even"             # default positions: "even" | "thirds" (FAKD code's)
    student_paths: tuple = ()      # () = the `taps` positions
    teacher_paths: tuple = ()      # () = the `taps` positions
    feat_weight: float = 1.0       # weight of L_FD (summed over positions)
    rec_weight: float = 1.0        # L1(SR, HR)
    ts_weight: float = 0.0         # optional L1(SR, SR_teacher)
    attention: str = "softmax"     # "softmax" (soft attention) | "linear" | "none"
    difference: str = "output"     # difference map of "output" images (paper 000) | "feature"s
    temperature: float = 1.0       # softmax temperature, relative to the mean difference
    regressor_kernel: int = 3      # 3 = "local" regressor; 1 = FitNet 1x1 DR

    def __post_init__(self) -> None:
        if self.taps not in TAPS:
            raise ValueError(f"taps must be one of {TAPS}, got {self.taps!r}")
        check_pairing(self)
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        if self.difference not in DIFFERENCES:
            raise ValueError(f"difference must be one of {DIFFERENCES}, got {self.difference!r}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.regressor_kernel < 1 or self.regressor_kernel % 2 == 0:
            raise ValueError(f"regressor_kernel must be odd and >= 1, got {self.regressor_kernel}")


def selective_weights(sr_t: Tensor, sr_s: Tensor, size: tuple[int, int], attention: str,
                      temperature: float = 1.0, eps: float = 1e-8) -> Tensor:
    """(N, 1, h, w) per-position weights (mean 1 per sample) from |SR_T - SR_S| (or any two
    maps: channel mean of the absolute difference, area-averaged to `size`)."""
    diff = (sr_t - sr_s).abs().mean(dim=1, keepdim=True)
    d = F.adaptive_avg_pool2d(diff, size)
    if attention == "none":
        return torch.ones_like(d)
    if attention == "linear":
        d = d + eps
        return d / d.mean(dim=(2, 3), keepdim=True)
    logits = d / (temperature * d.mean(dim=(2, 3), keepdim=True) + eps)
    hw = size[0] * size[1]
    return hw * torch.softmax(logits.flatten(1), dim=1).view_as(d)


@register_method("lsfd")
class LSFD(Method):
    """Student features regressed to the teacher's, L1 weighted where the outputs differ."""

    needs_teacher = True
    Config = LSFDConfig
    #: Shown in reports beside its rows (benchmarks/fidelity.py): the loss is a reconstruction.
    reconstructed = ("LSFD's method section is not available (only its abstract and the CLSD "
                     "paper's one-sentence description); regressor, attention, temperature, "
                     "weights and positions are assumptions (methods/lsfd.py)")

    def __init__(self, student, cfg, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        self.student_paths, self.teacher_paths = paired_paths(cfg, student, self.teacher, cfg.taps)
        c_s, _ = probe(student, self.student_paths)
        c_t, _ = probe(self.teacher, self.teacher_paths)
        k = cfg.regressor_kernel
        self.regressors = nn.ModuleList(
            nn.Conv2d(a, b, k, padding=k // 2) for a, b in zip(c_s, c_t))

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple[str, LossTerms]]:
        cfg: LSFDConfig = self.cfg  # type: ignore[assignment]
        with tapped(self.teacher, self.teacher_paths) as tap:
            sr_t = self.teacher_forward(lr)
            feats_t = tap.pop()
        with tapped(self.student, self.student_paths) as tap:
            sr = self.student(lr)
            feats_s = tap.pop()
        fd = torch.zeros((), device=sr.device)
        for reg, ps, pt in zip(self.regressors, self.student_paths, self.teacher_paths):
            ft, fs = feats_t[pt], reg(feats_s[ps])
            a, b = (sr_t, sr.detach()) if cfg.difference == "output" else (ft, fs.detach())
            w = selective_weights(a, b, ft.shape[-2:], cfg.attention, cfg.temperature)
            fd = fd + (w * (fs - ft).abs()).mean()
        terms: LossTerms = {"rec": cfg.rec_weight * F.l1_loss(sr, hr), "fd": cfg.feat_weight * fd}
        if cfg.ts_weight:
            terms["ts"] = cfg.ts_weight * F.l1_loss(sr, sr_t)
        yield "G", terms
