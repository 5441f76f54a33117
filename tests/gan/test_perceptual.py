"""The VGG19 perceptual loss: layer layout and taps, the loss against a hand computation on a
small random VGG-shaped stand-in (it has VGG19's layers and names with 1/16 of the channels; it
checks the plumbing, not VGG19's values), ImageNet weight loading from a stand-in file of
torchvision's key names, and the one-line error when the real file is missing offline."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from benchmarks.errors import BenchError
from benchmarks.metrics import weights as W
from methods import _perceptual as P
from methods._perceptual import PerceptualConfig, PerceptualLoss, layer_names, vgg19_features

STANDIN = (4, 8, 16, 32, 32)  # stand-in widths (VGG19: 64, 128, 256, 512, 512)


def test_layer_names_follow_torchvision_vgg19_features():
    from torchvision.models.vgg import cfgs, make_layers

    tv = make_layers(cfgs["E"])
    names = layer_names()
    assert len(names) == len(tv) == 37
    kinds = {"conv": torch.nn.Conv2d, "relu": torch.nn.ReLU, "pool": torch.nn.MaxPool2d}
    assert all(isinstance(m, kinds[n[:4]]) for n, m in zip(names, tv))
    assert names.index("conv5_4") == 34 and names.index("relu5_4") == 35  # BasicSR / EDSR features[:35]
    net = vgg19_features("conv5_4")
    assert [tuple(p.shape) for p in net.parameters()] == [tuple(p.shape) for p in list(tv.parameters())[:32]]


def test_random_vgg_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    a = vgg19_features("relu2_1", STANDIN)
    assert torch.equal(torch.rand(3), expected)
    b = vgg19_features("relu2_1", STANDIN)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("layer,criterion,scale", [("conv3_2", "l1", 1.0), ("relu3_2", "mse", 1 / 12.75)])
def test_loss_by_hand_on_the_standin(layer, criterion, scale):
    vgg = vgg19_features(layer, STANDIN).requires_grad_(False)
    loss = PerceptualLoss(vgg, layer, criterion, scale)
    gen = torch.Generator().manual_seed(0)
    sr, hr = torch.rand(2, 3, 16, 16, generator=gen), torch.rand(2, 3, 16, 16, generator=gen)
    mean, std = torch.tensor(P.IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(P.IMAGENET_STD).view(1, 3, 1, 1)

    def phi(x):  # the layers one by one, stopping at `layer`
        x = (x - mean) / std
        for name, module in vgg.named_children():
            x = module(x)
            if name == layer:
                return x * scale

    crit = F.l1_loss if criterion == "l1" else F.mse_loss
    assert float(loss(sr, hr)) == pytest.approx(float(crit(phi(sr), phi(hr))), rel=1e-6)
    feats = loss.features(sr)
    # a conv tap is the pre-activation (negative values survive); a relu tap is not
    assert (feats.min() < 0) == layer.startswith("conv")


def test_hr_branch_has_no_gradient():
    vgg = vgg19_features("relu2_2", STANDIN).requires_grad_(False)
    loss = PerceptualLoss(vgg, "relu2_2", "mse", 1.0)
    sr = torch.rand(1, 3, 8, 8, requires_grad=True)
    hr = torch.rand(1, 3, 8, 8, requires_grad=True)
    loss(sr, hr).backward()
    assert sr.grad is not None and hr.grad is None


def test_config_is_validated_field_by_field():
    for field, value in [("vgg_layer", "conv6_1"), ("vgg_criterion", "huber"), ("vgg_weights", "coco"),
                         ("vgg_feature_scale", 0.0), ("content_weight", -1.0)]:
        with pytest.raises(BenchError, match=field):
            PerceptualConfig.from_mapping({field: value}, "method 'x'")


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    """An empty weights dir and torch hub, offline: nothing to find, nothing downloaded."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv(W.ENV_WEIGHTS_DIR, str(tmp_path / "weights"))
    monkeypatch.setenv(W.ENV_OFFLINE, "1")
    W.set_weights_dir(None)
    (tmp_path / "weights").mkdir()
    return tmp_path / "weights"


def test_imagenet_weights_load_from_a_file_with_torchvision_keys(weights_dir):
    # stand-in file: torchvision's names for conv1_1/conv1_2 plus keys the loader must skip
    full = vgg19_features("relu5_4")
    names = layer_names()
    state = {f"features.{names.index(n)}.{k}": torch.randn_like(v) for n in ("conv1_1", "conv1_2")
             for k, v in getattr(full, n).state_dict().items()}
    state["features.5.weight"] = torch.zeros(128, 64, 3, 3)
    state["classifier.0.weight"] = torch.zeros(4, 4)
    torch.save(state, weights_dir / W.VGG19.filename)
    net = P.build_vgg19("relu1_2", "imagenet")
    assert torch.equal(net.conv1_2.weight, state["features.2.weight"])
    assert torch.equal(net.conv1_1.bias, state["features.0.bias"])


def test_missing_vgg19_is_one_line_naming_file_url_and_folder(weights_dir, tmp_path):
    with pytest.raises(BenchError) as exc:
        P.build_vgg19("relu5_4", "imagenet")
    msg = str(exc.value)
    assert "\n" not in msg
    for part in ("perceptual loss", "vgg19-dcbb9e9d.pth", "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
                 "--weights-dir", str(tmp_path / "torch_home" / "hub" / "checkpoints")):
        assert part in msg, part
