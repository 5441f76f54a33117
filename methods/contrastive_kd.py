"""Contrastive KD on SR outputs (Moon, Kwon, Jeong, Kim, KETI; paper 002).

    L = L_rec + alpha * L_CL,   L_rec = mean |SR^S - HR|,   alpha = 10
    L_CL = sum_i d(SR_i^S, SR_i^T) / sum_{k != i} d(SR_i^S, SR_k^neg)        (eq. 1)

Positives: the teacher's and the student's outputs with the same batch index (the teacher
output is computed under no_grad). Negatives ("the remaining samples"; which model's outputs
is an open question): `negatives = "teacher"` (default) uses the teacher's outputs of the other
indices, K = N-1 per anchor, a fixed target like the positive; `"student"` the student's own
other-index outputs (gradient flows into them too); `"both"` the union, K = 2(N-1).
Distance `l1` (default; "Ours (L1)" was the better variant) or `cosine`; reduction `sum` over
i as printed, or `mean`. For cosine the paper applies -log to eq. (1); `cosine_form` picks
"infonce" (default: -log(e^{s_pos} / (e^{s_pos} + sum e^{s_neg})), finite and >= 0 for any
outputs, which the literal ratio is not) or "literal" (-log(s_pos / sum s_neg), as printed,
similarities clamped at eps). The exact forms are in methods/_contrastive.py. The ratios do
not scale with the pixel range while L_rec does, so alpha = 10 balances them as in
EDSR-PyTorch-based code (rgb_range 255, the default of the EDSR code the paper's networks come
from; the authors' own code is not public) only at profile `pixel_range: 255`. Needs a batch of at least 2.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import torch.nn.functional as F
from torch import Tensor

from ._contrastive import contrastive_ratio, validate_contrastive_fields
from .base import LossTerms, Method, MethodConfig, register_method

NEGATIVES = ("teacher", "student", "both")


@dataclasses.dataclass(frozen=True)
class ContrastiveKDConfig(MethodConfig):
    alpha: float = 10.0           # weight of L_CL (paper 002)
    rec_weight: float = 1.0       # weight of L_rec = L1(SR, HR)
    distance: str = "l1"          # "l1" | "cosine"
    negatives: str = "teacher"    # "teacher" | "student" | "both": whose other-index outputs
    reduction: str = "sum"        # "sum" over the batch as printed | "mean"
    temperature: float = 1.0      # cosine only (InfoNCE temperature; 1 = none, as printed)
    cosine_form: str = "infonce"  # cosine only: "infonce" (default) | "literal" -log(s_pos / sum s_neg)

    def __post_init__(self) -> None:
        validate_contrastive_fields(self, NEGATIVES)


@register_method("contrastive-kd")
class ContrastiveKD(Method):
    """Student output pulled to the teacher's same-index output, pushed from other indices."""

    needs_teacher = True
    Config = ContrastiveKDConfig

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple[str, LossTerms]]:
        cfg: ContrastiveKDConfig = self.cfg  # type: ignore[assignment]
        sr = self.student(lr)
        sr_t = self.teacher_forward(lr)
        banks = {"teacher": [sr_t], "student": [sr], "both": [sr_t, sr]}[cfg.negatives]
        cl = contrastive_ratio(sr, sr_t, banks, cfg.distance, cfg.reduction, cfg.temperature,
                               cosine_form=cfg.cosine_form)
        yield "G", {"rec": cfg.rec_weight * F.l1_loss(sr, hr), "cl": cfg.alpha * cl}
