"""Average cells of papers that print them: a mean over the sets measured, and "not computed" (not
"not run") when the metric could not be computed on any set."""

from __future__ import annotations

import math

import pandas as pd

from benchmarks.reporting import with_paper_averages

KEYS = dict(method="m", student="s", scale=4, seed=0, profile="smoke")


def rows(metric, values):
    return [dict(KEYS, metric=metric, dataset=d, value=v, status="ok", note="") for d, v in values.items()]


def test_average_means_the_sets_measured_and_names_the_missing_ones():
    frame = pd.DataFrame(rows("psnr", {"Set14": 20.0, "B100": 22.0}))
    published = pd.DataFrame({"dataset": ["Set14", "B100", "KHU", "Average"]})
    avg = with_paper_averages(frame, published).query("dataset == 'Average'").iloc[0]
    assert avg["value"] == 21.0 and avg["note"] == "mean over Set14, B100; not available: KHU"


def test_a_metric_computed_on_no_set_averages_to_not_computed():
    frame = pd.DataFrame(rows("fid", {"Set14": float("nan")}))
    published = pd.DataFrame({"dataset": ["Set14", "Average"]})
    avg = with_paper_averages(frame, published).query("dataset == 'Average'")
    assert len(avg) == 1 and math.isnan(avg.iloc[0]["value"]) and avg.iloc[0]["note"] == "not computed on Set14"
