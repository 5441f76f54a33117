"""Training-loss curves: plots.loss_curves draws them, render_report adds a "Training curves" section."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from reports import plots, render_report


def _curve(scale: float, steps=range(100, 1100, 100)) -> pd.DataFrame:
    """Long frame like benchmarks.loss_log.read_loss_csv: G/l1 and D/real (all positive),
    diag/d_real (crosses zero: linear y)."""
    rows = []
    for step in steps:
        rows += [(step, "G/l1", scale * 0.1 / np.sqrt(step)), (step, "D/real", scale * 0.69),
                 (step, "diag/d_real", np.sin(step / 200.0))]
    return pd.DataFrame(rows, columns=["step", "name", "value"])


def _valid_png(path: Path) -> None:
    assert path.exists() and path.stat().st_size > 1000
    with Image.open(path) as im:
        assert im.format == "PNG" and im.width > 100 and im.height > 100


def test_loss_curves_two_labels(tmp_path):
    out = plots.loss_curves({"EDSR baseline": _curve(1.0), "EDSR FAKD": _curve(0.8)},
                            tmp_path / "curves" / "loss.png")
    assert out == tmp_path / "curves" / "loss.png"
    _valid_png(out)


def test_loss_curves_nothing_to_plot(tmp_path):
    empty = pd.DataFrame(columns=["step", "name", "value"])
    assert plots.loss_curves({}, tmp_path / "a.png") is None
    assert plots.loss_curves({"x": empty}, tmp_path / "b.png") is None
    assert not (tmp_path / "a.png").exists() and not (tmp_path / "b.png").exists()


def test_loss_curves_from_a_loss_log(tmp_path):
    """The frame read back from a LossLog's CSV plots as is."""
    from benchmarks.loss_log import LossLog, read_loss_csv

    with LossLog(tmp_path / "run", every=5, tensorboard=False) as log:
        for step in range(1, 23):
            log.add(step, {"G/l1": 1.0 / step, "G/adv": 0.7})
    _valid_png(plots.loss_curves({"run": read_loss_csv(tmp_path / "run")}, tmp_path / "c.png"))


def _render(tmp_path, frame, conditions, metric_info, **kwargs):
    index = render_report(frame, tmp_path / "out", conditions, metric_info, with_plots=False,
                          **kwargs)
    return index, index.read_text(encoding="utf-8")


def test_report_with_curves_has_the_section(tmp_path, smoke_frame, conditions, metric_info):
    curves = {"EDSR 16x64 baseline": _curve(1.0), "EDSR 16x64 FAKD": _curve(0.8),
              "Bicubic": pd.DataFrame(columns=["step", "name", "value"])}
    index, html = _render(tmp_path, smoke_frame, conditions, metric_info, curves=curves)
    assert '<h2 id="training-curves">Training curves</h2>' in html
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert srcs == ["loss_curves.png"]  # with_plots=False: only the curves
    _valid_png(index.parent / srcs[0])
    assert "No loss log for: Bicubic." in html
    assert html.index("Training curves") < html.index("<footer>")


def test_report_without_curves_has_no_section(tmp_path, smoke_frame, conditions, metric_info):
    index, html = _render(tmp_path, smoke_frame, conditions, metric_info)
    assert "Training curves" not in html
    assert not (index.parent / "loss_curves.png").exists()
    _, html = _render(tmp_path, smoke_frame, conditions, metric_info, curves={})
    assert "Training curves" not in html


def test_report_with_only_empty_curves_says_so(tmp_path, smoke_frame, conditions, metric_info):
    empty = pd.DataFrame(columns=["step", "name", "value"])
    index, html = _render(tmp_path, smoke_frame, conditions, metric_info, curves={"A": empty})
    assert "Training curves" in html and "No loss log for: A." in html
    assert "<img" not in html and not (index.parent / "loss_curves.png").exists()


def test_paper_does_not_import_render():
    """reports.paper takes PlotRef from reports.views, not reports.render (no import circle);
    `from reports.render import PlotRef` still works and names the same class."""
    from reports import paper, views
    from reports.render import PlotRef

    source = Path(paper.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from \.render |from reports\.render |import reports\.render)",
                         source, re.M)
    assert paper.PlotRef is views.PlotRef is PlotRef
