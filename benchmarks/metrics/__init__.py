"""Image-quality metrics by name; each knows its direction, whether it needs a reference, its range,
its default check tolerance and its display label.

`get_metric("psnr").score(srs, hrs, crop_border=s)` scores lists of uint8 HxWx3 RGB images
(sizes may differ between images) and returns per-image values and the set's mean. Metrics
whose weights are missing raise MetricUnavailable: callers record "not computed", never zero.

Registered: psnr, ssim (SR convention, `sr_convention`), niqe, nrqm, pi (pyiqa,
`no_reference`), lpips, lpips-vgg (lpips, `lpips_metric`), fid, fid-patch (pytorch-fid,
`fid`). Learned metrics run on cuda when available (`configure(device=...)` or BENCH_DEVICE
overrides) and find their weight files as described in `weights` (`configure(weights_dir=...)`
or BENCH_WEIGHTS_DIR). `score_all` scores several metrics and records the unavailable ones.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from ..errors import MissingFileError
from ..registry import Registry


class MetricUnavailable(MissingFileError):
    """A metric cannot be computed here (e.g. its weight file is missing offline)."""


@dataclasses.dataclass(frozen=True)
class MetricResult:
    per_image: tuple[float, ...] | None  # None for set-level metrics such as FID
    mean: float
    note: str = ""  # how the number was made, when that is not obvious (e.g. FID variant)


class Metric:
    """Base: per-image metrics override `score_one`; set-level metrics override `score`."""

    name: str = ""
    lower_better: bool = False
    needs_ref: bool = True
    value_range: tuple[float, float] = (-np.inf, np.inf)
    set_level: bool = False
    #: Default absolute tolerance of `bench check` (in the metric's unit; dB for PSNR); None = no
    #: default, the metric is checked only when a tolerance is given (--tolerance/--tolerances).
    tolerance: float | None = None

    @property
    def label(self) -> str:
        """Display label in reports (tables, plot axes): the upper-case name unless a metric sets one."""
        return self.name.upper()

    def score_one(self, sr: np.ndarray, hr: np.ndarray | None, crop_border: int) -> float:
        raise NotImplementedError

    def score(self, srs: Sequence[np.ndarray], hrs: Sequence[np.ndarray] | None,
              crop_border: int = 0) -> MetricResult:
        if self.needs_ref and hrs is None:
            raise ValueError(f"metric {self.name!r} needs reference images")
        refs = hrs if hrs is not None else [None] * len(srs)
        values = tuple(float(self.score_one(s, h, crop_border)) for s, h in zip(srs, refs))
        return MetricResult(values, float(np.mean(values)) if values else float("nan"))


METRICS: Registry[Metric] = Registry("metric")


def register_metric(metric: Metric) -> Metric:
    METRICS.add(metric.name, metric)
    return metric


def get_metric(name: str) -> Metric:
    return METRICS.get(name)


def configure(weights_dir: str | None = None, device: str | None = None) -> None:
    """Set the weights directory (the CLI's --weights-dir) and/or the torch device."""
    from . import runtime, weights

    if weights_dir is not None:
        weights.set_weights_dir(weights_dir)
    if device is not None:
        runtime.set_device(device)


def score_all(names: Sequence[str], srs: Sequence[np.ndarray], hrs: Sequence[np.ndarray] | None,
              crop_border: int = 0) -> tuple[dict[str, MetricResult], dict[str, str]]:
    """Score every metric it can: (results by name, one-line reason by name for the others).

    Metrics needing a reference are reported as not computed when `hrs` is None. Unknown names
    raise BenchError before anything runs.
    """
    metrics = [get_metric(n) for n in names]
    results: dict[str, MetricResult] = {}
    missing: dict[str, str] = {}
    for m in metrics:
        if m.needs_ref and hrs is None:
            missing[m.name] = f"metric {m.name!r}: needs reference images"
            continue
        try:
            results[m.name] = m.score(srs, hrs, crop_border)
        except MetricUnavailable as exc:
            missing[m.name] = str(exc)
    return results, missing


def _register_builtin() -> None:
    # Discovered, not listed: a new metric module registers itself and re-keys no existing cell
    # (benchmarks/graph/codeversion.py follows static imports only).
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if info.name not in _HELPERS and not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_HELPERS = {"runtime", "standins", "weights"}  # modules that register no metric
_register_builtin()
