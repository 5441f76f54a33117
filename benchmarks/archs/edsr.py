"""EDSR (Lim et al., CVPRW 2017) with the official EDSR-PyTorch module names.

Paths: `sub_mean`, `head.0`, `body.{0..B-1}.body.{0,2}` (ResBlock convs), `body.{B}` (trunk
conv), `tail.0` (Upsampler: `tail.0.{0,2}` convs + pixel shuffles), `tail.1`, `add_mean`. The
names match official checkpoints (e.g. `edsr_baseline_x2`) so they load and methods can hook
features by path. Mean shifts are frozen 1x1 convs, as in the official code (they count 24
parameters, which the published 40.7M / 1.5M include).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn

from ..errors import BenchError
from . import register_arch

DIV2K_MEAN = (0.4488, 0.4371, 0.4040)


def pixel_shuffle_factors(scale: int, arch: str) -> list[int]:
    """Pixel-shuffle steps for `scale`: [3] for x3, [2]*k for x2**k; else a BenchError."""
    if scale == 3:
        return [3]
    if scale >= 2 and scale & (scale - 1) == 0:
        return [2] * int(math.log2(scale))
    raise BenchError(f"arch {arch!r}: unsupported scale {scale}; use 2, 3, 4 or 8")


class MeanShift(nn.Conv2d):
    """Frozen 1x1 conv adding `sign * rgb_range * mean` per channel (official EDSR MeanShift)."""

    def __init__(self, rgb_range: float, rgb_mean: tuple[float, ...], sign: int) -> None:
        super().__init__(3, 3, kernel_size=1)
        with torch.no_grad():
            self.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
            self.bias.copy_(sign * rgb_range * torch.tensor(rgb_mean, dtype=torch.float32))
        self.requires_grad_(False)


def _conv(cin: int, cout: int, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2)


class ResBlock(nn.Module):
    """conv-ReLU-conv, scaled by `res_scale`, plus identity (no batch norm)."""

    def __init__(self, num_feat: int, res_scale: float) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(num_feat, num_feat), nn.ReLU(), _conv(num_feat, num_feat))
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x).mul(self.res_scale) + x


class Upsampler(nn.Sequential):
    """(conv to f*f*C channels, PixelShuffle(f)) for each factor f of the scale."""

    def __init__(self, scale: int, num_feat: int) -> None:
        layers: list[nn.Module] = []
        for f in pixel_shuffle_factors(scale, "edsr"):
            layers += [_conv(num_feat, f * f * num_feat), nn.PixelShuffle(f)]
        super().__init__(*layers)


class MeanShiftedSR(nn.Module):
    """The EDSR-PyTorch frame: sub_mean, head conv, `blocks` + trunk conv with a global skip,
    pixel-shuffle tail, add_mean (the official checkpoints' key names). EDSR and RCAN differ
    only in their blocks.

    `rgb_range` is the range the weights were trained for (official checkpoints: 255); inputs
    in [0, 1] are scaled up and outputs back down, so the [0, 1] contract always holds.
    """

    def __init__(self, scale: int, num_feat: int, blocks: Callable[[], list[nn.Module]],
                 rgb_mean: tuple[float, ...], rgb_range: float) -> None:
        super().__init__()
        self.rgb_range = rgb_range
        self.sub_mean = MeanShift(rgb_range, rgb_mean, -1)
        self.head = nn.Sequential(_conv(3, num_feat))
        self.body = nn.Sequential(*blocks(), _conv(num_feat, num_feat))  # built after the head: same init order
        self.tail = nn.Sequential(Upsampler(scale, num_feat), _conv(num_feat, 3))
        self.add_mean = MeanShift(rgb_range, rgb_mean, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.head(self.sub_mean(x * self.rgb_range))
        x = self.body(x) + x
        return self.add_mean(self.tail(x)) / self.rgb_range


class EDSR(MeanShiftedSR):
    """Head conv, B ResBlocks + trunk conv with a global skip, pixel-shuffle tail."""

    def __init__(self, scale: int, num_blocks: int, num_feat: int, res_scale: float,
                 rgb_mean: tuple[float, ...], rgb_range: float) -> None:
        super().__init__(scale, num_feat, lambda: [ResBlock(num_feat, res_scale) for _ in range(num_blocks)],
                         rgb_mean, rgb_range)


@register_arch("edsr")
def edsr(scale: int, *, num_blocks: int = 16, num_feat: int = 64, res_scale: float = 1.0,
         rgb_mean: tuple[float, ...] = DIV2K_MEAN, rgb_range: float = 1.0) -> nn.Module:
    """EDSR; defaults are the EDSR-baseline (16x64); the paper's EDSR is 32x256, res_scale 0.1."""
    return EDSR(scale, num_blocks, num_feat, res_scale, tuple(rgb_mean), rgb_range)
