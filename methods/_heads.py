"""Shared plumbing for feature-based methods: default feature positions, student/teacher
path pairing (fakd, lsfd), shape probing, per-step feature taps, and the projection heads of
deep supervision (ds, clsd).

Feature positions. `block_paths(model, k)` spreads k taps evenly over the residual body:
with B ResBlocks it returns `body.{round(B*j/(k+1)) - 1}` for j = 1..k, i.e. the outputs of
blocks B/4, B/2, 3B/4 for k = 3 (EDSR-baseline B = 16: body.3, body.7, body.11; the 32-block
teacher: body.7, body.15, body.23). ds/clsd attach their heads there ("T = 3 for a fair
comparison with existing KD", CLSD paper, sec. III.1), and lsfd distils there by default.
`thirds_paths(model)` gives the FAKD code's taps instead (end of each body third, the last
after the global skip; fakd's default): 16 blocks body.4, body.9, body+head; 32 blocks
body.9, body.20, body+head. A path `a+b` taps the sum of two modules' outputs (SumTap).

Projection head (ds, clsd). The CLSD paper: "each PH is 5 EDSR ResBlocks with 64 channels
(the student's width)"; whether a PH has its own reconstruction tail is not stated. Choice
here: yes, each head = [3x3 entry conv only if head_feat != the tapped width] -> head_blocks
EDSR ResBlocks (the student's res_scale) -> its own tail (pixel-shuffle Upsampler + 3x3 conv
to RGB, EDSR's tail layout, freshly initialised, not shared with the student) -> the
student's frozen `add_mean` and `/ rgb_range` when the student has them, so head outputs live
in the same [0, 1] space as the student's SR. No extra global skip: the tapped feature
already carries EDSR's residual stream. Heads live beside the student in the Method and are
dropped at inference (`sr_model()` is the bare student).
"""

from __future__ import annotations

import contextlib
import re
from typing import Iterator, Sequence

import torch
from torch import Tensor, nn

from benchmarks.archs.edsr import ResBlock, Upsampler
from benchmarks.errors import BenchError
from benchmarks.pixel_range import io_range

from .hooks import FeatureTap


def num_body_blocks(model: nn.Module) -> int:
    """Residual blocks in `model.body` (EDSR layout: B blocks followed by one trunk conv)."""
    body = getattr(model, "body", None)
    if not isinstance(body, nn.Sequential) or len(body) < 2:
        raise BenchError(f"{type(model).__name__} has no EDSR-style `body` (blocks + trunk conv); "
                         "give the feature paths explicitly")
    return len(body) - 1


