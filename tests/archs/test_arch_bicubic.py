"""The Bicubic reference row: no weights, MATLAB-style imresize (pyiqa), batched."""

from __future__ import annotations

import pytest
import torch
from pyiqa.matlab_utils import imresize

from benchmarks.archs import build_arch, count_params


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_matches_pyiqa_imresize_per_image(scale: int) -> None:
    torch.manual_seed(0)
    x = torch.rand(3, 3, 9, 11)
    model = build_arch("bicubic", scale)
    y = model(x)
    assert count_params(model) == 0
    assert y.shape == (3, 3, 9 * scale, 11 * scale)
    for i in range(3):
        torch.testing.assert_close(y[i], imresize(x[i], scale=scale), rtol=0, atol=1e-6)


def test_unclamped_and_exact_on_constant() -> None:
    x = torch.full((1, 3, 5, 5), 0.25)
    torch.testing.assert_close(build_arch("bicubic", 2)(x), torch.full((1, 3, 10, 10), 0.25))
    edge = torch.zeros(1, 3, 6, 6)
    edge[..., 3:] = 1.0
    y = build_arch("bicubic", 4)(edge)
    assert y.min() < 0 and y.max() > 1  # bicubic overshoot is kept: outputs are unclamped
