"""Every SR arch maps (N,3,h,w) in [0,1] to (N,3,h*s,w*s) at x2/x3/x4; options are validated."""

from __future__ import annotations

import pytest
import torch

from benchmarks.archs import ARCHS, build_arch, count_params
from benchmarks.errors import BenchError

TINY = {
    "edsr": {"num_blocks": 2, "num_feat": 8},
    "srresnet": {"num_blocks": 2, "num_feat": 8},
    "rrdbnet": {"num_blocks": 2, "num_feat": 8, "num_grow": 4},
    "imdn": {"num_blocks": 2, "num_feat": 16},
    "carn-m": {"num_feat": 8},
    "rcan": {"num_groups": 2, "num_blocks": 2, "num_feat": 16, "reduction": 4},
    "bicubic": {},
}


def test_every_registered_arch_is_covered() -> None:
    assert set(ARCHS.names()) == set(TINY)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("name", sorted(TINY))
def test_output_shape(name: str, scale: int) -> None:
    torch.manual_seed(0)
    model = build_arch(name, scale, **TINY[name]).eval()
    x = torch.rand(2, 3, 12, 10)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 3, 12 * scale, 10 * scale)
    assert y.dtype == x.dtype and torch.isfinite(y).all()


@pytest.mark.parametrize("name", sorted(set(TINY) - {"bicubic"}))
def test_every_trainable_parameter_gets_a_gradient(name: str) -> None:
    opts = dict(TINY[name], **({"multi_scale": False} if name == "carn-m" else {}))
    model = build_arch(name, 2, **opts)
    model(torch.rand(1, 3, 8, 8)).mean().backward()
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_carn_m_multi_scale_holds_all_upsamplers() -> None:
    keys = set(build_arch("carn-m", 3, num_feat=8).state_dict())
    assert {"upsample.up2.body.0.weight", "upsample.up3.body.0.weight", "upsample.up4.body.3.weight"} <= keys
    single = set(build_arch("carn-m", 3, num_feat=8, multi_scale=False).state_dict())
    assert not any(k.startswith(("upsample.up2", "upsample.up4")) for k in single)


def test_bad_option_names_the_option() -> None:
    with pytest.raises(BenchError, match="num_filters"):
        build_arch("edsr", 2, num_filters=8)
    with pytest.raises(BenchError, match="'num_feat'.*none"):
        build_arch("bicubic", 2, num_feat=8)
    with pytest.raises(BenchError, match="num_grow"):
        build_arch("srresnet", 4, num_grow=8)


def test_unknown_arch_lists_choices() -> None:
    with pytest.raises(BenchError, match="edsr"):
        build_arch("edsr2", 2)


@pytest.mark.parametrize("name", ["edsr", "srresnet", "rrdbnet", "carn-m"])
def test_unsupported_scale_is_a_bench_error(name: str) -> None:
    with pytest.raises(BenchError, match="scale"):
        build_arch(name, 5, **TINY[name])


def test_edsr_official_module_paths() -> None:
    model = build_arch("edsr", 4, num_blocks=2, num_feat=8)
    keys = set(model.state_dict())
    for key in ["sub_mean.weight", "sub_mean.bias", "head.0.weight", "body.0.body.0.weight",
                "body.1.body.2.bias", "body.2.weight", "tail.0.0.weight", "tail.0.2.weight",
                "tail.1.weight", "add_mean.bias"]:
        assert key in keys
    assert not model.sub_mean.weight.requires_grad and not model.add_mean.bias.requires_grad


def test_edsr_rgb_range_keeps_the_unit_contract() -> None:
    """A [0,255] EDSR (all biases x255) fed [0,1] input must equal the [0,1] EDSR: ReLU nets are
    positively homogeneous, so this checks the internal scaling and the mean-shift biases."""
    torch.manual_seed(0)
    a = build_arch("edsr", 3, num_blocks=2, num_feat=4, res_scale=0.5)
    b = build_arch("edsr", 3, num_blocks=2, num_feat=4, res_scale=0.5, rgb_range=255.0)
    sd = {k: v * 255.0 if k.endswith("bias") and "mean" not in k else v for k, v in a.state_dict().items()}
    sd.update({k: v for k, v in b.state_dict().items() if "mean" in k})
    b.load_state_dict(sd)
    x = torch.rand(2, 3, 6, 5)
    with torch.no_grad():
        torch.testing.assert_close(b(x), a(x), rtol=1e-4, atol=1e-5)
    assert count_params(a) == count_params(b)


def test_srresnet_and_rrdbnet_paths() -> None:
    s = dict(build_arch("srresnet", 4, num_blocks=2, num_feat=8).named_modules())
    assert {"head", "body.0", "body.1", "body_tail", "upsampler", "tail"} <= set(s)
    r = set(build_arch("rrdbnet", 4, num_blocks=2, num_feat=8, num_grow=4).state_dict())
    for key in ["conv_first.weight", "body.1.rdb3.conv5.weight", "conv_body.weight", "conv_up1.weight",
                "conv_up2.weight", "conv_hr.weight", "conv_last.bias"]:
        assert key in r
