"""FAKD: feature-affinity-based KD (He, Dai, Lu, Jiang, Xia; ICIP 2020).

Spatial affinity of a feature map F (C x H x W, one sample): normalise each position's
channel vector, F~_p = F_p / (||F_p||_2 + 1e-7), and A = F~^T F~ (HW x HW; A_pq = cosine
similarity of positions p and q). Channel counts need not match (teacher 256, student 64):
both affinity matrices are HW x HW. The loss, as in the official code
(github.com/Vincent-Hoo/Knowledge-Distillation-for-Super-resolution, train_edsr_SA_x2.sh:
--alpha 0.5 --feature_distilation_type 10*SA):

    L = rec_weight * L1(SR_S, HR) + ts_weight * L1(SR_S, SR_T)
        + fa_weight * sum_l mean |A_S^l - A_T^l|           (mean over N * HW * HW)

Defaults are the official ones: rec 0.5 and ts 0.5 (= 1 - alpha, alpha), fa 10 per position.
`ts_weight: 0, rec_weight: 1` gives "affinity + reconstruction" only.

Positions (`taps`). Default "thirds", the official code's (code/models/edsr.py, rcan.py; see
methods/_heads.py thirds_paths): the end of each third of the body, student 16 blocks split
5/5/6 -> body.4, body.9, body+head; teacher 32 blocks split 10/11/11 -> body.9, body.20,
body+head. The third feature is the body's output (trunk conv included) plus the head's: the
code adds the global skip in place (`res += x`) to the tensor it already stored, so its third
tap is after the skip; `body+head` reproduces that. "even" gives the earlier default, 3 evenly
spaced ResBlock outputs (student body.3, body.7, body.11; teacher body.7, body.15, body.23,
where ds/clsd attach their heads); student_paths / teacher_paths set any positions.

Pixel range. The official code computes every term on [0, 255] tensors (rgb_range 255): the two
L1 terms are 255x their [0, 1] values while the affinity term, built from normalised vectors,
is not, so `fa_weight` 10 means what it means there only at profile `pixel_range: 255`
(benchmarks/pixel_range.py). eps 1e-7 is the code's (feature_transformation.py).

Memory: the affinity matrices cost N * (HW)^2 floats per position: 48x48 LR patches, batch 16,
3 positions: about 1 GB.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmarks.errors import BenchError

from ._heads import TAPS, check_modules, check_pairing, paired_paths, tapped
from .base import LossTerms, Method, MethodConfig, register_method


def spatial_affinity(feat: Tensor, eps: float = 1e-7) -> Tensor:
    """(N, C, H, W) -> (N, HW, HW): cosine similarity between every pair of positions."""
    f = feat.flatten(2)
    f = f / (f.norm(dim=1, keepdim=True) + eps)
    return f.transpose(1, 2) @ f


@dataclasses.dataclass(frozen=True)
class FAKDConfig(MethodConfig):
    taps: str = "thirds"           # default positions: "thirds" (official code) | "even"
    student_paths: tuple = ()      # () = the `taps` positions
    teacher_paths: tuple = ()      # () = the `taps` positions
    fa_weight: float = 10.0        # per position, summed over positions (official 10*SA)
    rec_weight: float = 0.5        # L1(SR, HR); official 1 - alpha
    ts_weight: float = 0.5         # L1(SR, SR_teacher); official alpha = 0.5

    def __post_init__(self) -> None:
        if self.taps not in TAPS:
            raise ValueError(f"taps must be one of {TAPS}, got {self.taps!r}")
        check_pairing(self)


@register_method("fakd")
class FAKD(Method):
    """Student's spatial affinities matched to the teacher's at paired positions."""

    needs_teacher = True
    Config = FAKDConfig

    def __init__(self, student, cfg, ctx=None, inputs=None):
        super().__init__(student, cfg, ctx, inputs)
        self.student_paths, self.teacher_paths = paired_paths(cfg, student, self.teacher, cfg.taps)
        check_modules(student, self.student_paths)
        check_modules(self.teacher, self.teacher_paths)

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple[str, LossTerms]]:
        cfg: FAKDConfig = self.cfg  # type: ignore[assignment]
        with tapped(self.teacher, self.teacher_paths) as tap:
            sr_t = self.teacher_forward(lr)
            feats_t = tap.pop()
        with tapped(self.student, self.student_paths) as tap:
            sr = self.student(lr)
            feats_s = tap.pop()
        fa = torch.zeros((), device=sr.device)
        for ps, pt in zip(self.student_paths, self.teacher_paths):
            fs, ft = feats_s[ps], feats_t[pt]
            if fs.shape[-2:] != ft.shape[-2:]:
                raise BenchError(f"fakd: {ps} is {tuple(fs.shape[-2:])} but teacher {pt} is "
                                 f"{tuple(ft.shape[-2:])}; affinities need equal spatial sizes")
            fa = fa + F.l1_loss(spatial_affinity(fs), spatial_affinity(ft))
        terms: LossTerms = {"rec": cfg.rec_weight * F.l1_loss(sr, hr), "fa": cfg.fa_weight * fa}
        if cfg.ts_weight:
            terms["ts"] = cfg.ts_weight * F.l1_loss(sr, sr_t)
        yield "G", terms