def block_paths(model: nn.Module, count: int) -> tuple[str, ...]:
    """`count` evenly spaced ResBlock outputs: body.{round(B*j/(count+1)) - 1}, j = 1..count
    (rounding half up; 16 blocks: body.3/7/11, 32: body.7/15/23, 6: body.1/2/4)."""
    blocks = num_body_blocks(model)
    if count > blocks:
        raise BenchError(f"cannot place {count} taps on a body of {blocks} blocks")
    at = [(blocks * j + (count + 1) // 2) // (count + 1) for j in range(1, count + 1)]  # half up
    return tuple(f"body.{max(0, a - 1)}" for a in at)


def thirds_paths(model: nn.Module) -> tuple[str, ...]:
    """The FAKD code's three taps (code/models/edsr.py, rcan.py at Vincent-Hoo/Knowledge-
    Distillation-for-Super-resolution): the end of each third of the body, the last one after
    the global skip.

    EDSR: the body's B blocks split [B//3, 2B//3 - B//3, B - 2B//3] (16: 5/5/6, 32: 10/11/11),
    taps body.{B//3 - 1}, body.{2B//3 - 1} and `body+head` (the third ends with the trunk conv,
    and the code's in-place `res += x` makes its stored feature body output + head output).
    RCAN: the code taps after residual groups 3 and 7 of 10 (hard-coded `group_id == 2 or 6`)
    and after the body-tail conv + skip; other group counts n keep those relative depths,
    groups round(3n/10) and round(7n/10).
    """
    n = num_body_blocks(model)
    if type(model).__name__ == "RCAN":
        a, b = round(3 * n / 10), round(7 * n / 10)
    else:
        a, b = n // 3, (2 * n) // 3
    return f"body.{max(0, a - 1)}", f"body.{max(0, b - 1)}", "body+head"


class SumTap:
    """A FeatureTap whose paths may add module outputs: `body+head` is output(body) +
    output(head) (EDSR's feature after the global skip); a plain path is the module's output."""

    def __init__(self, model: nn.Module, paths: Sequence[str]):
        self.paths = list(paths)
        self._parts = {p: p.split("+") for p in self.paths}
        self._tap = FeatureTap(model, list(dict.fromkeys(q for p in self.paths for q in self._parts[p])))

    def pop(self) -> dict[str, Tensor]:
        feats = self._tap.pop()
        out = {}
        for path in self.paths:
            first, *rest = self._parts[path]
            out[path] = feats[first]
            for part in rest:
                out[path] = out[path] + feats[part]
        return out

    def remove(self) -> None:
        self._tap.remove()


@contextlib.contextmanager
def tapped(model: nn.Module, paths: Sequence[str]) -> Iterator[SumTap]:
    """A SumTap that lives for one `with` block, so the evaluated/saved model and a shared
    teacher never carry this method's hooks (or hold its features) outside a training step."""
    tap = SumTap(model, paths)
    try:
        yield tap
    finally:
        tap.remove()


def check_modules(model: nn.Module, paths: Sequence[str]) -> None:
    """Fail fast (BenchError naming the path) if a feature path is not a module of `model`."""
    SumTap(model, paths).remove()


@torch.no_grad()
def probe(model: nn.Module, paths: Sequence[str], size: int = 8) -> tuple[list[int], int]:
    """Channel count of the features at `paths` and the model's scale, from one tiny forward."""
    param = next(model.parameters())
    x = torch.zeros(1, 3, size, size, device=param.device, dtype=param.dtype)
    with tapped(model, paths) as tap:
        out = model(x)
        feats = tap.pop()
    return [feats[p].shape[1] for p in paths], out.shape[-1] // size


def res_scale_of(model: nn.Module) -> float:
    for module in model.modules():
        if hasattr(module, "res_scale"):
            return float(module.res_scale)
    return 1.0


class ProjectionHead(nn.Module):
    """Auxiliary SR branch: [entry conv] -> `num_blocks` ResBlocks -> Upsampler -> conv(3)."""

    def __init__(self, in_feat: int, num_feat: int, num_blocks: int, scale: int,
                 res_scale: float = 1.0):
        super().__init__()
        self.entry = (nn.Conv2d(in_feat, num_feat, 3, padding=1) if in_feat != num_feat
                      else nn.Identity())
        self.blocks = nn.Sequential(*[ResBlock(num_feat, res_scale) for _ in range(num_blocks)])
        self.tail = nn.Sequential(Upsampler(scale, num_feat), nn.Conv2d(num_feat, 3, 3, padding=1))

    def forward(self, x: Tensor) -> Tensor:
        return self.tail(self.blocks(self.entry(x)))


class AuxHeads(nn.Module):
    """The T projection heads of a student; `forward(lr)` returns (SR, [SR^1..SR^T])."""

    def __init__(self, student: nn.Module, paths: Sequence[str], head_blocks: int, head_feat: int):
        super().__init__()
        self.paths = tuple(paths)
        widths, scale = probe(student, self.paths) if self.paths else ([], 1)
        res_scale = res_scale_of(student)
        self.heads = nn.ModuleList(
            ProjectionHead(w, head_feat or w, head_blocks, scale, res_scale) for w in widths)
        # Borrowed (not registered) so the student's frozen mean shift is neither saved twice nor
        # counted as a head parameter.
        self._student = (student,)

    def _to_image(self, y: Tensor) -> Tensor:
        """A head's output in the student's image space: [0, 1], or [0, 255] while the student
        trains at pixel_range 255 (benchmarks.pixel_range)."""
        student = self._student[0]
        add_mean = getattr(student, "add_mean", None)
        if add_mean is not None:
            y = add_mean(y)
        return y * io_range(student) / getattr(student, "rgb_range", 1.0)

    def forward(self, lr: Tensor) -> tuple[Tensor, list[Tensor]]:
        student = self._student[0]
        if not self.paths:
            return student(lr), []
        with tapped(student, self.paths) as tap:
            sr = student(lr)
            feats = tap.pop()
        return sr, [self._to_image(head(feats[p])) for head, p in zip(self.heads, self.paths)]


_PATH = re.compile(r"^[A-Za-z_]\w*(\.\w+)*(\+[A-Za-z_]\w*(\.\w+)*)*$")


def check_paths(name: str, paths: Sequence[str]) -> None:
    """Config-time check that `paths` is a list of dotted module paths (resolved at build)."""
    for p in paths:
        if not isinstance(p, str) or not _PATH.match(p):
            raise ValueError(f"{name}: expected module paths like 'body.3' or sums like "
                             f"'body+head', got {p!r}")


def check_pairing(cfg) -> None:
    """Config-time checks shared by fakd and lsfd: `student_paths` and `teacher_paths` are
    module paths, and pair up one to one when both are given."""
    check_paths("student_paths", cfg.student_paths)
    check_paths("teacher_paths", cfg.teacher_paths)
    if cfg.student_paths and cfg.teacher_paths and len(cfg.student_paths) != len(cfg.teacher_paths):
        raise ValueError("student_paths and teacher_paths must pair up one to one")


#: Default feature positions of fakd / lsfd (`taps`): "thirds" = the FAKD code's (thirds_paths),
#: "even" = evenly spaced ResBlock outputs (block_paths), where ds/clsd attach their heads.
TAPS = ("thirds", "even")


def paired_paths(cfg, student: nn.Module, teacher: nn.Module,
                 taps: str = "even") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Student/teacher feature paths: the config's, and for an empty side the `taps` defaults:
    the three thirds taps, or evenly spaced block outputs -- as many as the other side has (so
    one side given with other than 3 paths gets evenly spaced ones on the other, with any taps)."""
    given = cfg.student_paths or cfg.teacher_paths
    if taps == "thirds" and len(given) in (0, 3):
        return tuple(cfg.student_paths) or thirds_paths(student), tuple(cfg.teacher_paths) or thirds_paths(teacher)
    count = len(given) or 3
    return (tuple(cfg.student_paths) or block_paths(student, count),
            tuple(cfg.teacher_paths) or block_paths(teacher, count))
