"""The contrastive ratio shared by contrastive-kd (paper 002, eq. 1) and clsd (paper 000, eq. 6).

    L = sum_i  d(a_i, p_i) / sum_{bank} sum_{k != i} d(a_i, bank_k)

a = anchors (student SR, or a projection head's SR), p = positives with the same batch index
(teacher SR, or the main output), banks = the tensors whose *other* indices are negatives.

Distance `l1`: d(x, y) = mean |x - y| over one sample's pixels. The ratio is scale-free, so
per-sample mean vs. sum does not matter. We follow the printed equation (positive distance
over negative distances, minimised): 002's prose swaps numerator and denominator for L1, but
only the printed form decreases when positives get closer and negatives farther. An `eps` in
the denominator keeps the loss finite when negatives coincide with the anchor; it is >= 0.

Distance `cosine`: paper 002 says that for cosine similarity, where larger means more similar,
-log is applied to eq. (1). Two forms, `cosine_form`:
  "infonce" (default): the literal -log(s_pos / sum s_neg) is undefined when similarities are
    <= 0 (unclamped outputs) and is unbounded below, so the default is the reading that is
    always finite and >= 0, the InfoNCE form of the same ratio (positive over positive +
    negatives):
        L_i = -log( exp(s_pos / tau) / (exp(s_pos / tau) + sum_{k != i} exp(s_neg_k / tau)) )
    with s = cosine similarity of the flattened images and tau = `temperature` (1.0: none, as
    printed).
  "literal": the printed ratio under -log, L_i = -log( s_pos / sum_{k != i} s_neg_k ), with
    s_pos and the sum clamped at eps (where they are <= 0 the term is constant: no gradient).
    It can be negative. Images in [0, 1] or [0, 255] have non-negative pixels, so their
    cosines are >= 0 and the clamp only bites on degenerate (all-zero) outputs. No temperature.

Reduction: `sum` over the anchors i, as both papers print (the per-anchor denominator already
sums N-1 (or 2(N-1)) negatives, so the L1 sum is about N/(N-1) x the mean pos/neg ratio and
nearly batch-size independent); `mean` divides by N.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from benchmarks.errors import BenchError

DISTANCES = ("l1", "cosine")
REDUCTIONS = ("sum", "mean")
COSINE_FORMS = ("infonce", "literal")


def validate_contrastive_fields(cfg, negatives: Sequence[str]) -> None:
    """Shared config checks of contrastive-kd and clsd (distance, negatives, reduction,
    temperature, cosine_form)."""
    for field, choices in (("distance", DISTANCES), ("negatives", negatives), ("reduction", REDUCTIONS),
                           ("cosine_form", COSINE_FORMS)):
        value = getattr(cfg, field)
        if value not in choices:
            raise ValueError(f"{field} must be one of {tuple(choices)}, got {value!r}")
    if cfg.temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {cfg.temperature}")
    if cfg.cosine_form == "literal" and cfg.distance != "cosine":
        raise ValueError("cosine_form 'literal' applies to distance 'cosine' only")
    if cfg.cosine_form == "literal" and cfg.temperature != 1.0:
        raise ValueError("temperature applies to cosine_form 'infonce' only (the literal form has none)")


def _pairwise(a: Tensor, b: Tensor, distance: str) -> Tensor:
    """(N, M) matrix of d(a_i, b_k) (l1: mean abs difference) or cosine similarity."""
    a, b = a.flatten(1), b.flatten(1)
    if distance == "l1":
        return (a[:, None, :] - b[None, :, :]).abs().mean(-1)
    a = torch.nn.functional.normalize(a, dim=1, eps=1e-8)
    b = torch.nn.functional.normalize(b, dim=1, eps=1e-8)
    return a @ b.t()


def contrastive_ratio(anchor: Tensor, positive: Tensor, negative_banks: Sequence[Tensor],
                      distance: str = "l1", reduction: str = "sum", temperature: float = 1.0,
                      eps: float = 1e-8, cosine_form: str = "infonce") -> Tensor:
    """Contrastive loss of `anchor` (N, ...) against same-index `positive` and other-index
    entries of each bank in `negative_banks`; see the module docstring for the exact forms."""
    if distance not in DISTANCES:
        raise BenchError(f"contrastive distance must be one of {DISTANCES}, got {distance!r}")
    if cosine_form not in COSINE_FORMS:
        raise BenchError(f"contrastive cosine_form must be one of {COSINE_FORMS}, got {cosine_form!r}")
    if reduction not in REDUCTIONS:
        raise BenchError(f"contrastive reduction must be one of {REDUCTIONS}, got {reduction!r}")
    n = anchor.shape[0]
    if n < 2:
        raise BenchError("a contrastive loss needs a batch of at least 2 (negatives are the "
                         "other batch indices)")
    off_diag = ~torch.eye(n, dtype=torch.bool, device=anchor.device)
    idx = torch.arange(n, device=anchor.device)
    pos = _pairwise(anchor, positive, distance)[idx, idx]  # (N,)
    negs = torch.cat([_pairwise(anchor, bank, distance)[off_diag].view(n, n - 1)
                      for bank in negative_banks], dim=1)  # (N, banks * (N-1))
    if distance == "l1":
        per_anchor = pos / (negs.sum(dim=1) + eps)
    elif cosine_form == "literal":
        per_anchor = torch.log(negs.sum(dim=1).clamp_min(eps)) - torch.log(pos.clamp_min(eps))
    else:
        logits = torch.cat([pos[:, None], negs], dim=1) / temperature
        per_anchor = torch.logsumexp(logits, dim=1) - logits[:, 0]
    return per_anchor.sum() if reduction == "sum" else per_anchor.mean()
