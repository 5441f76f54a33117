"""RRDBNet, the ESRGAN generator (Wang et al., ECCVW 2018), with BasicSR module names.

Paths: `conv_first`, `body.{i}` (RRDB: `rdb1..rdb3`, each `conv1..conv5`), `conv_body`,
`conv_up1`, `conv_up2` (x4 only), `conv_hr`, `conv_last`; so public BasicSR x4 checkpoints
load. Upsampling is nearest-neighbour + conv: two x2 steps for x4, one step for x2 or x3.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..errors import BenchError
from . import register_arch


class ResidualDenseBlock(nn.Module):
    """Five densely connected convs (LeakyReLU 0.2 after the first four), residual scale 0.2."""

    def __init__(self, num_feat: int, num_grow: int) -> None:
        super().__init__()
        for i in range(1, 5):
            setattr(self, f"conv{i}", nn.Conv2d(num_feat + (i - 1) * num_grow, num_grow, 3, 1, 1))
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow, num_feat, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(0.2)

    def forward(self, x: Tensor) -> Tensor:
        feats = [x]
        for i in range(1, 5):
            feats.append(self.lrelu(getattr(self, f"conv{i}")(torch.cat(feats, 1))))
        return self.conv5(torch.cat(feats, 1)) * 0.2 + x


class RRDB(nn.Module):
    """Three residual dense blocks inside a residual (scale 0.2)."""

    def __init__(self, num_feat: int, num_grow: int) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow)

    def forward(self, x: Tensor) -> Tensor:
        return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x


class RRDBNet(nn.Module):
    """conv_first, RRDB trunk + conv_body with a skip, nearest-upsample convs, HR convs."""

    def __init__(self, scale: int, num_feat: int, num_blocks: int, num_grow: int) -> None:
        super().__init__()
        if scale not in (2, 3, 4):
            raise BenchError(f"arch 'rrdbnet': unsupported scale {scale}; use 2, 3 or 4")
        self.steps = [2, 2] if scale == 4 else [scale]
        self.conv_first = nn.Conv2d(3, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[RRDB(num_feat, num_grow) for _ in range(num_blocks)])
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        if len(self.steps) == 2:
            self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, 3, 3, 1, 1)
        self.lrelu = nn.LeakyReLU(0.2)

    def forward(self, x: Tensor) -> Tensor:
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        for i, f in enumerate(self.steps, start=1):
            up = F.interpolate(feat, scale_factor=f, mode="nearest")
            feat = self.lrelu(getattr(self, f"conv_up{i}")(up))
        return self.conv_last(self.lrelu(self.conv_hr(feat)))


@register_arch("rrdbnet")
def rrdbnet(scale: int, *, num_feat: int = 64, num_blocks: int = 23, num_grow: int = 32) -> nn.Module:
    """ESRGAN generator; defaults give 16.7M parameters at x4."""
    return RRDBNet(scale, num_feat, num_blocks, num_grow)
