"""Tiny EDSRs, the test batch and its TrainContext, and a driver that runs the trainer's own
step (`benchmarks.train.train_step`) for the method tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from benchmarks.archs import build_arch

# Under pytest's default (prepend) import mode, tests/ is put on sys.path, where the folder
# tests/methods would be imported as a namespace package `methods`, shadowing the real one
# (the editable install's finder runs after sys.path). With the project root also on sys.path
# the regular package wins. (`pythonpath = .` under [tool:pytest] would fix it project-wide.)
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)
if "methods" in sys.modules and getattr(sys.modules["methods"], "__file__", None) is None:
    del sys.modules["methods"]

# Both import the package `methods`, so only after the fix above.
from benchmarks.train import Optimization, train_step  # noqa: E402
from methods.base import TrainContext  # noqa: E402

#: The test batch: BATCH LR patches of LR_PATCH x LR_PATCH, targets SCALE times larger.
SCALE, LR_PATCH, BATCH = 2, 12, 3


def train_context() -> TrainContext:
    """What a method built for these tests is told about the run (matches `batch`)."""
    return TrainContext(scale=SCALE, lr_patch=LR_PATCH, batch_size=BATCH)


def tiny_edsr(num_blocks: int = 4, num_feat: int = 8, **kw):
    return build_arch("edsr", SCALE, num_blocks=num_blocks, num_feat=num_feat, **kw)


def batch(gen: torch.Generator, n: int = BATCH, size: int = LR_PATCH):
    """Random LR batch; the target is a fixed synthetic function of it (bilinear x SCALE)."""
    lr = torch.rand(n, 3, size, size, generator=gen)
    return lr, F.interpolate(lr, scale_factor=SCALE, mode="bilinear", align_corners=False)


def run_steps(method, steps: int = 30, lr: float = 1e-3, seed: int = 0) -> list[float]:
    """`steps` iterations of the trainer's `train_step` (one plain Adam per group, as
    `Optimization.uniform`); returns each step's total loss, the sum of every term of every
    group the method yielded."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    optim = Optimization.uniform(method, lr)
    method.train()
    totals = []
    for step in range(steps):
        x, y = batch(gen)
        result = train_step(method, optim, x, y, step)
        totals.append(float(sum(result.losses.values())))
    return totals


@pytest.fixture
def tiny_teacher():
    """EDSR 6 blocks x 16 channels, x2 (a stand-in teacher; weights are random)."""
    torch.manual_seed(1234)
    return tiny_edsr(num_blocks=6, num_feat=16)


@pytest.fixture
def tiny_student():
    torch.manual_seed(4321)
    return tiny_edsr()


@pytest.fixture
def make_edsr():
    """Factory for tiny x2 EDSRs (default: the 4 x 8 test student)."""
    return tiny_edsr


@pytest.fixture
def steps():
    """`steps(method, n)`: run n training steps, return the per-step total losses."""
    return run_steps


@pytest.fixture
def train_ctx() -> TrainContext:
    """The TrainContext of the test batch: x2, 12 x 12 LR patches, batch 3."""
    return train_context()


#: Channels of the VGG-shaped stand-in per VGG19 block (VGG19: 64, 128, 256, 512, 512).
VGG_STANDIN_WIDTHS = (4, 8, 8, 16, 16)


@pytest.fixture(autouse=True)
def vgg19_standin(monkeypatch):
    """Stand-in for the ImageNet VGG19 of the perceptual losses, whose file cannot be downloaded
    here: a random network with VGG19's layers and names and 1/16-1/32 of its channels. Tests that
    use it check plumbing and equations computed through the same network, not VGG19's values."""
    from methods import _perceptual

    monkeypatch.setattr(_perceptual, "imagenet_vgg19",
                        lambda last: _perceptual.vgg19_features(last, VGG_STANDIN_WIDTHS))
