"""Prune-then-distill for ESRGAN (Baek et al. 2024, paper 004): a slim RRDBNet student G learns
from a (pruned) ESRGAN teacher through 1x1-conv regressors on RRDB features, adversarially
against the teacher's own discriminator, which it fine-tunes.

    L_G = lambda_recon * L1(SR, HR) + adversarial_weight * L_GAN + lambda_distill * L_distill
          (+ content_weight * L_percep, 0 by default)
    L_distill = sum_t criterion(f_t(C_t), C'_t),  t in `distill_blocks`

C_t / C'_t: the outputs of RRDB `body.t` of the student / teacher (the paper: "each teacher
layer"; default every RRDB of the student, the teacher's at the same index); f_t: a learnable
1x1 conv from the student's channels to the teacher's, probed from the networks, so a
structurally pruned teacher (fewer trunk channels) works too. The D is the `discriminator` input
(the teacher cell's `output: discriminator`): loaded as D's starting weights and trained with G
(the paper: reused and fine-tuned); the teacher G stays frozen.

The paper gives the form of the loss but no weights, GAN type, perceptual term or distance
(papers.md, 004). Defaults: lambda_recon 1e-2 and adversarial_weight 5e-3 with the relativistic
GAN are ESRGAN's (Wang et al. 2018; BasicSR train_ESRGAN_x4.yml), the weights its teacher was
trained with; the D's structure (`discriminator`, `d_num_feat`) must be the teacher's (the
matrix gives `vgg128`, ESRGAN's; the default stays the kit's, which takes any patch >= 16 px);
lambda_distill 1 and an L1 distance are our choices (the feature term on the pixel terms'
scale); no perceptual term (the paper's loss has none; `content_weight: 1` gives ESRGAN's, on
conv5_4 with L1). Adam, lr, schedule: the profile.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Iterator, Sequence

import torch
from torch import Tensor, nn

from benchmarks.errors import BenchError

from ._gan import g_steps, params
from .hooks import FeatureTap
from ._perceptual import CRITERIA
from .base import LossTerms, register_method
from .srgan import SRGAN, SRGANConfig


@dataclasses.dataclass(frozen=True)
class ESRGANPruneKDConfig(SRGANConfig):
    lambda_recon: float = 1e-2        # ESRGAN/BasicSR L1 weight (eta); paper 004 gives none
    lambda_distill: float = 1.0       # our choice; paper 004 gives none
    distill_blocks: tuple = ()        # RRDB indices; () = every RRDB of the student (paper: each layer)
    distill_criterion: str = "l1"     # our choice; paper 004: not stated
    gan_type: str = "ragan"           # ESRGAN
    adversarial_weight: float = 5e-3  # ESRGAN lambda (BasicSR)
    content_weight: float = 0.0       # paper 004's loss has no perceptual term; ESRGAN: 1
    vgg_layer: str = "conv5_4"        # ESRGAN (before ReLU), used when content_weight > 0
    vgg_criterion: str = "l1"         # BasicSR
    vgg_feature_scale: float = 1.0    # BasicSR

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.distill_criterion not in CRITERIA:
            raise ValueError(f"distill_criterion: {self.distill_criterion!r}; valid choices: {', '.join(CRITERIA)}")
        for name in ("lambda_recon", "lambda_distill"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if any(isinstance(b, bool) or not isinstance(b, int) or b < 0 for b in self.distill_blocks):
            raise ValueError(f"distill_blocks must be RRDB indices (integers >= 0), got {list(self.distill_blocks)!r}")


@contextlib.contextmanager
def tapped(model: nn.Module, paths: Sequence[str]) -> Iterator[FeatureTap]:
    """Hooks for one `with` block only: the shared teacher and the saved student keep none."""
    tap = FeatureTap(model, paths)
    try:
        yield tap
    finally:
        tap.remove()


@torch.no_grad()
def channels(model: nn.Module, paths: Sequence[str]) -> list[int]:
    """Channel count of the features at `paths`, from one tiny forward."""
    p = next(model.parameters())
    with tapped(model, paths) as tap:
        model(torch.zeros(1, 3, 8, 8, device=p.device, dtype=p.dtype))
        return [f.shape[1] for f in tap.pop().values()]


def _blocks(net: nn.Module, who: str) -> int:
    body = getattr(net, "body", None)
    if not isinstance(body, nn.Sequential) or not len(body):
        raise BenchError(f"esrgan-prune-kd: the {who} has no RRDB trunk `body` (an RRDBNet is needed)")
    return len(body)


@register_method("esrgan-prune-kd")
class ESRGANPruneKD(SRGAN):
    """RRDBNet student: L1 + GAN against the teacher's fine-tuned D + regressed RRDB-feature KD."""

    Config = ESRGANPruneKDConfig
    needs_teacher = True
    accepts = frozenset({"discriminator"})

    def __init__(self, student: nn.Module, cfg: ESRGANPruneKDConfig, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        n_s, n_t = _blocks(student, "student"), _blocks(self.teacher, "teacher")
        blocks = list(cfg.distill_blocks) or list(range(n_s))
        bad = [b for b in blocks if b >= min(n_s, n_t)]
        if bad:
            raise BenchError(f"esrgan-prune-kd: distill_blocks {bad} out of range; the student has {n_s} "
                             f"RRDBs, the teacher {n_t}")
        self.paths = [f"body.{b}" for b in blocks]
        c_s, c_t = channels(student, self.paths), channels(self.teacher, self.paths)
        self.regressors = nn.ModuleList(nn.Conv2d(s, t, 1) for s, t in zip(c_s, c_t))

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"G": params(self.student, self.regressors), "D": params(self.adversary)}

    def distill_loss(self, feats_s: dict[str, Tensor], feats_t: dict[str, Tensor]) -> Tensor:
        crit = CRITERIA[self.cfg.distill_criterion]
        return sum(crit(f(feats_s[p]), feats_t[p]) for f, p in zip(self.regressors, self.paths))

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple]:
        with tapped(self.student, self.paths) as tap_s:
            sr = self.student(lr)
            feats_s = tap_s.pop()
        if g_steps(step, self.cfg.net_d_iters, self.cfg.net_d_init_iters):
            terms: LossTerms = {"recon": self.cfg.lambda_recon * CRITERIA["l1"](sr, hr),
                                "adversarial": self.cfg.adversarial_weight * self.adversary.g_loss(sr, hr)}
            if self.cfg.lambda_distill:  # 0: the same networks without KD (no teacher forward)
                with torch.no_grad(), tapped(self.teacher, self.paths) as tap_t:
                    self.teacher(lr)
                    feats_t = tap_t.pop()
                terms["distill"] = self.cfg.lambda_distill * self.distill_loss(feats_s, feats_t)
            if self.cfg.content_weight:
                terms["content"] = self.cfg.content_weight * self.content(sr, hr)
            yield "G", terms
            self.after_g_step()
        terms, diagnostics, _, _ = self.adversary.d_step(sr, hr)
        yield "D", terms, diagnostics
