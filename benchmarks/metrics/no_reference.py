"""No-reference perceptual metrics through pyiqa: NIQE, NRQM (Ma et al.) and PI.

Channel: all three score the Y channel of BT.601 YCbCr (pyiqa ``color_space='ycbcr'``, Y
rounded to integers as MATLAB does on uint8 images), after shaving `crop_border` pixels.
That is the PIRM 2018 convention that defines PI (``calc_scores.m``: rgb2ycbcr, Y, shave) and
matches the SR convention's channel. pyiqa's own `niqe`/`nrqm` defaults use YIQ's Y instead
(MATLAB's rgb2gray, what the official NIQE release scores); `NIQE(color_space='yiq')` gives
that variant (used by the calibration test against the official values).

PI = 0.5 * ((10 - NRQM) + NIQE) (Blau et al. 2018; SRGAN-KD paper eq. 3), computed from the
two metrics here (the same crop and channel for both). Lower is better.

NIQE needs at least one 96x96 block; images smaller than that after the crop score NaN
(reported in the result's note) rather than failing the whole set.

Per-image values are cached per process by image content (and crop, channel, weight file,
device): asking for nrqm and pi (or niqe and pi) on the same images computes NRQM (~25 CPU-s
per 500x500 image) once.
"""

from __future__ import annotations

import hashlib
import math
from typing import Hashable, Sequence

import numpy as np

from . import Metric, MetricResult, register_metric
from . import runtime, weights

NIQE_MIN_SIZE = 96  # one NIQE block (pyiqa/MATLAB: block_size 96)
NRQM_MIN_SIZE = 96  # kept equal to NIQE so PI never mixes a NaN with a value
_VALUE_CACHE_MAX = 100_000
_values: dict[tuple, float] = {}


def _prepare(srs: Sequence[np.ndarray], crop_border: int) -> list[np.ndarray]:
    return [runtime.shave(runtime.as_rgb(s), crop_border) for s in srs]


def _run_pyiqa(model, model_key: Hashable, imgs: list[np.ndarray], min_size: int,
               batch: int) -> np.ndarray:
    """Per-image values (NaN below `min_size`), computed only for images not seen before."""
    import torch

    dev = runtime.device()
    out = np.full(len(imgs), np.nan)
    keys = [(model_key, im.shape, hashlib.sha1(np.ascontiguousarray(im).tobytes()).hexdigest())
            for im in imgs]
    todo = []
    for i, im in enumerate(imgs):
        if min(im.shape[:2]) < min_size:
            continue
        if keys[i] in _values:
            out[i] = _values[keys[i]]
        else:
            todo.append(i)
    for group in runtime.shape_batches([imgs[i].shape for i in todo], batch):
        idx = [todo[g] for g in group]
        with torch.no_grad():
            vals = model(runtime.to_tensor([imgs[i] for i in idx], dev))
        out[idx] = vals.detach().reshape(-1).double().cpu().numpy()
    if len(_values) > _VALUE_CACHE_MAX:
        _values.clear()
    _values.update({keys[i]: float(out[i]) for i in todo})
    return out


def _result(values: np.ndarray, min_size: int, note: str = "") -> MetricResult:
    n_small = int(np.isnan(values).sum())
    notes = [note] if note else []
    if n_small:
        notes.append(f"{n_small} image(s) smaller than {min_size}x{min_size} after the crop: NaN, "
                     "left out of the mean")
    finite = values[~np.isnan(values)]
    mean = float(finite.mean()) if finite.size else float("nan")
    return MetricResult(tuple(float(v) for v in values), mean, "; ".join(notes))


class NIQE(Metric):
    name = "niqe"
    lower_better = True
    needs_ref = False
    value_range = (0.0, math.inf)
    tolerance = 0.1
    batch = 4

    def __init__(self, color_space: str = "ycbcr", name: str = "niqe"):
        self.color_space = color_space
        self.name = name

    def model_and_key(self, label: str | None = None):
        path = weights.resolve(label or self.name, weights.NIQE_PARAMS)
        dev = runtime.device()
        key = ("niqe", str(path), self.color_space, str(dev))

        def build():
            import pyiqa

            return pyiqa.create_metric("niqe", device=dev, color_space=self.color_space,
                                       pretrained_model_path=str(path))

        return runtime.cached_model(key, build), key

    def model(self, label: str | None = None):
        return self.model_and_key(label)[0]

    def values(self, imgs: list[np.ndarray], label: str | None = None) -> np.ndarray:
        return _run_pyiqa(*self.model_and_key(label), imgs, NIQE_MIN_SIZE, self.batch)

    def score(self, srs, hrs=None, crop_border: int = 0) -> MetricResult:
        return _result(self.values(_prepare(srs, crop_border)), NIQE_MIN_SIZE,
                       f"Y of {self.color_space}, crop {crop_border}")


class NRQM(Metric):
    """Ma et al.'s NRQM ("Ma score"), 0..10, higher is better. Random forests run on the CPU."""

    name = "nrqm"
    lower_better = False
    needs_ref = False
    value_range = (0.0, 10.0)
    tolerance = 0.1
    batch = 4

    def __init__(self, color_space: str = "ycbcr", name: str = "nrqm"):
        self.color_space = color_space
        self.name = name

    def model_and_key(self, label: str | None = None):
        path = weights.resolve(label or self.name, weights.NRQM_MODEL)
        dev = runtime.device()
        key = ("nrqm", str(path), self.color_space, str(dev))

        def build():
            import pyiqa

            return pyiqa.create_metric("nrqm", device=dev, color_space=self.color_space,
                                       pretrained_model_path=str(path))

        return runtime.cached_model(key, build), key

    def model(self, label: str | None = None):
        return self.model_and_key(label)[0]

    def values(self, imgs: list[np.ndarray], label: str | None = None) -> np.ndarray:
        return _run_pyiqa(*self.model_and_key(label), imgs, NRQM_MIN_SIZE, self.batch)

    def score(self, srs, hrs=None, crop_border: int = 0) -> MetricResult:
        return _result(self.values(_prepare(srs, crop_border)), NRQM_MIN_SIZE,
                       f"Y of {self.color_space}, crop {crop_border}")


class PI(Metric):
    """Perceptual Index 0.5 * ((10 - NRQM) + NIQE), from this module's NRQM and NIQE."""

    name = "pi"
    lower_better = True
    needs_ref = False
    value_range = (0.0, math.inf)  # NRQM in [0, 10], NIQE >= 0; in practice ~1..~15
    tolerance = 0.1

    def __init__(self, niqe: NIQE, nrqm: NRQM):
        self.niqe = niqe
        self.nrqm = nrqm

    def score(self, srs, hrs=None, crop_border: int = 0) -> MetricResult:
        # both files are checked before either (slow) metric runs
        for wf in weights.WEIGHT_FILES[self.name]:
            weights.resolve(self.name, wf)
        imgs = _prepare(srs, crop_border)
        ma = self.nrqm.values(imgs, label=self.name)
        niqe = self.niqe.values(imgs, label=self.name)
        return _result(0.5 * ((10.0 - ma) + niqe), NIQE_MIN_SIZE,
                       f"0.5*((10-NRQM)+NIQE), Y of {self.niqe.color_space}, crop {crop_border}")


_niqe = register_metric(NIQE())
_nrqm = register_metric(NRQM())
register_metric(PI(_niqe, _nrqm))
