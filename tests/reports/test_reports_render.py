"""render_report writes a self-contained index.html with conditions, tables and plots."""

from __future__ import annotations

import re

from PIL import Image

from reports import render_report


def _render(tmp_path, frame, conditions, metric_info, published=None, with_plots=True):
    index = render_report(frame, tmp_path / "out", conditions, metric_info, published=published,
                          with_plots=with_plots)
    return index, index.read_text(encoding="utf-8")


def test_index_has_conditions_tables_and_plots(tmp_path, smoke_frame, conditions, metric_info):
    index, html = _render(tmp_path, smoke_frame, conditions, metric_info)
    assert index == tmp_path / "out" / "index.html"
    for text in ("CPU: 2 cores (synthetic); GPU: none", "26979b3deadbeef",
                 "bench run --matrix quick --profile smoke", "2024-05-01T12:00:00+00:00",
                 "torch 2.3.0", "PSNR (dB)", "LPIPS", "NIQE"):
        assert text in html
    assert "NIQE: no run has a value (not computed: NRQM_model.mat missing)." in html
    assert "TrainingDiverged: loss &#39;cs&#39; became NaN" in html  # failed run listed, escaped
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html  # autoescape on
    assert re.search(r'<td class="num best"[^>]*><span class="v">37\.970</span>'
                     r'<span class="aside">± 0\.014</span></td>', html)
    assert re.search(r'<td class="num second"[^>]*><span class="v">37\.920</span>'
                     r'<span class="aside">± 0\.028</span></td>', html)
    assert "<style>" in html and "<link" not in html  # inline CSS
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert srcs and all("/" not in s for s in srcs)  # relative, next to index.html
    for src in srcs:
        png = index.parent / src
        assert png.stat().st_size > 1000
        with Image.open(png) as im:
            im.verify()


def test_smoke_report_with_published_has_banner_and_no_delta(
        tmp_path, smoke_frame, conditions, metric_info, published):
    _, html = _render(tmp_path, smoke_frame, conditions, metric_info, published, with_plots=False)
    assert "smoke profile — not comparable to published numbers" in html
    assert "37.919" in html
    assert 'class="num delta"' not in html


def test_paper_report_with_published_has_delta(
        tmp_path, paper_frame, conditions, metric_info, published):
    conditions["profile"] = "paper"
    _, html = _render(tmp_path, paper_frame, conditions, metric_info, published, with_plots=False)
    assert "not comparable" not in html
    assert re.search(r'<td class="num delta"[^>]*><span class="v">\+0\.001</span></td>', html)
    assert "33.60*" in html  # printed as '33,60'


def test_mixed_profiles_get_separate_sections(tmp_path, smoke_frame, paper_frame, conditions,
                                              metric_info):
    import pandas as pd
    _, html = _render(tmp_path, pd.concat([smoke_frame, paper_frame]), conditions, metric_info,
                      with_plots=False)
    assert "Profile: smoke" in html and "Profile: paper" in html
    assert "<img" not in html
    assert "but the results hold" in html
