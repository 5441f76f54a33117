"""Independent transcriptions of the official code's computations, for comparison in the tests.

Written from the sources, not from the harness: EDSR-PyTorch's EDSR forward on [0, 255] inputs
(src/model/edsr.py, common.py: MeanShift, ResBlock, Upsampler) with the FAKD code's feature maps
(code/models/edsr.py: body split in thirds, the third modified in place by `res += x`), its
spatial similarity (code/feature_transformation.py, eps 1e-7) and its loss (code/loss.py:
(1 - alpha) L1(S, HR) + alpha L1(S, T) + sum_k w L1(SA_S^k, SA_T^k)). Each works on a plain
state dict with functional convolutions, so nothing is shared with the modules under test.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def conv(sd: dict[str, Tensor], name: str, x: Tensor) -> Tensor:
    w = sd[f"{name}.weight"]
    return F.conv2d(x, w, sd[f"{name}.bias"], padding=w.shape[-1] // 2)


def edsr_forward(sd: dict[str, Tensor], x255: Tensor, n_blocks: int, res_scale: float,
                 scale: int) -> tuple[list[Tensor], Tensor]:
    """(FAKD feature maps [head, body1, body2, body3 + head], output), everything in [0, 255]."""
    x = conv(sd, "sub_mean", x255)
    x = conv(sd, "head.0", x)
    maps = [x]
    cuts = [n_blocks // 3, (2 * n_blocks) // 3, n_blocks]
    res = x
    for i in range(n_blocks):
        y = conv(sd, f"body.{i}.body.2", F.relu(conv(sd, f"body.{i}.body.0", res)))
        res = y * res_scale + res
        if i + 1 == cuts[0] or i + 1 == cuts[1]:
            maps.append(res)
    res = conv(sd, f"body.{n_blocks}", res)
    res = res + x  # the code's in-place `res += x` on the stored third map
    maps.append(res)
    y = res
    steps = [3] if scale == 3 else [2] * (scale.bit_length() - 1)
    for j, f in enumerate(steps):
        y = F.pixel_shuffle(conv(sd, f"tail.0.{2 * j}", y), f)
    y = conv(sd, "tail.1", y)
    return maps, conv(sd, "add_mean", y)


def spatial_similarity(fm: Tensor) -> Tensor:
    fm = fm.view(fm.size(0), fm.size(1), -1)
    norm_fm = fm / (torch.sqrt(torch.sum(torch.pow(fm, 2), 1)).unsqueeze(1).expand(fm.shape) + 0.0000001)
    return norm_fm.transpose(1, 2).bmm(norm_fm).unsqueeze(1)


def fakd_loss(student_sr: Tensor, teacher_sr: Tensor, hr: Tensor, student_fms: list[Tensor],
              teacher_fms: list[Tensor], alpha: float = 0.5, weight: float = 10.0) -> dict[str, Tensor]:
    """The terms of code/loss.py with --feature_distilation_type {weight}*SA --features [1,2,3]."""
    ds = F.l1_loss(student_sr, hr) * (1 - alpha)
    ts = F.l1_loss(student_sr, teacher_sr) * alpha
    sa = sum(F.l1_loss(spatial_similarity(s), spatial_similarity(t))
             for s, t in zip(student_fms[1:], teacher_fms[1:])) * weight
    return {"rec": ds, "ts": ts, "fa": sa}


def quantize(y255: Tensor) -> Tensor:
    """EDSR-PyTorch utility.quantize at rgb_range 255: clamp to [0, 255] and round."""
    return y255.clamp(0, 255).round()


def rcan_forward(sd: dict[str, Tensor], x255: Tensor, n_groups: int, n_blocks: int, scale: int) -> Tensor:
    """RCAN's forward (yulunzhang/RCAN model/rcan.py: RCAB = conv-ReLU-conv-CA + x; group =
    RCABs + conv + x; body conv + global skip) on [0, 255] inputs."""
    x = conv(sd, "head.0", conv(sd, "sub_mean", x255))
    res = x
    for g in range(n_groups):
        r = res
        for b in range(n_blocks):
            p = f"body.{g}.body.{b}.body"
            y = conv(sd, f"{p}.2", F.relu(conv(sd, f"{p}.0", r)))
            att = torch.sigmoid(conv(sd, f"{p}.3.conv_du.2",
                                     F.relu(conv(sd, f"{p}.3.conv_du.0", y.mean(dim=(2, 3), keepdim=True)))))
            r = y * att + r
        res = conv(sd, f"body.{g}.body.{n_blocks}", r) + res
    y = conv(sd, f"body.{n_groups}", res) + x
    steps = [3] if scale == 3 else [2] * (scale.bit_length() - 1)
    for j, f in enumerate(steps):
        y = F.pixel_shuffle(conv(sd, f"tail.0.{2 * j}", y), f)
    return conv(sd, "add_mean", conv(sd, "tail.1", y))
