"""Contrastive-learning-based self-distillation (CLSD; Moon et al., paper 000, eq. 6).

DS (methods/ds.py: same projection heads, attachment points and L_SR / L_ASR) with the
contrastive term over each head's outputs:

    L = L_SR + L_ASR + beta * mean_j L_CS^j  [+ alpha * L_SD],   beta = 10
    L_CS^j = sum_i d(SR_i^j, sg(SR_i)) / sum_{k != i} [ d(SR_i^j, sg(SR_k)) + d(SR_i^j, SR_k^j) ]

Anchor: head j's output for image i. Positive: the main output with the same index (the main
network is the heads' teacher; stop-gradient sg per `detach_main`, as in DS). Negatives (the
paper: "pairs with different indices across the models' outputs, and pairs with different
indices inside the same head"): the main outputs k != i (cross-model) and head j's own
outputs k != i (within-head; both ends of such a pair receive gradient), 2(N-1) per anchor,
N positives and 2N(N-1) negatives per head as decoded. `negatives: main | head` keeps one set.
d = L1 by default (the paper's choice), cosine optional; the ratio, the cosine forms
(`cosine_form`: InfoNCE or the literal -log ratio), eps and the `sum` over i (as printed; no
1/(2N)) are shared with contrastive-kd in methods/_contrastive.py.

Anchor. The decoded glyphs of eq. 6 put the main output first in every distance: numerator
d(SR_i, SR_i^j), denominator sum_k d(SR_i, SR_k^j), i.e. anchored on the main output with head
j's other-index outputs as negatives. `anchor: main` is that reading (with `negatives: head`
it is the decoded equation literally; `both` adds the main network's own other-index outputs).
The default stays `anchor: head` (head j's output is the anchor, the main output its
positive): the text calls each PH a "student" and the main output its "teacher", and with the
stop-gradient on the main output (`detach_main`, as in DS) only the head side of each distance
is trained, so the head is what the contrast moves. For L1 the two readings differ only in the
negatives (d is symmetric). The ratios do not scale with the pixel range while L_SR / L_ASR
do, so beta = 10 balances them as in EDSR-PyTorch-based code only at `pixel_range: 255`.

The lost eq. (5): we read it from the Table 5 row "L_SR + L_ASR + L_CS = CLSD", so L_SD is
not kept by default (`sd_weight: 0`); `sd_weight: 10` gives DS + L_CS. The mean over heads
(1/T) is inferred, as in L_ASR / L_SD. Needs a batch of at least 2.
"""

from __future__ import annotations

import dataclasses

from torch import Tensor

from ._contrastive import contrastive_ratio, validate_contrastive_fields
from .base import LossTerms, register_method
from .ds import DeepSupervision, DSConfig

NEGATIVES = ("both", "main", "head")
ANCHORS = ("head", "main")


@dataclasses.dataclass(frozen=True)
class CLSDConfig(DSConfig):
    sd_weight: float = 0.0         # alpha * L_SD; 0 = the paper's CLSD row (L_SD not kept)
    cs_weight: float = 10.0        # beta, weight of mean_j L_CS^j
    distance: str = "l1"           # "l1" | "cosine"
    negatives: str = "both"        # "both" (main k != i and head j k != i) | "main" | "head"
    reduction: str = "sum"         # "sum" over the batch as printed | "mean"
    temperature: float = 1.0       # cosine only
    cosine_form: str = "infonce"   # cosine only: "infonce" | "literal" (methods/_contrastive.py)
    anchor: str = "head"           # "head": SR^j anchors, SR positive | "main": as decoded eq. 6

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_contrastive_fields(self, NEGATIVES)
        if self.anchor not in ANCHORS:
            raise ValueError(f"anchor must be one of {ANCHORS}, got {self.anchor!r}")

    def uses_heads(self) -> bool:
        return super().uses_heads() or (self.num_heads > 0 and self.cs_weight != 0)


@register_method("clsd")
class CLSD(DeepSupervision):
    """DS heads; L_SR + L_ASR + beta * mean_j L_CS^j (+ optional alpha * L_SD)."""

    Config = CLSDConfig

    def head_terms(self, sr: Tensor, heads: list[Tensor], hr: Tensor) -> LossTerms:
        cfg: CLSDConfig = self.cfg  # type: ignore[assignment]
        terms = super().head_terms(sr, heads, hr)
        if cfg.cs_weight:
            target = self.target(sr)
            cs = 0.0
            for h in heads:
                banks = {"both": [target, h], "main": [target], "head": [h]}[cfg.negatives]
                anchor, positive = (h, target) if cfg.anchor == "head" else (target, h)
                cs = cs + contrastive_ratio(anchor, positive, banks, cfg.distance, cfg.reduction,
                                            cfg.temperature, cosine_form=cfg.cosine_form)
            terms["cs"] = cfg.cs_weight * cs / len(heads)
        return terms
