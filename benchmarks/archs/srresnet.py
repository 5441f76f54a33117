"""SRResNet, the SRGAN generator (Ledig et al., CVPR 2017), with batch norm as in the paper.

Module paths (for feature hooks): `head` (conv9x9 + PReLU), `body.{i}` (residual blocks, each
`.body` = conv-BN-PReLU-conv-BN), `body_tail` (conv + BN, then the skip from `head`),
`upsampler` (per step: conv, PixelShuffle, PReLU; x2 steps, or one x3 step), `tail` (conv9x9).
16 blocks x 64 filters = 1.55M parameters at x4 (single-slope PReLU, as in PyTorch's default).
"""

from __future__ import annotations

from torch import Tensor, nn

from . import register_arch
from .edsr import pixel_shuffle_factors


def _conv(cin: int, cout: int, k: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, padding=k // 2)


class ResidualBlock(nn.Module):
    """conv-BN-PReLU-conv-BN plus identity."""

    def __init__(self, num_feat: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(num_feat, num_feat), nn.BatchNorm2d(num_feat), nn.PReLU(),
            _conv(num_feat, num_feat), nn.BatchNorm2d(num_feat),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x) + x


class SRResNet(nn.Module):
    """Head, residual trunk with a long skip, pixel-shuffle upsampler, conv9x9 output."""

    def __init__(self, scale: int, num_blocks: int, num_feat: int) -> None:
        super().__init__()
        self.head = nn.Sequential(_conv(3, num_feat, 9), nn.PReLU())
        self.body = nn.Sequential(*[ResidualBlock(num_feat) for _ in range(num_blocks)])
        self.body_tail = nn.Sequential(_conv(num_feat, num_feat), nn.BatchNorm2d(num_feat))
        layers: list[nn.Module] = []
        for f in pixel_shuffle_factors(scale, "srresnet"):
            layers += [_conv(num_feat, f * f * num_feat), nn.PixelShuffle(f), nn.PReLU()]
        self.upsampler = nn.Sequential(*layers)
        self.tail = _conv(num_feat, 3, 9)

    def forward(self, x: Tensor) -> Tensor:
        feat = self.head(x)
        feat = self.body_tail(self.body(feat)) + feat
        return self.tail(self.upsampler(feat))


@register_arch("srresnet")
def srresnet(scale: int, *, num_blocks: int = 16, num_feat: int = 64) -> nn.Module:
    """SRGAN generator; 16/64 is the paper's, 8/32 the KD student, 32/64 the mutual-learning pair."""
    return SRResNet(scale, num_blocks, num_feat)
