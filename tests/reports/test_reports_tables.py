"""summary_table / mark_best / with_published on the synthetic frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reports.tables import (NOT_COMPUTED, banner_for, mark_best, summary_table, with_published)

BASE = ("EDSR 16x64 baseline", "baseline")
FAKD = ("EDSR 16x64 FAKD", "fakd")
BIC = ("Bicubic", "bicubic")
CLSD = ("EDSR 16x64 CLSD", "clsd")


def test_layout_mean_and_std(paper_frame, metric_info):
    t = summary_table(paper_frame, "psnr", metric_info)
    assert list(t.mean.index.names) == ["label", "method"]
    assert list(t.mean.columns.names) == ["dataset", "scale"]
    # datasets in first-seen order, each one's scales ascending (headers group by dataset)
    assert list(t.mean.columns) == [("Set5", 2), ("Set5", 4), ("Set14", 2), ("Set14", 4)]
    assert t.mean.at[BASE, ("Set5", 2)] == pytest.approx(37.92)
    assert t.std.at[BASE, ("Set5", 2)] == pytest.approx(np.std([37.90, 37.94], ddof=1))
    text = t.to_frame()
    assert text.at[BASE, ("Set5", 2)] == "37.920 ± 0.028"
    assert text.at[FAKD, ("Set14", 4)] == "28.530 ± 0.014"


def test_single_seed_has_no_std(paper_frame, metric_info):
    one = paper_frame[paper_frame["seed"] == 0]
    t = summary_table(one, "psnr", metric_info)
    assert t.to_frame().at[BASE, ("Set5", 2)] == "37.900"


def test_nan_is_not_computed_never_zero(paper_frame, metric_info):
    t = summary_table(paper_frame, "niqe", metric_info)
    text = t.to_frame()
    assert text.at[BASE, ("Set5", 2)] == NOT_COMPUTED
    assert "NRQM_model.mat" in t.note.at[BASE, ("Set5", 2)]
    assert not (text == "0.000").to_numpy().any()
    assert mark_best(t).eq("").all().all()  # nothing to rank


def test_partial_seeds_are_counted(paper_frame, metric_info):
    frame = paper_frame.copy()
    hit = (frame["method"] == "fakd") & (frame["seed"] == 1) & (frame["metric"] == "psnr")
    frame.loc[hit, "value"] = np.nan
    t = summary_table(frame, "psnr", metric_info)
    assert t.to_frame().at[FAKD, ("Set5", 2)] == "37.960 (n=1/2)"


def test_failed_run_cells(paper_frame, metric_info):
    text = summary_table(paper_frame, "psnr", metric_info).to_frame()
    assert text.at[CLSD, ("Set5", 4)] == "failed"
    assert text.at[CLSD, ("Set5", 2)] == "—"  # not run at x2


def test_mark_best_higher_better(paper_frame, metric_info):
    t = summary_table(paper_frame, "psnr", metric_info)
    marks = mark_best(t, exclude=["bicubic"])
    assert marks.at[FAKD, ("Set5", 2)] == "best"
    assert marks.at[BASE, ("Set5", 2)] == "second"
    assert marks.at[BASE, ("Set5", 4)] == "best"
    assert marks.at[FAKD, ("Set5", 4)] == "second"
    # Set14 x4: 28.53 vs 28.53 -> tie, both best, no second among ranked rows
    assert marks.at[BASE, ("Set14", 4)] == marks.at[FAKD, ("Set14", 4)] == "best"
    assert marks.at[BIC, ("Set5", 2)] == "" and marks.at[CLSD, ("Set5", 4)] == ""


def test_mark_best_includes_references_when_asked(paper_frame, metric_info):
    lp = summary_table(paper_frame, "lpips", metric_info)
    marks = mark_best(lp)  # bicubic ranked too: it is worst, so never marked here
    assert marks.at[BIC, ("Set5", 2)] == ""


def test_mark_best_lower_better(paper_frame, metric_info):
    t = summary_table(paper_frame, "lpips", metric_info)
    assert t.lower_better is True
    marks = mark_best(t, exclude=["bicubic"])
    assert marks.at[FAKD, ("Set5", 2)] == "best"  # 0.085 < 0.110
    assert marks.at[BASE, ("Set5", 2)] == "second"
    assert marks.at[BASE, ("Set14", 2)] == "best"  # 0.150 < 0.175
    assert marks.at[FAKD, ("Set14", 2)] == "second"


def test_mark_best_plain_frame_ties_and_nan():
    df = pd.DataFrame({"a": [1.0, 3.0, 3.0, np.nan, 2.0]}, index=list("vwxyz"))
    marks = mark_best(df, lower_better=False)
    assert marks["a"].tolist() == ["", "best", "best", "", "second"]
    marks = mark_best(df, lower_better=True)
    assert marks["a"].tolist() == ["best", "", "", "", "second"]
    # equal at the printed precision -> same mark
    df2 = pd.DataFrame({"a": [1.00004, 1.00001, 0.5]})
    assert mark_best(df2, lower_better=False, decimals=3)["a"].tolist() == ["best", "best", "second"]


def test_mixed_profiles_refused(paper_frame, smoke_frame, metric_info):
    with pytest.raises(ValueError, match="mixes profiles"):
        summary_table(pd.concat([paper_frame, smoke_frame]), "psnr", metric_info)


def test_published_delta(paper_frame, metric_info, published):
    t = summary_table(paper_frame, "psnr", metric_info)
    cmp = with_published(t, published)
    assert cmp.comparable and cmp.banner == ""
    assert list(cmp.measured.columns) == [("Set5", 2), ("Set14", 2)]
    assert cmp.delta.at[BASE, ("Set5", 2)] == pytest.approx(37.92 - 37.919)
    assert cmp.delta.at[FAKD, ("Set14", 2)] == pytest.approx(33.53 - 33.523)
    shown = cmp.to_frame()
    assert shown.at[BASE, ("Set5", 2, "Δ")] == "+0.001"
    assert shown.at[BASE, ("Set14", 2, "Δ")] == "\u22120.009"
    # published shown with its printed decimals; printed text kept separately
    paper_only = ("CLSD (ours)", "clsd_paper_only")
    assert shown.at[paper_only, ("Set14", 2, "published")] == "33.60"
    assert cmp.printed.at[paper_only, ("Set14", 2)] == "33,60"
    # rows of one side only are kept, with blanks on the other side
    assert shown.at[paper_only, ("Set5", 2, "measured")] == ""
    assert shown.at[BIC, ("Set5", 2, "published")] == ""
    assert np.isnan(cmp.delta.at[BIC, ("Set5", 2)])


def test_smoke_profile_not_comparable(smoke_frame, metric_info, published):
    t = summary_table(smoke_frame, "psnr", metric_info)
    cmp = with_published(t, published)
    assert not cmp.comparable
    assert cmp.banner == "smoke profile — not comparable to published numbers"
    assert cmp.banner == banner_for("smoke")
    assert cmp.delta is None
    assert "Δ" not in cmp.to_frame().columns.get_level_values(2)


def test_ambiguous_method_not_matched(paper_frame, metric_info, published):
    frame = paper_frame.copy()
    frame.loc[frame["method"] == "fakd", "label"] = np.where(
        frame.loc[frame["method"] == "fakd", "seed"] == 0, "FAKD a", "FAKD b")
    t = summary_table(frame, "psnr", metric_info)
    cmp = with_published(t, published)
    assert ("FAKD[9]", "fakd") in cmp.measured.index  # the paper's row stands alone
    assert cmp.measured.loc[("FAKD a", "fakd")].notna().all()
    assert cmp.published.loc[("FAKD a", "fakd")].isna().all()
