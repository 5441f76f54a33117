"""Synthetic result frames for the reports tests: 2 methods + bicubic, 2 datasets, x2/x4, 2 seeds."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def _import_real_reports() -> None:
    """Make `import reports` mean the project's package, not tests/reports.

    With tests/ on sys.path (pytest's rootdir-based import of tests/*.py) and no project root
    there, the folder tests/reports shadows the package as a namespace package. Fallback
    until pytest is configured with `pythonpath = .` (or the import mode changes).
    """
    mod = sys.modules.get("reports")
    if mod is not None and getattr(mod, "__file__", None):
        return
    sys.modules.pop("reports", None)
    root = str(Path(__file__).resolve().parents[2])
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    import reports  # noqa: F401


_import_real_reports()

METRIC_INFO = {
    "psnr": {"lower_better": False, "label": "PSNR (dB)"},
    "lpips": {"lower_better": True, "label": "LPIPS"},
    "niqe": {"lower_better": True, "label": "NIQE"},
}

# (label, method, params, teacher_seconds, train_seconds); bicubic is eval-only
ROWS = [
    ("Bicubic", "bicubic", 0, np.nan, np.nan),
    ("EDSR 16x64 baseline", "baseline", 1_370_000, np.nan, 3600.0),
    ("EDSR 16x64 FAKD", "fakd", 1_370_000, 7200.0, 5400.0),
]
# psnr[label][(dataset, scale)] = (seed0, seed1); lpips derived so ranking differs
PSNR = {
    "Bicubic": {("Set5", 2): (33.66, 33.66), ("Set5", 4): (28.42, 28.42),
                ("Set14", 2): (30.24, 30.24), ("Set14", 4): (26.00, 26.00)},
    "EDSR 16x64 baseline": {("Set5", 2): (37.90, 37.94), ("Set5", 4): (32.10, 32.12),
                            ("Set14", 2): (33.40, 33.46), ("Set14", 4): (28.50, 28.56)},
    "EDSR 16x64 FAKD": {("Set5", 2): (37.96, 37.98), ("Set5", 4): (32.00, 32.04),
                        ("Set14", 2): (33.52, 33.54), ("Set14", 4): (28.52, 28.54)},
}
LPIPS = {  # lower is better; FAKD best on Set5, baseline best on Set14
    "Bicubic": {("Set5", 2): (0.30, 0.30), ("Set5", 4): (0.45, 0.45),
                ("Set14", 2): (0.35, 0.35), ("Set14", 4): (0.50, 0.50)},
    "EDSR 16x64 baseline": {("Set5", 2): (0.10, 0.12), ("Set5", 4): (0.20, 0.22),
                            ("Set14", 2): (0.14, 0.16), ("Set14", 4): (0.24, 0.26)},
    "EDSR 16x64 FAKD": {("Set5", 2): (0.08, 0.09), ("Set5", 4): (0.18, 0.19),
                        ("Set14", 2): (0.17, 0.18), ("Set14", 4): (0.27, 0.28)},
}


def make_frame(profile: str = "smoke", with_failed: bool = True) -> pd.DataFrame:
    """Long frame; NIQE is NaN everywhere (not computed) and one extra run failed."""
    records = []
    for label, method, params, t_sec, s_sec in ROWS:
        for seed in (0, 1):
            for scale in (2, 4):
                run_key = f"{method}-x{scale}-s{seed}"
                for dataset in ("Set5", "Set14"):
                    for metric, table in (("psnr", PSNR), ("lpips", LPIPS), ("niqe", None)):
                        value = table[label][(dataset, scale)][seed] if table else np.nan
                        records.append(dict(
                            run_key=run_key, matrix="quick", method=method, label=label,
                            arch="edsr", student="16x64", scale=scale, seed=seed,
                            profile=profile, dataset=dataset, metric=metric, value=value,
                            params=params + scale * 1000 if params else 0, train_seconds=s_sec,
                            teacher_seconds=t_sec, status="ok",
                            note="not computed: NRQM_model.mat missing" if metric == "niqe" else ""))
    if with_failed:
        records.append(dict(
            run_key="clsd-x4-s0", matrix="quick", method="clsd", label="EDSR 16x64 CLSD",
            arch="edsr", student="16x64", scale=4, seed=0, profile=profile, dataset="",
            metric="", value=np.nan, params=1_370_000, train_seconds=np.nan,
            teacher_seconds=np.nan, status="failed",
            note="TrainingDiverged: loss 'cs' became NaN at step 120"))
    return pd.DataFrame.from_records(records)


def make_published() -> pd.DataFrame:
    """Published PSNR of the synthetic paper: baseline and FAKD at x2, plus a paper-only row."""
    cells = [
        ("Baseline", "baseline", "Set5", 37.919, "37.919"),
        ("Baseline", "baseline", "Set14", 33.439, "33.439"),
        ("FAKD[9]", "fakd", "Set5", 37.976, "37.976"),
        ("FAKD[9]", "fakd", "Set14", 33.523, "33.523"),
        ("CLSD (ours)", "clsd_paper_only", "Set5", 37.977, "37.977"),
        ("CLSD (ours)", "clsd_paper_only", "Set14", 33.60, "33,60"),
    ]
    return pd.DataFrame([dict(paper="synth2024", table="table2", row=r, column=d, method=m,
                              dataset=d, scale=2, metric="psnr", value=v, text=t,
                              decimals=len(t.replace(",", ".").split(".")[1]))
                         for r, m, d, v, t in cells])


CONDITIONS = {
    "profile": "smoke",
    "hardware": "CPU: 2 cores (synthetic); GPU: none",
    "versions": {"torch": "2.3.0", "pandas": pd.__version__, "numpy": np.__version__},
    "git_revision": "26979b3deadbeef",
    "created": "2024-05-01T12:00:00+00:00",
    "command": "bench run --matrix quick --profile smoke",
    "data_dir": "/data/srkd",
    "notes": ["synthetic frame for tests <b>not bold</b>"],
}


@pytest.fixture
def metric_info() -> dict:
    return {k: dict(v) for k, v in METRIC_INFO.items()}


@pytest.fixture
def smoke_frame() -> pd.DataFrame:
    return make_frame("smoke")


@pytest.fixture
def paper_frame() -> pd.DataFrame:
    return make_frame("paper")


@pytest.fixture
def published() -> pd.DataFrame:
    return make_published()


@pytest.fixture
def conditions() -> dict:
    return dict(CONDITIONS)
