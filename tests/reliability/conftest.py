"""Helpers of the reliability tests: a small matrix, `bench` in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = "import sys; from benchmarks.cli import main; sys.exit(main())"

# Three trained students (x2, x3, x4) and bicubic: enough cells for two processes to share.
MATRIX = """
name: reliability
description: tiny students for the reliability tests
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr]
scales: {scales}
seeds: [0]
default_profile: smoke
profiles:
  smoke: {{iterations: {iterations}, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: {every}, log_every: 5}}
students:
  tiny: {{arch: edsr, num_blocks: 1, num_feat: {feat}}}
methods:
  - {{method: baseline, label: Tiny}}
references:
  - {{label: Bicubic, arch: bicubic}}
"""


def write_matrix(folder: Path, scales=(2, 3, 4), iterations: int = 30, every: int = 5, name: str = "m.yaml",
                 feat: int = 4) -> Path:
    path = folder / name
    path.write_text(MATRIX.format(scales=list(scales), iterations=iterations, every=every, feat=feat))
    return path


def bench_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("BENCH_KILL_AT", None)
    env.update(extra)
    return env


def bench_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", BENCH, *args]


def run_args(matrix: Path, results: Path) -> list[str]:
    return ["run", "--matrix", str(matrix), "--results-dir", str(results), "--quiet", "--no-report", "--device", "cpu"]


def bench(*args: str, env: dict | None = None, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """`bench ARGS` in a fresh process (one torch thread), output captured."""
    return subprocess.run(bench_cmd(*args), check=False, capture_output=True, text=True, env=env or bench_env(), cwd=ROOT,
                          timeout=timeout, **kw)


@pytest.fixture(scope="session")
def single_run(tmp_path_factory) -> Path:
    """One uninterrupted, single-process run of the default test matrix: the reference store."""
    folder = tmp_path_factory.mktemp("single")
    matrix = write_matrix(folder)
    out = bench(*run_args(matrix, folder / "results"))
    assert out.returncode == 0, out.stdout + out.stderr
    return folder / "results" / "results.sqlite"
