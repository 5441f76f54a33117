"""Slow: `bench eval` on the public checkpoints reproduces their published PSNR/SSIM.

Published values: ../shared/weights/pretrained/README.md (IMDN: the IMDN paper's table; CARN-M:
the standard-convention reference rows). Tolerances are the acceptance bounds of the
foundation issue: 0.01 dB and 0.0005 SSIM with official LR. CI covers Set5, Set14 and B100 at
every scale; Urban100 (minutes per model on a CPU) is measured with the same `bench eval` command.
"""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from benchmarks.cli import main
from tests.conftest import SHARED

PRETRAINED = SHARED / "weights" / "pretrained"
WEIGHTS = {("imdn", 2): "IMDN_x2.pth", ("imdn", 3): "IMDN_x3.pth", ("imdn", 4): "IMDN_x4.pth",
           ("carn-m", 2): "carn_m.pth", ("carn-m", 3): "carn_m.pth", ("carn-m", 4): "carn_m.pth"}
# (arch, scale) -> {dataset: (psnr, ssim)}
PUBLISHED = {
    ("imdn", 2): {"Set5": (38.00, 0.9605), "Set14": (33.63, 0.9177), "B100": (32.19, 0.8996)},
    ("imdn", 3): {"Set5": (34.36, 0.9270), "Set14": (30.32, 0.8417), "B100": (29.09, 0.8046)},
    ("imdn", 4): {"Set5": (32.21, 0.8948), "Set14": (28.58, 0.7811), "B100": (27.56, 0.7353)},
    ("carn-m", 2): {"Set5": (37.678, 0.9595), "Set14": (33.303, 0.9152), "B100": (31.979, 0.8972)},
    ("carn-m", 3): {"Set5": (34.058, 0.9248), "Set14": (30.102, 0.8377), "B100": (28.943, 0.8012)},
    ("carn-m", 4): {"Set5": (31.883, 0.8910), "Set14": (28.417, 0.7772), "B100": (27.453, 0.7315)},
}


@pytest.mark.slow
@pytest.mark.needs_shared
@pytest.mark.parametrize("arch, scale", sorted(PUBLISHED))
def test_bench_eval_reproduces_published(arch, scale, shared_data, tmp_path):
    if not PRETRAINED.is_dir():
        pytest.skip("../shared/weights/pretrained is not present")
    datasets = ["Set5", "Set14", "B100"]
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(main, [
        "eval", "--arch", arch, "--weights", str(PRETRAINED / WEIGHTS[arch, scale]), "--scale", str(scale),
        "--datasets", ",".join(datasets), "--data-dir", str(shared_data), "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    measured = {(r["dataset"], r["metric"]): float(r["value"]) for r in csv.DictReader(out.open())}
    for dataset in datasets:
        psnr, ssim = PUBLISHED[arch, scale][dataset]
        assert measured[dataset, "psnr"] == pytest.approx(psnr, abs=0.01), (dataset, "psnr")
        assert measured[dataset, "ssim"] == pytest.approx(ssim, abs=0.0005), (dataset, "ssim")
