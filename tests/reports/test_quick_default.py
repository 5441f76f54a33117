"""The default `bench run` (the embedded `quick` matrix, CPU minutes): a newcomer's first report is
a KD comparison with its table, the gains, a plot and a visual comparison. Slow: it trains four
networks."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from click.testing import CliRunner

from benchmarks.cli import main


@pytest.mark.slow
def test_default_run_reports_a_kd_comparison(tmp_path):
    out = CliRunner().invoke(main, ["run", "--results-dir", str(tmp_path), "--quiet"])
    assert out.exit_code == 0, out.output
    assert "15 cells: 0 done, 4 to train, 1 to load, 10 to evaluate" in out.output
    folder = tmp_path / "reports" / "quick-smoke"
    html = (folder / "index.html").read_text()
    for label in ("Student (no KD)", "FAKD", "CLSD", "Teacher edsr-8x64", "Bicubic"):
        assert label in html
    assert 'id="gains"' in html and 'id="visual-comparison"' in html
    figures = re.findall(r'src="(figures/compare_embedded-test_\w+\.png)"', html)
    assert len(figures) == 2 and all((folder / f).is_file() for f in figures)
    assert all((folder / f.replace(".png", ".pdf")).is_file() for f in figures)
    csv = pd.read_csv(folder / "tables.csv")
    assert set(csv["method"]) == {"baseline", "fakd", "clsd", "bicubic", "teacher"}
    assert (csv.loc[csv["metric"] == "psnr", "mean"] > 20).all()
    assert r"\toprule" in (folder / "latex" / "psnr.tex").read_text()
