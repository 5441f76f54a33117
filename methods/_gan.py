"""The GAN kit: adversarial losses, a discriminator with its step, G's EMA, the G/D schedule.

Losses take raw D logits. `vanilla` (SRGAN; BasicSR `gan_type: vanilla`): D minimises
BCE(D(HR), 1) + BCE(D(SR), 0); G the non-saturating BCE(D(SR), 1) (= -log D(G(x)), SRGAN eq. 6).
`ragan` (ESRGAN, relativistic average, as BasicSR's esrgan_model.py): with
C_r = D(HR), C_f = D(SR), D minimises 0.5 BCE(C_r - mean C_f, 1) + 0.5 BCE(C_f - mean C_r, 0);
G minimises 0.5 BCE(C_r - mean C_f, 0) + 0.5 BCE(C_f - mean C_r, 1) with C_r detached (half the
paper's sum, as BasicSR). D steps on HR and on the *detached* SR; during G's forward D's
parameters are frozen, so G's step never reaches them (BasicSR does the same).

Schedule (BasicSR `net_d_iters`, `net_d_init_iters`, 1-based iteration i = step + 1): G steps
when i % net_d_iters == 0 and i > net_d_init_iters; D steps every iteration.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from benchmarks.archs.discriminators import DISCRIMINATORS, build_discriminator, check_input_size
from benchmarks.archs.zoo import load_state_dict_strict
from benchmarks.errors import BenchError

from .base import MethodConfig, TrainContext


def bce(logits: Tensor, target: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def vanilla_g(real: Tensor | None, fake: Tensor) -> Tensor:
    return bce(fake, 1.0)


def vanilla_d(real: Tensor, fake: Tensor) -> dict[str, Tensor]:
    return {"d_real": bce(real, 1.0), "d_fake": bce(fake, 0.0)}


def ragan_g(real: Tensor | None, fake: Tensor) -> Tensor:
    real = real.detach()
    return 0.5 * (bce(real - fake.mean(), 0.0) + bce(fake - real.mean(), 1.0))


def ragan_d(real: Tensor, fake: Tensor) -> dict[str, Tensor]:
    return {"d_real": 0.5 * bce(real - fake.mean(), 1.0), "d_fake": 0.5 * bce(fake - real.mean(), 0.0)}


#: gan_type -> (G loss(real logits or None, fake logits), D terms(real, fake), G needs D(HR))
GAN_TYPES = {"vanilla": (vanilla_g, vanilla_d, False), "ragan": (ragan_g, ragan_d, True)}


def bernoulli_kl(target_logits: Tensor, logits: Tensor, temperature: float = 1.0) -> Tensor:
    """Batch mean of KL(p_t || p) between the Bernoulli distributions [sigmoid(l/T), 1 - sigmoid(l/T)]
    of two discriminators' logits, times T^2 (Hinton; 1 at T = 1); the target is not detached here."""
    t, s = target_logits / temperature, logits / temperature
    p_t = torch.sigmoid(t)
    kl = p_t * (F.logsigmoid(t) - F.logsigmoid(s)) + (1 - p_t) * (F.logsigmoid(-t) - F.logsigmoid(-s))
    return kl.mean() * temperature ** 2


def g_steps(step: int, net_d_iters: int, net_d_init_iters: int) -> bool:
    """Whether G steps at 0-based `step` (BasicSR's rule at iteration step + 1)."""
    i = step + 1
    return i % net_d_iters == 0 and i > net_d_init_iters


