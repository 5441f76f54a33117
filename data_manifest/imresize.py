"""MATLAB `imresize(img, scale, 'bicubic')` for uint8 images, with pyiqa's MATLAB-style kernel.

MATLAB resizes one axis at a time (the axis with the smaller scale first; rows on a tie) and,
for uint8 input, rounds and saturates the intermediate image to uint8 between the two passes.
pyiqa's resize (Sanghyun Son's port of MATLAB's cubic kernel, antialiasing and symmetric
border) gives the weights: a 1-D pass is linear, so its matrix is read off pyiqa's resize of a
few comb columns, cached per (length, scale) and applied as a sparse product (pyiqa applied to
the image itself unfolds it at full resolution: ~1.3 s per 1024x768 image on two cores, here
~0.05 s). Measured: bit-exact against the official MATLAB LR images of Set5 and Set14 at
x2/x3/x4 (tests/data_manifest/test_imresize.py).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np


def _out_size(size: int, scale: float) -> int:
    """MATLAB's output length ceil(size * scale), exact when 1/scale is an integer."""
    inv = 1.0 / scale
    if scale < 1 and abs(inv - round(inv)) < 1e-9:
        return -(-size // round(inv))
    return math.ceil(size * scale - 1e-9)


def _support(scale: float) -> int:
    """Half-width (input pixels) beyond which a pass has zero weight, borders reflected included."""
    taps = math.ceil(4 / scale) if scale < 1 else 4  # pyiqa / MATLAB kernel width, antialiased
    return (taps + 2) // 2 + 2


@functools.lru_cache(maxsize=256)
def _matrix(in_len: int, out_len: int, scale: float):
    """The (out_len x in_len) sparse matrix of one MATLAB bicubic pass, from pyiqa's resize.

    Output r only weighs inputs within _support of its centre, so resizing P "comb" columns
    (column j = 1 at every input i with i % P == j, P wider than a window) yields every weight:
    M[r, i] = comb_out[r, i % P]. Checked against resizing the full identity in the tests.
    """
    import torch
    from scipy.sparse import csr_matrix

    half = _support(scale)
    period = min(in_len, 2 * half + 3)
    comb = torch.zeros(in_len, period, dtype=torch.float64)
    comb[torch.arange(in_len), torch.arange(in_len) % period] = 1.0
    with torch.no_grad():
        out = _pyiqa_pass(comb, out_len, scale).numpy()
    centre = (np.arange(out_len) + 0.5) / scale - 0.5
    lo = np.clip(np.floor(centre).astype(int) - half, 0, in_len - 1)
    width = min(in_len, 2 * half + 2)
    lo = np.minimum(lo, in_len - width)
    rows = np.repeat(np.arange(out_len), width)
    cols = (lo[:, None] + np.arange(width)[None, :]).ravel()
    vals = out[rows, cols % period]
    return csr_matrix((vals, (rows, cols)), shape=(out_len, in_len))


def _pyiqa_resize_module():
    """pyiqa's matlab_utils/resize.py (needs only torch): the imported module when pyiqa is
    loaded, else the file loaded on its own, skipping pyiqa's package import (~2 s of torchvision)."""
    import importlib.util
    import sys

    name = "pyiqa.matlab_utils.resize"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec("pyiqa")  # locates the package without executing it
    path = Path(spec.submodule_search_locations[0]) / "matlab_utils" / "resize.py" if spec else None
    if path is None or not path.is_file():
        return importlib.import_module(name)
    module_spec = importlib.util.spec_from_file_location("data_manifest._pyiqa_resize", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _pyiqa_pass(x, out_len: int, scale: float):
    """pyiqa's MATLAB-style resize of a 2-D float64 tensor along its first axis."""
    import torch

    resize = _pyiqa_resize_module()
    if hasattr(resize, "resize_1d"):  # float64 weights at MATLAB's scale
        y = resize.resize_1d(
            x[None, None], -2, size=out_len, scale=scale, kernel="cubic", padding_type="reflect", antialiasing=True
        )
        return y[0, 0]
    # other pyiqa layouts: the public function (float32, scale = out/in per axis)
    from pyiqa.matlab_utils import imresize

    return imresize(x[None, None].float(), sizes=(out_len, x.shape[1]))[0, 0].to(torch.float64)


def _round_u8(x: np.ndarray) -> np.ndarray:
    """Round half away from zero and saturate to [0, 255] (MATLAB's conversion to uint8)."""
    return np.clip(np.floor(x + 0.5), 0, 255)


def matlab_imresize(img: np.ndarray, scale: float) -> np.ndarray:
    """Resize a uint8 HxWxC (or HxW) image by `scale` (0.25 = x4 downscale) like MATLAB, uint8 out.

    Bicubic (a = -0.5) with antialiasing when downscaling; rows then columns (MATLAB's order for
    equal scales), each pass rounded half away from zero and saturated to [0, 255].
    """
    if img.dtype != np.uint8:
        raise ValueError(f"matlab_imresize expects uint8, got {img.dtype}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    gray = img.ndim == 2
    arr = img[:, :, None] if gray else img
    h, w, c = arr.shape
    out_h, out_w = _out_size(h, scale), _out_size(w, scale)
    x = arr.astype(np.float64)
    if scale != 1:
        x = _round_u8(_matrix(h, out_h, float(scale)) @ x.reshape(h, w * c)).reshape(out_h, w, c)
        x = x.transpose(1, 0, 2).reshape(w, out_h * c)
        x = _round_u8(_matrix(w, out_w, float(scale)) @ x).reshape(out_w, out_h, c).transpose(1, 0, 2)
    out = np.ascontiguousarray(x.astype(np.uint8))
    return out[:, :, 0] if gray else out
