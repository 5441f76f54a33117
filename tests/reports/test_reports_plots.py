"""Plots render headless to valid, non-empty PNG files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from PIL import Image

from reports import plots


def _valid_png(path):
    assert path.exists() and path.stat().st_size > 1000
    with Image.open(path) as im:
        assert im.format == "PNG" and im.width > 100 and im.height > 100


def test_quality_vs_params(tmp_path, paper_frame, metric_info):
    _valid_png(plots.quality_vs_params(paper_frame, "psnr", tmp_path / "p.png", metric_info))


def test_quality_vs_hours(tmp_path, paper_frame, metric_info):
    hours = plots.training_hours(paper_frame).set_index(["label", "scale"])
    assert hours.at[("EDSR 16x64 FAKD", 2), "hours"] == (7200 + 5400) / 3600
    assert bool(hours.at[("EDSR 16x64 FAKD", 2), "with_teacher"])
    assert not bool(hours.at[("EDSR 16x64 baseline", 2), "with_teacher"])
    assert "Bicubic" not in hours.index.get_level_values(0)  # eval-only
    _valid_png(plots.quality_vs_hours(paper_frame, "lpips", tmp_path / "h.png", metric_info))


def test_plots_with_nothing_computed(tmp_path, paper_frame, metric_info):
    _valid_png(plots.quality_vs_params(paper_frame, "niqe", tmp_path / "n.png", metric_info))
    _valid_png(plots.quality_vs_hours(paper_frame, "niqe", tmp_path / "nh.png", metric_info))


def test_sweep_plot(tmp_path):
    data = pd.DataFrame({"ph_depth": [1, 1, 2, 2, 3, 3, 4, 4],
                         "value": [33.50, 33.52, 33.58, 33.60, 33.55, 33.57, 33.54, 33.52],
                         "dataset": ["Set14"] * 8})
    out = plots.sweep_plot(data, "ph_depth", tmp_path / "sweep.png", group="dataset",
                           xlabel="Resblocks in the projection head", ylabel="PSNR (dB)",
                           reference={"published": [(1, 33.5), (2, 33.6)]})
    _valid_png(out)


def test_headless_without_pyplot(tmp_path):
    """No display, no MPLBACKEND: the figure still renders and pyplot is never imported."""
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, pandas as pd\n"
        "from reports import plots\n"
        "df = pd.DataFrame({'x': [1, 2, 3], 'value': [1.0, 2.0, 1.5]})\n"
        f"plots.sweep_plot(df, 'x', {str(tmp_path / 's.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "MPLBACKEND", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
    _valid_png(tmp_path / "s.png")
