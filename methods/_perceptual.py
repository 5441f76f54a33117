"""VGG19 perceptual (content) loss of GAN SR: a distance between SR and HR features at one layer.

Layers carry BasicSR's names: `conv{i}_{j}` is a conv's output *before* its ReLU, `relu{i}_{j}`
after it, `pool{i}` the max-pool (module indices are torchvision's `vgg19().features`). The
network is cut after the layer, and the feature is read with `methods.hooks.FeatureTap`.

Defaults are the SRGAN paper's (Ledig et al. 2017, cited by papers 001 and 003): `relu5_4`, MSE,
features rescaled by 1/12.75, weight 1. BasicSR's SRGAN/ESRGAN setting is `vgg_layer: conv5_4,
vgg_criterion: l1, vgg_feature_scale: 1.0`. Inputs in [0, 1] are normalised with the ImageNet
mean/std (BasicSR `use_input_norm`; what torchvision's weights expect); the HR branch runs
without gradients (BasicSR detaches the ground truth).

Weights (`vgg_weights`): `imagenet` loads torchvision's `vgg19-dcbb9e9d.pth`, looked for like the
metrics' weight files (`--weights-dir`, `$BENCH_WEIGHTS_DIR`, the torch hub cache; downloaded
there when online); missing offline, building the method fails with one line naming the file,
its URL and the folders. `random` is a VGG19 of the same shape with torchvision's initialisation
from a fixed seed: only for smoke profiles on machines without the file (the report says so).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from benchmarks.errors import BenchError

from .base import MethodConfig
from .hooks import FeatureTap

#: torchvision's VGG19 ("E") channels per block; a stand-in may scale them down.
VGG19_WIDTHS = (64, 128, 256, 512, 512)
_CONVS_PER_BLOCK = (2, 2, 4, 4, 4)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
RANDOM_SEED = 0  # the `random` VGG19: the same network in every cell
WEIGHTS = ("imagenet", "random")
CRITERIA = {"l1": F.l1_loss, "mse": F.mse_loss}


def layer_names() -> list[str]:
    """VGG19's `features` modules by name, in torchvision's index order."""
    names = []
    for block, convs in enumerate(_CONVS_PER_BLOCK, start=1):
        for j in range(1, convs + 1):
            names += [f"conv{block}_{j}", f"relu{block}_{j}"]
        names.append(f"pool{block}")
    return names


@dataclasses.dataclass(frozen=True)
class PerceptualConfig(MethodConfig):
    """The content loss's fields (SRGAN paper defaults; see the module docstring)."""

    vgg_layer: str = "relu5_4"           # SRGAN paper phi_5,4 after ReLU; BasicSR: conv5_4
    vgg_criterion: str = "mse"           # SRGAN paper; BasicSR: l1
    vgg_feature_scale: float = 1 / 12.75  # SRGAN paper's rescaling of the features; BasicSR: 1
    content_weight: float = 1.0          # SRGAN paper and BasicSR
    vgg_weights: str = "imagenet"        # "random": smoke profiles only

    def __post_init__(self) -> None:
        parent = getattr(super(), "__post_init__", None)
        if parent:  # cooperative: a config may combine these fields with others
            parent()
        if self.vgg_layer not in layer_names():
            raise ValueError(f"vgg_layer: unknown VGG19 layer {self.vgg_layer!r}; valid: conv1_1 .. conv5_4, "
                             "relu1_1 .. relu5_4, pool1 .. pool5")
        if self.vgg_criterion not in CRITERIA:
            raise ValueError(f"vgg_criterion: {self.vgg_criterion!r}; valid choices: {', '.join(CRITERIA)}")
        if self.vgg_weights not in WEIGHTS:
            raise ValueError(f"vgg_weights: {self.vgg_weights!r}; valid choices: {', '.join(WEIGHTS)}")
        if self.vgg_feature_scale <= 0:
            raise ValueError(f"vgg_feature_scale must be > 0, got {self.vgg_feature_scale!r}")
        if self.content_weight < 0:
            raise ValueError(f"content_weight must be >= 0, got {self.content_weight!r}")


def vgg19_features(last: str, widths: tuple[int, ...] = VGG19_WIDTHS) -> nn.Sequential:
    """VGG19 `features` up to and including layer `last`, modules named as `layer_names()`,
    initialised as torchvision does (Kaiming normal, fan_out) from RANDOM_SEED. ReLUs are not
    in place, so a tapped conv output stays the pre-activation value. The global RNG is left as
    it was (building it never shifts the initialisation of the networks built after it)."""
    gen = torch.Generator().manual_seed(RANDOM_SEED)
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    cin = 3
    with torch.random.fork_rng(devices=[]):
        for name in layer_names()[: layer_names().index(last) + 1]:
            if name.startswith("conv"):
                cout = widths[int(name[4]) - 1]
                conv = nn.Conv2d(cin, cout, 3, padding=1)
                nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu", generator=gen)
                nn.init.zeros_(conv.bias)
                layers[name], cin = conv, cout
            else:
                layers[name] = nn.ReLU() if name.startswith("relu") else nn.MaxPool2d(2, 2)
    return nn.Sequential(layers)


def imagenet_vgg19(last: str) -> nn.Sequential:
    """`vgg19_features(last)` with torchvision's ImageNet weights (resolved offline-first)."""
    from benchmarks.metrics import MetricUnavailable
    from benchmarks.metrics import weights as W

    try:
        path = W.resolve(W.PERCEPTUAL_LOSS, W.VGG19)
    except MetricUnavailable as exc:
        raise BenchError(str(exc)) from None
    state = torch.load(path, map_location="cpu", weights_only=True)
    net = vgg19_features(last)
    names = layer_names()
    mine = {f"{names[int(k.split('.')[1])]}.{k.split('.')[2]}": v for k, v in state.items()
            if k.startswith("features.") and int(k.split(".")[1]) < len(net)}
    net.load_state_dict(mine, strict=True)
    return net


def build_vgg19(last: str, weights: str) -> nn.Sequential:
    return vgg19_features(last) if weights == "random" else imagenet_vgg19(last)


class PerceptualLoss:
    """`loss(sr, hr)`: criterion(scale * phi(sr), scale * phi(hr)), phi = the tapped layer of
    `vgg` (a frozen helper of the method; this object holds no parameters of its own)."""

    def __init__(self, vgg: nn.Module, layer: str, criterion: str, feature_scale: float):
        self.vgg, self.layer, self.scale = vgg, layer, feature_scale
        self.criterion = CRITERIA[criterion]
        self.tap = FeatureTap(vgg, [layer])

    def features(self, x: Tensor) -> Tensor:
        mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
        self.vgg((x - mean) / std)
        return self.tap.pop()[self.layer] * self.scale

    def __call__(self, sr: Tensor, hr: Tensor) -> Tensor:
        with torch.no_grad():
            target = self.features(hr)
        return self.criterion(self.features(sr), target)


def perceptual_loss(method, cfg: PerceptualConfig, name: str = "vgg") -> PerceptualLoss:
    """Build the VGG19 of `cfg`, register it as `method`'s frozen helper `name`, return the loss."""
    vgg = method.add_frozen(name, build_vgg19(cfg.vgg_layer, cfg.vgg_weights))
    return PerceptualLoss(vgg, cfg.vgg_layer, cfg.vgg_criterion, cfg.vgg_feature_scale)
