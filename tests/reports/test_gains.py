"""Gains over the no-KD baseline from a stored matrix: pairing by seed and image, values, which
intervals include zero, rows left out, notes, and the report's gains table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from benchmarks.matrix import load_matrix
from benchmarks.reporting import metric_info, with_teachers
from benchmarks.store import ResultStore
from reports.gains import gain_grids, gains_frame

from .kd_store import BONUS, IMAGES, build


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    path, results = build(tmp_path_factory.mktemp("kd"), seeds=(0, 1))
    specs = with_teachers(load_matrix(str(path)).expand())
    store = ResultStore(results / "results.sqlite")
    return store.frame(specs), store.image_frame(specs)


def test_gain_of_each_method_is_the_mean_per_image_difference(stored):
    frame, images = stored
    gains = gains_frame(frame, images, metric_info(["psnr", "ssim"]))
    table = gains.table.set_index(["method", "metric"])
    assert set(table.index.get_level_values("method")) == {"fakd", "clsd"}  # not bicubic, teacher, baseline
    fakd = table.loc[("fakd", "psnr")]
    assert math.isclose(fakd["mean"], 0.2 + np.mean(list(BONUS.values())), abs_tol=1e-9)
    assert fakd["n_images"] == len(IMAGES) and fakd["n_seeds"] == 2
    assert not fakd["includes_zero"] and fakd["lo"] >= 0.2 - 1e-9 and fakd["hi"] <= 0.5 + 1e-9
    clsd = table.loc[("clsd", "psnr")]
    assert math.isclose(clsd["mean"], 0.0, abs_tol=1e-9) and clsd["includes_zero"]
    assert math.isclose(clsd["lo"], -0.05, abs_tol=1e-9) and math.isclose(clsd["hi"], 0.05, abs_tol=1e-9)
    assert (gains.table["baseline_label"] == "Student (no KD)").all()
    assert table.loc[("fakd", "ssim"), "lower_better"] == False


def test_rows_sharing_the_baseline_model_and_missing_images_are_left_out(stored):
    frame, images = stored
    twin = frame[frame["method"] == "baseline"].assign(method="ablation-sr", label="L_SR")
    gains = gains_frame(pd.concat([frame, twin]), images)
    assert "ablation-sr" not in set(gains.table["method"])  # the very same runs as the baseline
    no_images = gains_frame(frame, images[images["metric"] != "ssim"])
    assert set(no_images.table["metric"]) == {"psnr"}
    assert no_images.notes == ("ssim: no per-image scores stored, so no interval.",)


def test_without_a_baseline_row_the_note_says_so(stored):
    frame, images = stored
    gains = gains_frame(frame[frame["method"] != "baseline"], images)
    assert gains.empty and "no stored results of the no-KD baseline" in gains.notes[0]


def test_unpaired_seeds_fall_back_to_per_image_means(stored):
    frame, images = stored
    # the method only has seed 1, the baseline only seed 0: each side's per-image mean is used
    part = frame[~((frame["method"] == "fakd") & (frame["seed"] == 0))
                 & ~((frame["method"] == "baseline") & (frame["seed"] == 1))]
    row = gains_frame(part, images).table.set_index(["method", "metric"]).loc[("fakd", "psnr")]
    assert row["n_seeds"] == 1 and math.isclose(row["mean"], 0.2 + np.mean(list(BONUS.values())) + 0.01)


def test_gains_grid_marks_intervals_that_include_zero(stored):
    frame, images = stored
    info = metric_info(["psnr", "ssim"])
    grids = gain_grids(gains_frame(frame, images, info), info)
    assert [g.caption.split(":")[0] for g in grids] == ["PSNR (dB)", "SSIM"]
    psnr = grids[0]
    cells = {row[0].text: row[1] for row in psnr.body}
    assert cells["FAKD"].text == "+0.312" and "sig" in cells["FAKD"].cls and "better" in cells["FAKD"].cls
    assert cells["FAKD"].aside == "[+0.200, +0.425]"
    assert "ns" in cells["CLSD"].cls and cells["CLSD"].aside.endswith("≈0")
    assert "2 seeds" in psnr.caption and "4 test image" in psnr.caption
