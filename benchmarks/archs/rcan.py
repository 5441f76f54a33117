"""RCAN (Zhang et al., ECCV 2018) with the official module names (yulunzhang/RCAN, EDSR-PyTorch based).

Residual-in-residual: `num_groups` residual groups (RG), each `num_blocks` residual channel
attention blocks (RCAB: conv-ReLU-conv-channel attention, plus identity) and a conv, with a
skip per group; a body conv and the global skip; EDSR's pixel-shuffle tail. Paths follow the
official state dicts, so their checkpoints load strictly and feature taps name the same places:
`sub_mean`, `head.0`, `body.{g}.body.{b}.body.{0,2}` (RCAB convs),
`body.{g}.body.{b}.body.3.conv_du.{0,2}` (channel attention 1x1 convs, reduction 16),
`body.{g}.body.{num_blocks}` (group conv), `body.{num_groups}` (body conv), `tail.0.{0,2}`,
`tail.1`, `add_mean`. The RCAN paper's network is 10 groups x 20 blocks x 64 channels (15.59M at
x4, as the FAKD README counts it); FAKD's student is 10 x 6 (5.17M).

Like EDSR, `rgb_range` is the range the weights work in (official checkpoints: 255; inputs in
[0, 1] are scaled up and outputs back down, so the [0, 1] contract always holds).
"""

from __future__ import annotations

from torch import Tensor, nn

from . import register_arch
from .edsr import DIV2K_MEAN, MeanShiftedSR, _conv


class CALayer(nn.Module):
    """Channel attention: global average pool -> 1x1 down (C/r) -> ReLU -> 1x1 up -> sigmoid."""

    def __init__(self, num_feat: int, reduction: int) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_du = nn.Sequential(nn.Conv2d(num_feat, num_feat // reduction, 1), nn.ReLU(),
                                     nn.Conv2d(num_feat // reduction, num_feat, 1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.conv_du(self.avg_pool(x))


class RCAB(nn.Module):
    """conv-ReLU-conv-CA plus identity (no batch norm, no residual scaling, as in the release)."""

    def __init__(self, num_feat: int, reduction: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(num_feat, num_feat), nn.ReLU(), _conv(num_feat, num_feat),
                                  CALayer(num_feat, reduction))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + x


class ResidualGroup(nn.Module):
    """`num_blocks` RCABs and a conv, plus the group's skip."""

    def __init__(self, num_feat: int, reduction: int, num_blocks: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*[RCAB(num_feat, reduction) for _ in range(num_blocks)],
                                  _conv(num_feat, num_feat))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + x


class RCAN(MeanShiftedSR):
    """Head conv, `num_groups` residual groups + body conv with a global skip, pixel-shuffle tail."""

    def __init__(self, scale: int, num_groups: int, num_blocks: int, num_feat: int, reduction: int,
                 rgb_mean: tuple[float, ...], rgb_range: float) -> None:
        super().__init__(scale, num_feat,
                         lambda: [ResidualGroup(num_feat, reduction, num_blocks) for _ in range(num_groups)],
                         rgb_mean, rgb_range)


@register_arch("rcan")
def rcan(scale: int, *, num_groups: int = 10, num_blocks: int = 20, num_feat: int = 64, reduction: int = 16,
         rgb_mean: tuple[float, ...] = DIV2K_MEAN, rgb_range: float = 1.0) -> nn.Module:
    """RCAN; defaults are the paper's 10 groups x 20 RCABs x 64 channels, reduction 16."""
    return RCAN(scale, num_groups, num_blocks, num_feat, reduction, tuple(rgb_mean), rgb_range)
