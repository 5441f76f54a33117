"""Mutual distillation between the discriminators of two SRGANs (Lee & Park 2022, paper 003).

Two SRGANs, A (the student network) and B (its peer), train side by side on the same batches.
Each generator minimises L_G = L_con + 1e-3 L_adv against its own D (paper eq. 1, `srgan`'s
loss). Each discriminator minimises L_D = L_dis + L_md (eq. 2), L_md = KL_SR + KL_HR (eq. 3):

    KL_SR = KL(p(D_peer(SR_peer)) || p(D(SR))),   KL_HR = KL(p(D_peer(HR)) || p(D(HR))),

with p(l) = [sigmoid(l / T), 1 - sigmoid(l / T)] the Bernoulli distribution of a logit and the
peer's logits detached (DML: the target is the peer's distribution, the first argument of the
KL; KD-Zoo detaches it). `mutual`: `none` = Independent (no L_md), `kl` = ML (T = 1), `soft`
= ML* (KL of the softened distributions at `temperature`, times T^2 as Hinton KD). The paper
gives neither the temperature nor the T^2 factor: T = 4 is our choice (a common KD value) and
T^2 follows Hinton. Both L_md terms use the logits of the same forward: D_B's target is D_A's
logits from before D_A's step (KD-Zoo's form; the official DML code re-runs the forward).

Peer B: the `peer` input when the row gives one (e.g. a PSNR-pretrained generator of another
seed), else a fresh, independently initialised copy of the student's architecture. Both
generators are evaluated (report rows "Label" and "Label (peer_b)"); the paper does not say
which it reports. Groups step in the order G_a, G_b, D_a, D_b; D_a and D_b also save.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

from torch import Tensor, nn

from benchmarks.archs import build_arch

from ._gan import EMA, Adversary, bernoulli_kl, g_steps, params, same_structure
from .base import register_method
from .srgan import SRGAN, SRGANConfig

MUTUAL = ("none", "kl", "soft")


@dataclasses.dataclass(frozen=True)
class MutualConfig(SRGANConfig):
    mutual: str = "kl"          # none: Independent, kl: ML, soft: ML*
    temperature: float = 4.0    # for `soft` only; our choice (the paper gives no value)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mutual not in MUTUAL:
            raise ValueError(f"mutual: {self.mutual!r}; valid choices: {', '.join(MUTUAL)}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}")


@register_method("srgan-ml")
class MutualSRGAN(SRGAN):
    """Two SRGANs whose discriminators learn mutually (see the module docstring)."""

    Config = MutualConfig
    accepts = frozenset({"peer"})

    def __init__(self, student: nn.Module, cfg: MutualConfig, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        peer = self.inputs.get("peer")
        if peer is None:
            info = student.arch_info
            peer = build_arch(info.name, info.scale, **info.options)
        same_structure(peer, student, "the peer input")
        self.peer_b = peer
        self.adversary_b = Adversary(cfg, self.ctx)
        self.ema_b = EMA(self.peer_b, cfg.ema_decay) if cfg.ema_decay else None

    @classmethod
    def evaluated_outputs(cls, cfg: MutualConfig) -> tuple[str, ...]:
        return ("student", "peer_b")

    def sr_models(self) -> dict[str, nn.Module]:
        return {"student": self.ema.net if self.ema is not None else self.student,
                "peer_b": self.ema_b.net if self.ema_b is not None else self.peer_b}

    def saved_models(self) -> dict[str, nn.Module]:
        return {**self.sr_models(), "discriminator": self.adversary.net, "discriminator_b": self.adversary_b.net}

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"G_a": params(self.student), "G_b": params(self.peer_b),
                "D_a": params(self.adversary), "D_b": params(self.adversary_b)}

    def mutual_loss(self, real: Tensor, fake: Tensor, peer_real: Tensor, peer_fake: Tensor) -> Tensor:
        """L_md of one discriminator: KL on SR + KL on HR, the peer's logits detached."""
        t = self.cfg.temperature if self.cfg.mutual == "soft" else 1.0
        return bernoulli_kl(peer_fake.detach(), fake, t) + bernoulli_kl(peer_real.detach(), real, t)

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple]:
        pairs = ((self.student, self.adversary, self.ema), (self.peer_b, self.adversary_b, self.ema_b))
        srs = [g(lr) for g, _, _ in pairs]
        if g_steps(step, self.cfg.net_d_iters, self.cfg.net_d_init_iters):
            for group, (g, adversary, ema), sr in zip(("G_a", "G_b"), pairs, srs):
                terms = self.generator_terms(lr, hr, sr)
                terms["adversarial"] = self.cfg.adversarial_weight * adversary.g_loss(sr, hr)
                yield group, terms
                if ema is not None:
                    ema.update(g)
        a, b = (adversary.d_step(sr, hr) for (_, adversary, _), sr in zip(pairs, srs))
        for group, (terms, diag, real, fake), (_, _, peer_real, peer_fake) in (("D_a", a, b), ("D_b", b, a)):
            if self.cfg.mutual != "none":
                terms = {**terms, "mutual": self.mutual_loss(real, fake, peer_real, peer_fake)}
            yield group, terms, diag
