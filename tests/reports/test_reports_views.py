"""Grids handed to the templates: one summary per scale, marks on the right cells."""

from __future__ import annotations

from reports.tables import summary_table, with_published
from reports.views import comparison_grid, summary_grids


def _texts(row):
    return [c.text for c in row]


def _cell(grid, label, dataset):
    head = _texts(grid.head[0])
    row = next(r for r in grid.body if r[0].text == label)
    return row[head.index(dataset)]


def test_summary_grids_per_scale(paper_frame, metric_info):
    grids = summary_grids(summary_table(paper_frame, "psnr", metric_info), unranked=["bicubic"])
    assert len(grids) == 2 and "×2" in grids[0].caption and "×4" in grids[1].caption
    assert _texts(grids[0].head[0]) == ["Method", "Params", "Set5", "Set14"]
    best = _cell(grids[0], "EDSR 16x64 FAKD", "Set5")
    assert (best.text, best.aside) == ("37.970", "± 0.014") and "best" in best.cls.split()
    second = _cell(grids[0], "EDSR 16x64 baseline", "Set5")
    assert "second" in second.cls.split()
    bicubic = _cell(grids[0], "Bicubic", "Set5")
    assert "ref" in bicubic.cls.split() and "best" not in bicubic.cls.split()
    assert _cell(grids[1], "EDSR 16x64 CLSD", "Set5").text == "failed"
    assert _cell(grids[0], "EDSR 16x64 FAKD", "Params").text == "1.37M"


def test_summary_grids_lower_better(paper_frame, metric_info):
    grids = summary_grids(summary_table(paper_frame, "lpips", metric_info), unranked=["bicubic"])
    assert "lower is better" in grids[0].caption
    assert "best" in _cell(grids[0], "EDSR 16x64 FAKD", "Set5").cls.split()
    assert "best" in _cell(grids[0], "EDSR 16x64 baseline", "Set14").cls.split()
    assert "second" in _cell(grids[0], "EDSR 16x64 FAKD", "Set14").cls.split()


def test_comparison_grid_columns(paper_frame, smoke_frame, metric_info, published):
    paper = comparison_grid(with_published(summary_table(paper_frame, "psnr", metric_info), published))
    assert _texts(paper.head[1])[:3] == ["measured", "paper", "Δ"] and not paper.banner
    smoke = comparison_grid(with_published(summary_table(smoke_frame, "psnr", metric_info), published))
    assert "Δ" not in _texts(smoke.head[1])
    assert smoke.banner == "smoke profile — not comparable to published numbers"


def test_summary_grid_leaves_out_rows_not_run_at_a_scale(paper_frame, metric_info):
    frame = paper_frame[~((paper_frame["method"] == "fakd") & (paper_frame["scale"] == 4))]
    grids = summary_grids(summary_table(frame, "psnr", metric_info), unranked=["bicubic"])
    assert "EDSR 16x64 FAKD" in [r[0].text for r in grids[0].body]
    assert "EDSR 16x64 FAKD" not in [r[0].text for r in grids[1].body]


def test_comparison_grid_in_the_papers_layout(paper_frame, metric_info, published):
    cmp = with_published(summary_table(paper_frame, "psnr", metric_info), published)
    grid = comparison_grid(cmp, names="paper", lower_better=False, unranked=["bicubic"])
    fakd = next(r for r in grid.body if r[0].text == "FAKD[9]")
    assert fakd[0].sub == "measured: EDSR 16x64 FAKD"
    # ranked separately: measured FAKD is best on Set5 x2, the paper's FAKD second (37.976 < 37.977)
    assert "best" in fakd[1].cls.split() and "second" in fakd[2].cls.split()
    paper_only = next(r for r in grid.body if r[0].text == "CLSD (ours)")
    assert paper_only[0].sub == "not run in this matrix"
