"""Synthetic method folders for DMOS export tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def write_png(path: Path, img: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


@pytest.fixture
def study_inputs(tmp_path):
    """HR folder + 3 method folders with 12 images each (distinct pixels per method/image)."""
    rng = np.random.default_rng(0)
    hr_dir = tmp_path / "HR"
    methods = {"GAN2GAN": tmp_path / "m1", "GAN2G": tmp_path / "m2", "G2G+AL": tmp_path / "m3"}
    for i in range(12):
        name = f"im{i:02d}.png"
        hr = rng.integers(0, 256, (24, 20 + i, 3), dtype=np.uint8)
        write_png(hr_dir / name, hr)
        for k, d in enumerate(methods.values()):
            write_png(d / name, np.clip(hr.astype(int) + 10 * (k + 1), 0, 255).astype(np.uint8))
    return methods, hr_dir
