"""Discriminators: registry, logits of shape (N, 1), SRGAN D at any patch size, vgg128 layout."""

from __future__ import annotations

import pytest
import torch

from benchmarks.archs import count_params
from benchmarks.archs.discriminators import DISCRIMINATORS, build_discriminator
from benchmarks.errors import BenchError


def test_registry_names() -> None:
    assert DISCRIMINATORS.names() == ["srgan", "vgg128"]
    with pytest.raises(BenchError, match="vgg128"):
        build_discriminator("patchgan")


@pytest.mark.parametrize("size", [96, 40, 24])
def test_srgan_any_patch_size(size: int) -> None:
    d = build_discriminator("srgan", num_feat=8)
    assert d(torch.rand(2, 3, size, size)).shape == (2, 1)


def test_srgan_layout() -> None:
    d = build_discriminator("srgan")
    convs = [m for m in d.features if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert [c.stride[0] for c in convs] == [1, 2, 1, 2, 1, 2, 1, 2]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in d.features) == 7
    assert d.classifier[1].in_features == 512 * 6 * 6 and d.classifier[1].out_features == 1024


def test_vgg128_layout_and_logits() -> None:
    d = build_discriminator("vgg128")
    keys = set(d.state_dict())
    assert {"conv0_0.bias", "bn0_1.weight", "conv4_1.weight", "bn4_1.running_var", "linear1.weight",
            "linear2.bias"} <= keys
    assert "bn0_0.weight" not in keys and "conv0_1.bias" not in keys and "conv5_0.weight" not in keys
    assert count_params(d) == 14_499_401  # BasicSR VGGStyleDiscriminator(3, 64), input 128
    assert build_discriminator("vgg128", num_feat=8)(torch.rand(2, 3, 128, 128)).shape == (2, 1)


def test_vgg128_options() -> None:
    assert build_discriminator("vgg128", num_feat=4, input_size=256)(torch.rand(1, 3, 256, 256)).shape == (1, 1)
    with pytest.raises(ValueError, match="128x128"):
        build_discriminator("vgg128", num_feat=4)(torch.rand(1, 3, 96, 96))
    with pytest.raises(BenchError, match="input_size"):
        build_discriminator("vgg128", input_size=100)
    with pytest.raises(BenchError, match="pool_size"):
        build_discriminator("vgg128", pool_size=6)
