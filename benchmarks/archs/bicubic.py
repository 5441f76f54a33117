"""Bicubic upsampling as a weight-free model: the "Bicubic" reference row of every SR table.

MATLAB-style `imresize` (pyiqa's torch port), which is what the field's bicubic rows use;
PIL/OpenCV bicubic differ. pyiqa is imported on first use, since importing it is slow and fixes
its cache folder (TORCH_HOME) at import time.
"""

from __future__ import annotations

from torch import Tensor, nn

from ..errors import BenchError
from . import register_arch


class Bicubic(nn.Module):
    """(N,3,h,w) -> (N,3,h*s,w*s) by MATLAB bicubic; 0 parameters, unclamped like the models."""

    def __init__(self, scale: int) -> None:
        super().__init__()
        if scale < 1:
            raise BenchError(f"arch 'bicubic': scale must be a positive integer, got {scale}")
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        from pyiqa.matlab_utils import imresize

        h, w = x.shape[-2:]
        out = imresize(x, sizes=(h * self.scale, w * self.scale))
        return out.to(x.dtype)


@register_arch("bicubic")
def bicubic(scale: int) -> nn.Module:
    """MATLAB bicubic interpolation; no options."""
    return Bicubic(scale)
