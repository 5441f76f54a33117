"""Shared fixtures: tiny matrices, the offline data folder when present."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# generated LR images of the test runs go to a throw-away folder, not the user's cache
os.environ.setdefault("BENCH_LR_CACHE", tempfile.mkdtemp(prefix="bench-lr-cache-"))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATA = SHARED / "data" / "sr-benchmark"

TINY_MATRIX = """
name: tiny
description: tiny test matrix
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr, ssim]
scales: [2]
seeds: [0]
default_profile: smoke
profiles:
  smoke: {iterations: 4, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 2}
  paper: {iterations: 8, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 4}
students:
  tiny: {arch: edsr, num_blocks: 1, num_feat: 4}
methods:
  - {method: baseline, label: Tiny baseline}
references:
  - {label: Bicubic, arch: bicubic}
"""


@pytest.fixture
def tiny_matrix(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_MATRIX)
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data/sr-benchmark is not present")
    return SHARED_DATA
