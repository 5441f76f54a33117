"""Fixtures of the metric tests: isolated library caches, calibration data, stand-in weights."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
NIQE_FILE = SHARED / "weights" / "metrics" / "niqe_modelparameters.mat"
OFFICIAL_CSV = SHARED / "data" / "iqa-calibration" / "results_official.csv"


def calibra_dir() -> Path | None:
    """pyiqa's wheel installs its calibration pairs as a top-level `ResultsCalibra` folder."""
    spec = importlib.util.find_spec("pyiqa")
    if spec is None or spec.origin is None:
        return None
    d = Path(spec.origin).resolve().parents[1] / "ResultsCalibra"
    return d if (d / "ref_dir").is_dir() and (d / "dist_dir").is_dir() else None


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors: one thread is as fast, and immune to OpenMP spin-waits on a busy machine
    (on a shared 2-core box 2 threads ran the same LPIPS call 15x slower than 1)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def isolated_weights(tmp_path, monkeypatch):
    """Empty library caches (TORCH_HOME in tmp), no downloads, no weights dir from outside."""
    from benchmarks.metrics import runtime, weights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv(weights.ENV_OFFLINE, "1")
    monkeypatch.delenv(weights.ENV_WEIGHTS_DIR, raising=False)
    monkeypatch.delenv(runtime.ENV_DEVICE, raising=False)
    weights.set_weights_dir(None)
    weights._failed_downloads.clear()
    yield
    weights.set_weights_dir(None)
    weights._failed_downloads.clear()


@pytest.fixture(scope="session")
def calibration():
    """(names, distorted images, reference images) from pyiqa's ResultsCalibra."""
    from PIL import Image

    d = calibra_dir()
    if d is None:
        pytest.skip("pyiqa's ResultsCalibra folder is not installed")
    names = sorted(p.name for p in (d / "dist_dir").iterdir())
    load = lambda p: np.asarray(Image.open(p).convert("RGB"))  # noqa: E731
    return names, [load(d / "dist_dir" / n) for n in names], [load(d / "ref_dir" / n) for n in names]


@pytest.fixture(scope="session")
def official():
    """metric -> {image: official value} from pyiqa's source release (in ../shared)."""
    if not OFFICIAL_CSV.is_file():
        pytest.skip("../shared/data/iqa-calibration/results_official.csv is not present")
    import pandas as pd

    df = pd.read_csv(OFFICIAL_CSV, index_col=0)
    return {m: row.to_dict() for m, row in df.iterrows()}


@pytest.fixture(scope="session")
def niqe_file() -> Path:
    if not NIQE_FILE.is_file():
        pytest.skip("../shared/weights/metrics/niqe_modelparameters.mat is not present")
    return NIQE_FILE


@pytest.fixture(scope="session")
def standin_dir(tmp_path_factory) -> Path:
    """A weights dir of stand-ins (NOT real weights) + the real NIQE file when available."""
    from benchmarks.metrics import standins

    d = tmp_path_factory.mktemp("standin_weights")
    standins.write_all(d)
    if NIQE_FILE.is_file():
        shutil.copy(NIQE_FILE, d / NIQE_FILE.name)
    return d


def synthetic_pairs(n: int = 3, size=(64, 80), seed: int = 0, grow: int = 4):
    """SR-like pairs: smooth random HR, SR = HR + noise (uint8); image i is `grow`*i px larger."""
    rng = np.random.default_rng(seed)
    hrs, srs = [], []
    for i in range(n):
        h, w = size[0] + grow * i, size[1] + grow * i
        base = rng.normal(128, 40, (h // 4 + 1, w // 4 + 1, 3))
        hr = np.repeat(np.repeat(base, 4, 0), 4, 1)[:h, :w] + rng.normal(0, 6, (h, w, 3))
        hr = np.clip(np.round(hr), 0, 255).astype(np.uint8)
        sr = np.clip(np.round(hr + rng.normal(0, 8, hr.shape)), 0, 255).astype(np.uint8)
        hrs.append(hr)
        srs.append(sr)
    return srs, hrs
