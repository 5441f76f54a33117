"""GAN discriminators by name: `build_discriminator("srgan")`; each returns raw logits (N, 1).

`srgan`: the SRGAN paper's D (8 convs 64..512, BN except the first, dense 1024, dense 1);
adaptive average pooling to `pool_size` makes the dense input fit any patch size (identity for
the paper's 96-pixel input). `vgg128`: ESRGAN's VGG-style D (BasicSR VGGStyleDiscriminator names).

A built discriminator carries `arch_info` with the name `discriminator:<name>` (scale 1: a D has
none), so `benchmarks.model_files.save_model` writes it and `load_model` rebuilds it, and a later
cell can take it as its `discriminator` input (`output: discriminator`). `check_input_size`
refuses, before training, an HR patch a discriminator cannot take.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from torch import Tensor, nn

from ..errors import BenchError
from ..registry import Registry
from . import ArchInfo

DISCRIMINATORS: Registry[Callable[..., nn.Module]] = Registry("discriminator")
#: `arch_info.name` prefix that tells a model file holds a discriminator.
PREFIX = "discriminator:"
#: Total stride of the SRGAN D's feature stack (four stride-2 convs).
SRGAN_STRIDE = 16


def build_discriminator(name: str, **kwargs: Any) -> nn.Module:
    """Instantiate discriminator `name`; unknown options are a BenchError naming the option."""
    factory = DISCRIMINATORS.get(name)
    valid = list(inspect.signature(factory).parameters)
    for key in kwargs:
        if key not in valid:
            raise BenchError(f"discriminator {name!r}: unknown option {key!r}; valid options: {', '.join(valid)}")
    model = factory(**kwargs)
    model.arch_info = ArchInfo(name=PREFIX + name, scale=1, options=dict(kwargs))
    return model


def check_input_size(name: str, hr_patch: int, **kwargs: Any) -> None:
    """BenchError (one line) when discriminator `name` cannot take `hr_patch`-pixel HR patches.

    `vgg128` takes exactly `input_size` pixels; `srgan` needs at least one feature pixel after
    its stride of 16 (its adaptive pooling fits the dense layer to any larger patch). A patch
    of 0 means "not known" and passes.
    """
    DISCRIMINATORS.get(name)
    if hr_patch <= 0:  # not known (unit tests build methods without a profile)
        return
    if name == "vgg128":
        size = int(kwargs.get("input_size", 128))
        if hr_patch != size:
            raise BenchError(f"discriminator 'vgg128' takes {size}x{size} HR patches, the profile gives "
                             f"{hr_patch}x{hr_patch} (patch_size x scale): set patch_size to {size} / scale "
                             f"or the discriminator's input_size to {hr_patch}")
    elif hr_patch < SRGAN_STRIDE:
        raise BenchError(f"discriminator {name!r} needs HR patches of at least {SRGAN_STRIDE} pixels "
                         f"(its stride), the profile gives {hr_patch} (patch_size x scale)")


class SRGANDiscriminator(nn.Module):
    """Paths: `features` (conv/BN/LeakyReLU stack), `pool`, `classifier` (dense 1024, dense 1)."""

    def __init__(self, num_in_ch: int, num_feat: int, pool_size: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(num_in_ch, num_feat, 3, 1, 1), nn.LeakyReLU(0.2)]
        cin = num_feat
        for i in range(1, 8):  # 64s2, 128, 128s2, 256, 256s2, 512, 512s2
            cout, stride = num_feat * 2 ** (i // 2), 2 if i % 2 else 1
            layers += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(cin * pool_size * pool_size, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.pool(self.features(x)))


class VGGStyleDiscriminator(nn.Module):
    """Pairs conv{i}_0 (3x3 s1) / conv{i}_1 (4x4 s2) with BN, down to 4x4; linear1 100, linear2 1."""

    def __init__(self, num_in_ch: int, num_feat: int, input_size: int) -> None:
        super().__init__()
        stages = (input_size // 4).bit_length() - 1
        if input_size < 8 or input_size != 4 * 2 ** stages:
            raise BenchError(f"discriminator 'vgg128': input_size must be 4 * 2**k (e.g. 128), got {input_size}")
        self.input_size = input_size
        cin = num_in_ch
        for i in range(stages):
            cout = num_feat * min(2 ** i, 8)
            setattr(self, f"conv{i}_0", nn.Conv2d(cin, cout, 3, 1, 1, bias=(i == 0)))
            if i > 0:
                setattr(self, f"bn{i}_0", nn.BatchNorm2d(cout))
            setattr(self, f"conv{i}_1", nn.Conv2d(cout, cout, 4, 2, 1, bias=False))
            setattr(self, f"bn{i}_1", nn.BatchNorm2d(cout))
            cin = cout
        self.stages = stages
        self.linear1 = nn.Linear(cin * 4 * 4, 100)
        self.linear2 = nn.Linear(100, 1)
        self.lrelu = nn.LeakyReLU(0.2)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-2:] != (self.input_size, self.input_size):
            raise ValueError(f"vgg128 expects {self.input_size}x{self.input_size} input, got {tuple(x.shape[-2:])}")
        for i in range(self.stages):
            x = getattr(self, f"conv{i}_0")(x)
            x = self.lrelu(getattr(self, f"bn{i}_0")(x) if i > 0 else x)
            x = self.lrelu(getattr(self, f"bn{i}_1")(getattr(self, f"conv{i}_1")(x)))
        return self.linear2(self.lrelu(self.linear1(x.flatten(1))))


@DISCRIMINATORS.register("srgan")
def srgan(*, num_in_ch: int = 3, num_feat: int = 64, pool_size: int = 6) -> nn.Module:
    """SRGAN discriminator (Ledig et al. 2017)."""
    return SRGANDiscriminator(num_in_ch, num_feat, pool_size)


@DISCRIMINATORS.register("vgg128")
def vgg128(*, num_in_ch: int = 3, num_feat: int = 64, input_size: int = 128) -> nn.Module:
    """ESRGAN's VGG-style discriminator (Wang et al. 2018) for fixed-size patches."""
    return VGGStyleDiscriminator(num_in_ch, num_feat, input_size)