@contextlib.contextmanager
def frozen_params(module: nn.Module) -> Iterator[None]:
    """`module`'s parameters take no gradient from what is computed inside the block."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


@dataclasses.dataclass(frozen=True)
class AdversarialConfig(MethodConfig):
    """The adversarial part's fields; defaults from the SRGAN paper unless said otherwise."""

    gan_type: str = "vanilla"         # SRGAN; "ragan": ESRGAN
    adversarial_weight: float = 1e-3  # SRGAN paper (and paper 003 eq. 1); BasicSR 5e-3
    discriminator: str = "srgan"      # SRGAN paper's D; "vgg128": BasicSR/ESRGAN
    d_num_feat: int = 64              # SRGAN paper
    net_d_iters: int = 1              # BasicSR default: G every iteration
    net_d_init_iters: int = 0         # BasicSR default: no D-only warm-up

    def __post_init__(self) -> None:
        parent = getattr(super(), "__post_init__", None)
        if parent:  # cooperative: a config may combine these fields with others
            parent()
        if self.gan_type not in GAN_TYPES:
            raise ValueError(f"gan_type: {self.gan_type!r}; valid choices: {', '.join(GAN_TYPES)}")
        if self.discriminator not in DISCRIMINATORS.names():
            raise ValueError(f"discriminator: {self.discriminator!r}; valid choices: "
                             f"{', '.join(DISCRIMINATORS.names())}")
        for name in ("d_num_feat", "net_d_iters"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        for name in ("net_d_init_iters", "adversarial_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")


class Adversary(nn.Module):
    """A discriminator `net` for one generator, with its G loss and its D terms.

    `init` (a `discriminator` input model) gives D's starting weights; its structure must be
    the one the config builds. The HR patch is checked against D's input size before training.
    """

    def __init__(self, cfg: AdversarialConfig, ctx: TrainContext, init: nn.Module | None = None):
        super().__init__()
        check_input_size(cfg.discriminator, ctx.hr_patch)
        self.net = build_discriminator(cfg.discriminator, num_feat=cfg.d_num_feat)
        if init is not None:
            load_state_dict_strict(self.net, init.state_dict(), "the discriminator input")
        self.g_loss_fn, self.d_terms_fn, self.g_needs_real = GAN_TYPES[cfg.gan_type]

    def g_loss(self, sr: Tensor, hr: Tensor) -> Tensor:
        """G's adversarial loss on `sr` (gradients reach G only)."""
        with frozen_params(self.net):
            real = self.net(hr) if self.g_needs_real else None
            return self.g_loss_fn(real, self.net(sr))

    def d_step(self, sr: Tensor, hr: Tensor) -> tuple[dict[str, Tensor], dict[str, Tensor], Tensor, Tensor]:
        """(D's terms, diagnostics: mean logits on HR and SR, the real and fake logits)."""
        real, fake = self.net(hr), self.net(sr.detach())
        diag = {"d_real_logit": real.detach().mean(), "d_fake_logit": fake.detach().mean()}
        return self.d_terms_fn(real, fake), diag, real, fake


class EMA(nn.Module):
    """An exponential moving average of a network's parameters (BasicSR `ema_decay`, 0.999):
    after each G step, p_ema <- decay p_ema + (1 - decay) p; buffers (BN statistics) are copied."""

    def __init__(self, net: nn.Module, decay: float):
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise BenchError(f"ema_decay must be in (0, 1) or 0 (off), got {decay!r}")
        self.decay = decay
        self.net = copy.deepcopy(net).requires_grad_(False)

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        for mine, theirs in zip(self.net.parameters(), net.parameters()):
            mine.mul_(self.decay).add_(theirs.detach(), alpha=1 - self.decay)
        for mine, theirs in zip(self.net.buffers(), net.buffers()):
            mine.copy_(theirs)


def same_structure(a: nn.Module, b: nn.Module, what: str) -> None:
    """BenchError unless `a` and `b` have the same state-dict keys and shapes."""
    sa, sb = a.state_dict(), b.state_dict()
    diff = sorted(k for k in set(sa) | set(sb) if k not in sa or k not in sb or sa[k].shape != sb[k].shape)
    if diff:
        raise BenchError(f"{what} does not have the student's structure (first difference: {diff[0]})")


def params(*modules: nn.Module) -> list[nn.Parameter]:
    """The trainable parameters of `modules` (an EDSR's fixed mean shift is left out)."""
    return [p for m in modules for p in m.parameters() if p.requires_grad]

