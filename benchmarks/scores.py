"""Scores as evaluation returns them: per set (mean, or not computed with a note) and per image."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class SetScore:
    dataset: str
    metric: str
    value: float | None  # None: not computed (see note)
    note: str = ""


@dataclasses.dataclass(frozen=True)
class ImageScore:
    dataset: str
    image: str
    metric: str
    value: float
