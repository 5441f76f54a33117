"""IMDN (Hui et al., ACM MM 2019), written from the paper; key names match the public release.

Paths: `fea_conv`, `IMDB1..IMDB6` (each `c1..c4` progressive-distillation convs, `cca`
contrast-aware channel attention, `c5` 1x1 fusion), `c` (1x1 fusion of the six block outputs +
LeakyReLU), `LR_conv`, `upsampler` (conv to 3*s*s channels, PixelShuffle). Input in [0, 1].
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from . import register_arch

_SLOPE = 0.05  # the release's LeakyReLU negative slope


def _conv(cin: int, cout: int, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2)


class ContrastChannelAttention(nn.Module):
    """Channel weights from per-channel contrast (std + mean) through a 1x1 squeeze-excite."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(), nn.Conv2d(hidden, channels, 1), nn.Sigmoid()
        )

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = (x - mean).pow(2).mean(dim=(2, 3), keepdim=True).sqrt()
        return x * self.conv_du(std + mean)


class IMDB(nn.Module):
    """Information multi-distillation block: keep 1/4 of channels at each of four steps."""

    def __init__(self, num_feat: int = 64, distill_ratio: float = 0.25) -> None:
        super().__init__()
        self.kept = int(num_feat * distill_ratio)
        rest = num_feat - self.kept
        self.c1 = _conv(num_feat, num_feat)
        self.c2 = _conv(rest, num_feat)
        self.c3 = _conv(rest, num_feat)
        self.c4 = _conv(rest, self.kept)
        self.act = nn.LeakyReLU(_SLOPE)
        self.cca = ContrastChannelAttention(self.kept * 4)
        self.c5 = _conv(self.kept * 4, num_feat, 1)

    def forward(self, x: Tensor) -> Tensor:
        kept: list[Tensor] = []
        rest = x
        for conv in (self.c1, self.c2, self.c3):
            out = self.act(conv(rest))
            kept.append(out[:, : self.kept])
            rest = out[:, self.kept :]
        kept.append(self.c4(rest))
        return self.c5(self.cca(torch.cat(kept, 1))) + x


class IMDN(nn.Module):
    """fea_conv, six IMDBs, 1x1 fusion + LR conv with a long skip, pixel-shuffle upsampler."""

    def __init__(self, scale: int, num_feat: int, num_blocks: int) -> None:
        super().__init__()
        self.num_blocks = num_blocks
        self.fea_conv = _conv(3, num_feat)
        for i in range(1, num_blocks + 1):
            setattr(self, f"IMDB{i}", IMDB(num_feat))
        self.c = nn.Sequential(_conv(num_feat * num_blocks, num_feat, 1), nn.LeakyReLU(_SLOPE))
        self.LR_conv = _conv(num_feat, num_feat)
        self.upsampler = nn.Sequential(_conv(num_feat, 3 * scale * scale), nn.PixelShuffle(scale))

    def forward(self, x: Tensor) -> Tensor:
        fea = self.fea_conv(x)
        outs, out = [], fea
        for i in range(1, self.num_blocks + 1):
            out = getattr(self, f"IMDB{i}")(out)
            outs.append(out)
        return self.upsampler(self.LR_conv(self.c(torch.cat(outs, 1))) + fea)


@register_arch("imdn")
def imdn(scale: int, *, num_feat: int = 64, num_blocks: int = 6) -> nn.Module:
    """IMDN; the defaults are the paper's (64 channels, 6 IMDBs)."""
    return IMDN(scale, num_feat, num_blocks)
