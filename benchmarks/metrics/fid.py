"""FID on SR test sets: the whole-image variant (`fid`) and a patch variant (`fid-patch`).

Both use pytorch-fid's InceptionV3 (the port of the TF FID network, pool3, 2048 features; its
own bilinear resize to 299x299 and [-1, 1] scaling) on the SR and HR images after shaving
`crop_border` pixels, and are set-level: `MetricResult.per_image` is None, `note` says which
variant and how many samples made the number.

* ``fid`` — one sample per image, the whole image resized to 299x299 (what the ESRGAN paper
  and pytorch-fid on a folder of test images report).
* ``fid-patch`` — the images cut into non-overlapping 64x64 patches on a grid from the
  top-left corner (remainders dropped), one sample per patch (each resized to 299x299 by the
  network). This is the patch FID used for small test sets of large images (e.g. Mentzer et
  al., HiFiC 2020, with 256x256 patches on megapixel images); 64 px is chosen here because
  SR test images are only 256-512 px: B100 then gives ~2,800 samples per set (more than the
  2,048 features), Set14 ~500, Set5 ~180, instead of 100/14/5 whole images.

A test set of 5-100 images is far too small for a stable FID: with fewer samples than 2,048
features the covariances are rank-deficient and the value is biased upwards and depends on N.
Compare FIDs only between methods on the same set, variant and crop.

The Fréchet distance itself is evaluated with the exact identity
``tr sqrt(S1 S2) = ||A B^T||_*`` (nuclear norm), where ``S1 = A^T A`` and ``S2 = B^T B`` are the
sample covariances written with the centred, (N-1)^-1/2-scaled features. It gives the value of
``pytorch_fid.fid_score.calculate_frechet_distance`` (checked in the tests) without its scipy
``sqrtm`` of a 2048x2048 matrix, which takes ~50 s per call on a 2-core CPU.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict

import numpy as np

from . import Metric, MetricResult, register_metric
from . import runtime, weights

PATCH_SIZE = 64
FEATURE_DIM = 2048
_CACHE_ROWS = 8192  # activations kept per process (float32, ~64 MB)


def frechet_distance(feats1: np.ndarray, feats2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (rows = samples)."""
    a = np.asarray(feats1, dtype=np.float64)
    b = np.asarray(feats2, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("FID needs at least 2 samples per set")
    mu1, mu2 = a.mean(0), b.mean(0)
    a = (a - mu1) / math.sqrt(len(a) - 1)
    b = (b - mu2) / math.sqrt(len(b) - 1)
    # S = A^T A; replace A by its R factor when it has more rows than columns (same A^T A)
    if a.shape[0] > a.shape[1]:
        a = np.linalg.qr(a, mode="r")
    if b.shape[0] > b.shape[1]:
        b = np.linalg.qr(b, mode="r")
    tr_covmean = np.linalg.svd(a @ b.T, compute_uv=False).sum()
    diff = mu1 - mu2
    return float(diff @ diff + (a * a).sum() + (b * b).sum() - 2.0 * tr_covmean)


def patches(img: np.ndarray, size: int) -> list[np.ndarray]:
    """Non-overlapping size x size patches on a grid from the top-left (remainders dropped)."""
    h, w = img.shape[:2]
    return [img[y:y + size, x:x + size] for y in range(0, h - size + 1, size)
            for x in range(0, w - size + 1, size)]


class FID(Metric):
    lower_better = True
    needs_ref = True
    set_level = True
    value_range = (0.0, math.inf)
    tolerance = 2.0
    batch = 16

    def __init__(self, name: str, patch_size: int | None = None):
        self.name = name
        self.patch_size = patch_size
        self._cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._cached_rows = 0

    def model(self):
        wf = weights.FID_INCEPTION
        path = weights.resolve(self.name, wf)
        dev = runtime.device()

        def build():
            from pytorch_fid.inception import InceptionV3

            with weights.hub_checkpoints({wf.filename: path}):
                m = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIM]])
            return m.to(dev).eval()

        return runtime.cached_model(("fid-inception", str(path), str(dev)), build), (str(path), str(dev))

    def _samples(self, img: np.ndarray) -> list[np.ndarray]:
        return [img] if self.patch_size is None else patches(img, self.patch_size)

    def activations(self, imgs: list[np.ndarray]) -> list[np.ndarray]:
        """Per image, its samples' (n, 2048) pool3 features; cached by image content."""
        import torch

        model, model_key = self.model()
        dev = runtime.device()
        keys = [(model_key, self.patch_size, img.shape,
                 hashlib.sha1(np.ascontiguousarray(img).tobytes()).hexdigest()) for img in imgs]
        todo = [i for i, k in enumerate(keys) if k not in self._cache]
        samples, owner = [], []
        for i in todo:
            s = self._samples(imgs[i])
            samples += s
            owner += [i] * len(s)
        feats = np.zeros((len(samples), FEATURE_DIM), np.float32)
        for idx in runtime.shape_batches([s.shape for s in samples], self.batch):
            with torch.no_grad():
                out = model(runtime.to_tensor([samples[j] for j in idx], dev))[0]
            feats[idx] = out.reshape(len(idx), -1).cpu().numpy()
        owner_arr = np.asarray(owner, dtype=np.int64)
        fresh = {i: feats[owner_arr == i] for i in todo}
        for i in todo:
            self._remember(keys[i], fresh[i])
        return [fresh[i] if i in fresh else self._cache[keys[i]] for i in range(len(imgs))]

    def _remember(self, key: tuple, value: np.ndarray) -> None:
        if key in self._cache:
            return
        self._cache[key] = value
        self._cached_rows += len(value)
        while self._cached_rows > _CACHE_ROWS and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cached_rows -= len(old)

    def variant(self) -> str:
        if self.patch_size is None:
            return "whole-image FID (each image resized to 299x299)"
        return (f"patch FID (non-overlapping {self.patch_size}x{self.patch_size} patches, "
                "each resized to 299x299)")

    def score(self, srs, hrs, crop_border: int = 0) -> MetricResult:
        if hrs is None:
            raise ValueError(f"metric {self.name!r} needs reference images")
        a = [runtime.shave(runtime.as_rgb(s), crop_border) for s in srs]
        b = [runtime.shave(runtime.as_rgb(h), crop_border) for h in hrs]
        feats = self.activations(a + b)  # one pass: SR and HR samples share batches
        empty = np.zeros((0, FEATURE_DIM), np.float32)
        fa = np.concatenate(feats[:len(a)]) if a else empty
        fb = np.concatenate(feats[len(a):]) if b else empty
        note = f"{self.name}: {self.variant()}, crop {crop_border}, {len(fa)} SR / {len(fb)} HR samples"
        if min(len(fa), len(fb)) < 2:
            return MetricResult(None, float("nan"), note + "; fewer than 2 samples: not computed")
        if min(len(fa), len(fb)) <= FEATURE_DIM:
            note += f"; fewer samples than {FEATURE_DIM} features: unstable, compare on the same set only"
        return MetricResult(None, frechet_distance(fa, fb), note)


register_metric(FID("fid"))
register_metric(FID("fid-patch", patch_size=PATCH_SIZE))
