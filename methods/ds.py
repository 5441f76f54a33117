"""Deep-supervision self-distillation (DS), the baseline of the CLSD paper (paper 000, eqs. 1-4).

    L_DS = L_SR + L_ASR + alpha * L_SD,   alpha = 10
    L_SR  = L1(SR, HR)
    L_ASR = mean_j L1(SR^j, HR)                 (j = 1..T projection heads, T = 3)
    L_SD  = mean_j L1(SR^j, sg(SR))             (sg = stop-gradient, `detach_main`)

SR is the student's output, SR^j the j-th projection head's (methods/_heads.py: head_blocks
EDSR ResBlocks + its own Upsampler/conv tail; attached by default after blocks B/4, B/2, 3B/4,
i.e. body.3, body.7, body.11 of the 16-block student). The heads are trained with the student
and dropped at inference: `sr_model()` is the bare student (same parameter count as baseline).

Normalisation. The decoded equations carry 1/(2N) sum_i ||.||_1 on every term. Here each L1 is
PyTorch's mean-reduced L1 (mean over N*C*H*W, as EDSR-PyTorch's nn.L1Loss), i.e. the printed
value times 2/(C*H*W) if ||.||_1 sums over pixels. The factor is common to L_SR, L_ASR and L_SD,
so alpha = 10 keeps its meaning and Adam is invariant to the overall scale; we take the 1/(2N)
as notation for the implementation's mean L1. 1/T is the mean over heads.

Stop-gradient. In L_SD the main output plays the teacher ("each PH a student, the main
network's final SR its teacher"), so SR is detached there by default: L_SD trains the heads
(and, through them, the trunk below each tap) but does not pull SR toward the heads' outputs.
`detach_main: false` lets the gradient through to SR as well.

Ablations as configurations (Table 5 rows; Fig. 3 sweep):
    L_SR                      ds {num_heads: 0}  (or asr_weight: 0, sd_weight: 0) = baseline
    L_SR + L_aux              ds {sd_weight: 0}
    L_SR + L_aux + L_KD (DS)  ds {}
    L_SR + L_aux + L_CL       clsd {}
    PH depth (Fig. 3)         ds/clsd {head_blocks: 1 .. 10}
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import torch.nn.functional as F
from torch import Tensor

from ._heads import AuxHeads, block_paths, check_paths
from .base import LossTerms, Method, MethodConfig, register_method


@dataclasses.dataclass(frozen=True)
class DSConfig(MethodConfig):
    num_heads: int = 3             # T
    attach: tuple = ()             # student feature paths, one per head; () = evenly spaced
    head_blocks: int = 5           # ResBlocks per projection head
    head_feat: int = 0             # head width; 0 = the tapped feature's width (paper: 64)
    asr_weight: float = 1.0        # weight of L_ASR (0 drops the auxiliary SR loss)
    sd_weight: float = 10.0        # alpha, weight of L_SD
    detach_main: bool = True       # stop-gradient on the main SR where it acts as the target

    def __post_init__(self) -> None:
        for name in ("num_heads", "head_blocks", "head_feat"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        check_paths("attach", self.attach)
        if self.attach and len(self.attach) != self.num_heads:
            raise ValueError(f"attach lists {len(self.attach)} paths but num_heads is "
                             f"{self.num_heads}; give one path per head")

    def uses_heads(self) -> bool:
        return self.num_heads > 0 and (self.asr_weight != 0 or self.sd_weight != 0)


@register_method("ds")
class DeepSupervision(Method):
    """Student + T projection heads; L_SR + L_ASR + alpha * L_SD."""

    Config = DSConfig

    def __init__(self, student, cfg, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        paths = ()
        if cfg.uses_heads():
            paths = tuple(cfg.attach) or block_paths(student, cfg.num_heads)
        self.aux = AuxHeads(student, paths, cfg.head_blocks, cfg.head_feat)

    def target(self, sr: Tensor) -> Tensor:
        """The main output where it serves as the heads' teacher."""
        return sr.detach() if self.cfg.detach_main else sr

    def head_terms(self, sr: Tensor, heads: list[Tensor], hr: Tensor) -> LossTerms:
        cfg = self.cfg
        terms: LossTerms = {}
        if cfg.asr_weight:
            terms["asr"] = cfg.asr_weight * sum(F.l1_loss(h, hr) for h in heads) / len(heads)
        if cfg.sd_weight:
            target = self.target(sr)
            terms["sd"] = cfg.sd_weight * sum(F.l1_loss(h, target) for h in heads) / len(heads)
        return terms

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple[str, LossTerms]]:
        sr, heads = self.aux(lr)
        terms: LossTerms = {"sr": F.l1_loss(sr, hr)}
        if heads:
            terms.update(self.head_terms(sr, heads, hr))
        yield "G", terms
