"""Tiny EDSRs and a minimal training driver for the method tests."""

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


def tiny_edsr(num_blocks: int = 4, num_feat: int = 8, **kw):
    return build_arch("edsr", 2, num_blocks=num_blocks, num_feat=num_feat, **kw)


def batch(gen: torch.Generator, n: int = 3, size: int = 12):
    """Random LR batch; the target is a fixed synthetic function of it (bilinear x2)."""
    lr = torch.rand(n, 3, size, size, generator=gen)
    return lr, F.interpolate(lr, scale_factor=2, mode="bilinear", align_corners=False)


def run_steps(method, steps: int = 30, lr: float = 1e-3, seed: int = 0) -> list[float]:
    """The trainer's contract in miniature: one Adam per group, step each group in order."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opts = {g: torch.optim.Adam(ps, lr=lr) for g, ps in method.param_groups().items()}
    method.train()
    totals = []
    for step in range(steps):
        x, y = batch(gen)
        total = 0.0
        for group, terms in method.losses(x, y, step):
            opts[group].zero_grad()
            loss = sum(terms.values())
            loss.backward()
            opts[group].step()
            total += float(loss.detach())
        totals.append(total)
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
