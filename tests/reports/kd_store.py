"""A stored KD matrix without training: scores, per-image scores and saved SR/HR images planted
so that every report feature has something to show and a known answer.

Rows (x2, embedded-test's four images, PSNR and SSIM): bicubic (-3 dB), a teacher (+1 dB), the
no-KD baseline, FAKD (+0.20 dB or more on every image: a real gain), CLSD (+/-0.05 dB alternating: no
real gain). The SR images differ from HR only inside PLANT (x, y, w, h), where each row has its
own grey level, so the automatic crop must land on PLANT. Image "chelsea" has the largest spread
of PSNR across the methods, "camera" the second largest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.matrix import load_matrix
from benchmarks.reporting import with_teachers
from benchmarks.runner import HR_DIR, RunContext
from benchmarks.scores import ImageScore, SetScore
from benchmarks.store import ResultStore, RunResult

KD_MATRIX = """
name: kdsynth
description: synthetic KD matrix for report tests
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr, ssim]
scales: [2]
seeds: {seeds}
default_profile: smoke
profiles:
  smoke: {{iterations: 4, batch_size: 2, patch_size: 8, lr: 1.0e-3}}
  paper: {{iterations: 8, batch_size: 2, patch_size: 8, lr: 1.0e-3}}
students:
  tiny: {{arch: edsr, num_blocks: 2, num_feat: 8}}
teachers:
  teach: {{arch: edsr, num_blocks: 2, num_feat: 16}}
methods:
  - {{method: baseline, label: {baseline_label}}}
  - {{method: fakd, label: FAKD, teacher: teach}}
  - {{method: clsd, label: CLSD, id: {clsd_id}}}
references:
  - {{label: Bicubic, arch: bicubic}}
{extra}"""

IMAGES = ("astronaut", "camera", "chelsea", "coffee")
DISPLAY = "embedded-test"
BASE_PSNR = {"astronaut": 30.0, "camera": 27.0, "chelsea": 31.0, "coffee": 29.0}
PLANT = (40, 24, 20, 20)
SIZE = (96, 128)  # h, w of the synthetic HR images
OFFSET = {"bicubic": -3.0, "teacher": 1.0, "baseline": 0.0, "fakd": 0.2}
BONUS = {"astronaut": 0.0, "camera": 0.15, "chelsea": 0.3, "coffee": 0.0}  # spread: chelsea > camera
LEVEL = {"bicubic": 30, "teacher": 150, "baseline": 90, "fakd": 200, "clsd": 250}


def psnr_of(row_id: str, image: str, seed: int) -> float:
    """The planted PSNR of a row on an image; a seed shifts every row alike (gains stay exact).
    FAKD gains 0.2 dB plus BONUS on every image; CLSD alternates +/-0.05 dB."""
    if row_id == "clsd":
        gain = 0.05 if IMAGES.index(image) % 2 == 0 else -0.05
    else:
        gain = OFFSET[row_id] + (BONUS[image] if row_id == "fakd" else 0.0)
    return BASE_PSNR[image] + gain + 0.01 * seed


def ssim_of(row_id: str, image: str, seed: int) -> float:
    return 0.8 + (psnr_of(row_id, image, seed) - 30.0) / 100.0


def _png(path: Path, img: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


def hr_image(image: str) -> np.ndarray:
    h, w = SIZE
    yy, xx = np.mgrid[0:h, 0:w]
    base = (xx * 255 // w + IMAGES.index(image) * 13) % 256
    return np.stack([base, (yy * 255 // h), np.full_like(base, 120)], axis=-1).astype(np.uint8)


def sr_image(row_id: str, image: str) -> np.ndarray:
    img = hr_image(image).copy()
    x, y, w, h = PLANT
    img[y:y + h, x:x + w] = LEVEL[row_id]
    return img


def row_of(spec) -> str:
    """The planted row a spec is: bicubic, teacher, or its method (whatever its row id)."""
    if spec.id == "teacher":
        return "teacher"
    return "bicubic" if spec.is_reference else spec.method


def build(root: Path, seeds: tuple[int, ...] = (0,), baseline_label: str = "Student (no KD)", extra: str = "",
          failed: tuple[str, ...] = (), clsd_id: str = "clsd") -> tuple[Path, Path]:
    """Write the matrix YAML and a results folder under `root`; returns (matrix path, results dir).
    Rows whose method is in `failed` are stored as failed runs (no scores); `clsd_id` is the CLSD
    row's id (untrusted text in the browser tests)."""
    import json

    root.mkdir(parents=True, exist_ok=True)
    path = root / "kdsynth.yaml"
    path.write_text(KD_MATRIX.format(seeds=list(seeds), baseline_label=json.dumps(baseline_label), extra=extra,
                                     clsd_id=json.dumps(clsd_id)))
    results = root / "results"
    store = ResultStore(results / "results.sqlite")
    ctx = RunContext(results_dir=results)
    specs = with_teachers(load_matrix(str(path)).expand())
    for spec in specs:
        row = row_of(spec)
        if row in failed:
            store.put(RunResult(key=spec.key(), spec=spec, status="failed",
                                error="RuntimeError: planted failure\nTraceback ..."))
            continue
        per_image = [ImageScore(DISPLAY, im, "psnr", psnr_of(row, im, spec.seed)) for im in IMAGES]
        per_image += [ImageScore(DISPLAY, im, "ssim", ssim_of(row, im, spec.seed)) for im in IMAGES]
        sets = tuple(SetScore(DISPLAY, m, float(np.mean([s.value for s in per_image if s.metric == m])))
                     for m in ("psnr", "ssim"))
        params = 0 if spec.is_reference and row != "teacher" else (50_000 if row == "teacher" else 12_000)
        store.put(RunResult(key=spec.key(), spec=spec, status="ok", params=params,
                            train_seconds=None if params == 0 else 10.0 + len(row),
                            teacher_seconds=None, set_scores=sets, image_scores=tuple(per_image),
                            conditions=json.dumps({"hardware": "CPU: synthetic", "git_revision": "abc123"})))
        for im in IMAGES:
            _png(ctx.sr_dir(spec.model) / DISPLAY / "x2" / f"{im}.png", sr_image(row, im))
    for im in IMAGES:
        _png(results / HR_DIR / DISPLAY / "x2" / f"{im}.png", hr_image(im))
    return path, results
