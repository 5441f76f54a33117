"""Baseline: the student trained from scratch with L1 to the HR image (no distillation)."""

from __future__ import annotations

from typing import Iterator

import torch.nn.functional as F
from torch import Tensor

from .base import LossTerms, Method, register_method


@register_method("baseline")
class Baseline(Method):
    """L_SR = mean |SR - HR|, the EDSR training loss."""

    def losses(self, lr: Tensor, hr: Tensor, step: int) -> Iterator[tuple[str, LossTerms]]:
        yield "G", {"l1": F.l1_loss(self.student(lr), hr)}
