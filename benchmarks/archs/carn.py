"""CARN-M (Ahn et al., ECCV 2018), written from the paper; key names match the public release.

Paths: `sub_mean`/`add_mean` (frozen 1x1 mean shifters), `entry`, `b1..b3` (cascading blocks:
one shared grouped residual-E block `b{i}.b1` applied three times, so a hook on it fires three
times; 1x1 fusions `b{i}.c1..c3`), `c1..c3` (global cascade 1x1 fusions), `upsample.up{2,3,4}`
(grouped conv + pixel shuffle), `exit`. The released checkpoint is multi-scale, so by default
every model holds all three upsamplers and uses `up{scale}`. Input in [0, 1], as in the release."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..errors import BenchError
from . import register_arch
from .edsr import DIV2K_MEAN, pixel_shuffle_factors


class Shifter(nn.Module):
    """Frozen 1x1 conv adding `sign * mean` per channel."""

    def __init__(self, sign: int) -> None:
        super().__init__()
        self.shifter = nn.Conv2d(3, 3, 1)
        with torch.no_grad():
            self.shifter.weight.copy_(torch.eye(3).view(3, 3, 1, 1))
            self.shifter.bias.copy_(sign * torch.tensor(DIV2K_MEAN))
        self.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        return self.shifter(x)


class Body(nn.Module):
    """Applies `.body`, a Sequential (the release's key layout: `<name>.body.<i>`)."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.body = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


def fuse(cin: int, cout: int) -> Body:
    """1x1 conv + ReLU fusing a concatenation of cascaded features."""
    return Body(nn.Conv2d(cin, cout, 1), nn.ReLU())


class EResidualBlock(nn.Module):
    """Efficient residual block: grouped conv3x3-ReLU-grouped conv3x3-ReLU-conv1x1, skip, ReLU."""

    def __init__(self, c: int, group: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 1, groups=group), nn.ReLU(),
            nn.Conv2d(c, c, 3, 1, 1, groups=group), nn.ReLU(), nn.Conv2d(c, c, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.body(x) + x)


def _cascade(x: Tensor, blocks: list[nn.Module], fuses: list[nn.Module]) -> Tensor:
    """Cascading connections: after each block, fuse the concat of all earlier outputs."""
    feats, out = [x], x
    for block, fusion in zip(blocks, fuses):
        feats.append(block(out))
        out = fusion(torch.cat(feats, 1))
    return out


class CascadingBlock(nn.Module):
    """Local cascade; CARN-M shares one residual-E block across its three steps."""

    def __init__(self, c: int, group: int) -> None:
        super().__init__()
        self.b1 = EResidualBlock(c, group)
        self.c1, self.c2, self.c3 = fuse(2 * c, c), fuse(3 * c, c), fuse(4 * c, c)

    def forward(self, x: Tensor) -> Tensor:
        return _cascade(x, [self.b1] * 3, [self.c1, self.c2, self.c3])


def upsample_block(c: int, scale: int, group: int) -> Body:
    """Per factor f: grouped conv to f*f*C channels, ReLU, PixelShuffle(f)."""
    layers: list[nn.Module] = []
    for f in pixel_shuffle_factors(scale, "carn-m"):
        layers += [nn.Conv2d(c, f * f * c, 3, 1, 1, groups=group), nn.ReLU(), nn.PixelShuffle(f)]
    return Body(*layers)


class CARNM(nn.Module):
    """Mean shift, entry conv, global cascade of 3 blocks, upsampler for `scale`, exit conv."""

    def __init__(self, scale: int, num_feat: int, group: int, multi_scale: bool) -> None:
        super().__init__()
        if scale not in (2, 3, 4):
            raise BenchError(f"arch 'carn-m': unsupported scale {scale}; use 2, 3 or 4")
        self.scale, c = scale, num_feat
        self.sub_mean, self.add_mean = Shifter(-1), Shifter(1)
        self.entry = nn.Conv2d(3, c, 3, 1, 1)
        self.b1, self.b2, self.b3 = (CascadingBlock(c, group) for _ in range(3))
        self.c1, self.c2, self.c3 = fuse(2 * c, c), fuse(3 * c, c), fuse(4 * c, c)
        scales = (2, 3, 4) if multi_scale else (scale,)
        self.upsample = nn.ModuleDict({f"up{s}": upsample_block(c, s, group) for s in scales})
        self.exit = nn.Conv2d(c, 3, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.entry(self.sub_mean(x))
        x = _cascade(x, [self.b1, self.b2, self.b3], [self.c1, self.c2, self.c3])
        return self.add_mean(self.exit(self.upsample[f"up{self.scale}"](x)))


@register_arch("carn-m")
def carn_m(
    scale: int, *, num_feat: int = 64, group: int = 4, multi_scale: bool = True
) -> nn.Module:
    """CARN-M; `multi_scale=False` drops the unused upsamplers (for training a single scale)."""
    return CARNM(scale, num_feat, group, multi_scale)
