"""Training precision: fp32, tf32, bf16 or fp16 autocast, with fp32 master weights.

Autocast wraps the method's forwards and losses only; weights and optimizer state stay fp32.
fp16 gets one GradScaler per parameter group (a discriminator's overflow must not skip the
generator's step). Evaluation never goes through here: it is always fp32.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Callable, ContextManager, Iterable, Iterator

import torch

from .errors import BenchError

PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
_AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclasses.dataclass(frozen=True)
class Precision:
    """How the trainer computes: the autocast dtype (if any) and whether fp32 matmuls/convs may use TF32."""

    name: str = "fp32"

    def __post_init__(self) -> None:
        if self.name not in PRECISIONS:
            raise BenchError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.name!r}")

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return _AUTOCAST.get(self.name)

    def forward_context(self, device: torch.device) -> Callable[[], ContextManager] | None:
        """A factory of autocast contexts for `train_step`, or None for fp32/tf32."""
        dtype = self.autocast_dtype
        if dtype is None:
            return None
        return lambda: torch.autocast(device_type=device.type, dtype=dtype)

    def scalers(self, groups: Iterable[str], device: torch.device) -> dict[str, torch.amp.GradScaler] | None:
        """One GradScaler per parameter group for fp16; None otherwise (bf16 needs no scaling)."""
        if self.name != "fp16":
            return None
        return {g: torch.amp.GradScaler(device.type) for g in groups}

    @contextlib.contextmanager
    def backend_flags(self, device: torch.device) -> Iterator[None]:
        """TF32 on only for `tf32` (plain fp32 means IEEE fp32, including cuDNN convolutions, whose
        TF32 torch enables by default); cudnn.benchmark on CUDA. Restored afterwards, so an
        evaluation in the same process runs with the flags it had."""
        saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
                 torch.backends.cudnn.benchmark)
        tf32 = self.name == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cudnn.benchmark = device.type == "cuda"
        try:
            yield
        finally:
            (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.benchmark) = saved
