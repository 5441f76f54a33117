"""Loss terms summed on the device between read-backs, so a training step never waits for the host.

The trainer adds each step's detached terms (device tensors); `read` copies the window's means to
the host in one transfer every `log_every` steps, and `check` (before each checkpoint) makes
sure no term went non-finite since the last good read, naming the term and the step range.
"""

from __future__ import annotations

import math
from typing import Mapping

import torch
from torch import Tensor

from .distributed import DistContext
from .errors import TrainingDiverged


class StepMeter:
    """Per-name sums and counts of the steps since the last read; at most one host sync per read."""

    def __init__(self, dist: DistContext | None = None, start_step: int = 0):
        self.dist = dist or DistContext()
        self.good_step = start_step  # the last step known to be finite
        self._sums: dict[str, Tensor] = {}
        self._counts: dict[str, int] = {}

    def add(self, values: Mapping[str, Tensor]) -> None:
        for name, value in values.items():
            value = value.detach().float()
            self._sums[name] = self._sums[name] + value if name in self._sums else value
            self._counts[name] = self._counts.get(name, 0) + 1

    def check(self, step: int) -> None:
        """Raise TrainingDiverged if a term summed since the last read is not finite (one sync)."""
        if not self._sums:
            return
        if not bool(torch.isfinite(self._stacked()).all()):
            self._fail(step, self._host())
        self.good_step = step

    def read(self, step: int) -> dict[str, float]:
        """The window's mean per name (averaged over ranks); raises TrainingDiverged on a NaN/inf."""
        if not self._sums:
            return {}
        means = self._host()
        if not all(math.isfinite(v) for v in means.values()):
            self._fail(step, means)
        self._sums.clear()
        self._counts.clear()
        self.good_step = step
        return means

    def _stacked(self) -> Tensor:
        counts = torch.tensor([self._counts[n] for n in self._sums], dtype=torch.float32)
        sums = torch.stack([s.reshape(()) for s in self._sums.values()])
        return self.dist.mean(sums / counts.to(sums.device))

    def _host(self) -> dict[str, float]:
        return dict(zip(self._sums, self._stacked().tolist()))

    def _fail(self, step: int, means: Mapping[str, float]) -> None:
        bad = ", ".join(name for name, v in means.items() if not math.isfinite(v))
        raise TrainingDiverged(f"loss term {bad} became non-finite between steps {self.good_step + 1} and {step}; "
                               f"the last checkpoint is kept (lower the learning rate?)")
