"""Report and DMOS pieces of the GAN papers: paper 001's cells compared at the assumed x4, the
mean of a pair's peers, the conditions naming a random VGG19, and the seeded pick of DMOS images
among several test sets, recorded in the export."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest

from benchmarks.dmos.export import export_study
from benchmarks.matrix import load_matrix
from benchmarks.reporting import published_for, run_conditions, with_output_means
from benchmarks.store import ResultStore
from tests.dmos.conftest import write_png


def test_paper_001_cells_get_the_assumed_scale_and_others_keep_theirs():
    kd = published_for("srgankd2021")
    assert set(kd["scale"].dropna()) == {4} and kd["scale"].notna().all()
    ml = published_for("mlsrgan2022")
    assert sorted(set(ml["scale"])) == [2, 4]


def frame(rows):
    cols = ["run_key", "matrix", "method", "label", "arch", "student", "scale", "seed", "profile", "dataset",
            "metric", "value", "params", "train_seconds", "teacher_seconds", "status", "note"]
    base = dict(run_key="k", matrix="m", arch="srresnet", student="s", scale=2, seed=0, profile="smoke", params=10,
                train_seconds=1.0, teacher_seconds=None, status="ok", note="")
    return pd.DataFrame([base | r for r in rows], columns=cols)


def test_mean_of_the_peers_is_a_row_per_set_and_metric():
    f = frame([
        dict(method="ml", label="ML", dataset="Set5", metric="psnr", value=20.0, run_key="a"),
        dict(method="ml:peer_b", label="ML (peer_b)", dataset="Set5", metric="psnr", value=21.0, run_key="a:peer_b"),
        dict(method="ml", label="ML", dataset="Set5", metric="pi", value=None, note="not computed: NRQM"),
        dict(method="ml:peer_b", label="ML (peer_b)", dataset="Set5", metric="pi", value=None,
             note="not computed: NRQM"),
        dict(method="baseline", label="B", dataset="Set5", metric="psnr", value=19.0),
    ])
    out = with_output_means(f)
    means = out[out["method"] == "ml:mean"].set_index("metric")
    assert len(out) == len(f) + 2 and set(means["label"]) == {"ML (mean of outputs)"}
    assert means.at["psnr", "value"] == pytest.approx(20.5)
    assert pd.isna(means.at["pi", "value"]) and means.at["pi", "note"] == "not computed: NRQM"
    assert with_output_means(f[f["method"] == "baseline"]).equals(f[f["method"] == "baseline"])


def test_conditions_say_the_vgg19_was_random_in_smoke_only(tmp_path):
    m = load_matrix("srgan-ml2022")
    store = ResultStore(tmp_path / "r.sqlite")
    smoke = run_conditions(m, m.expand("smoke"), store, "bench run")["notes"]
    paper = run_conditions(m, m.expand("paper"), store, "bench run")["notes"]
    assert any(n.startswith("perceptual loss: random VGG19, smoke only") for n in smoke)
    assert not any("random VGG19" in n for n in paper)
    assert any("peer A" in n for n in paper) and any("T = 4" in n for n in paper)


def test_dmos_pick_spans_several_sets_is_seeded_and_recorded(tmp_path):
    rng = np.random.default_rng(0)
    sets = {"Set5": 3, "Set14": 4}
    methods = {"GAN2G": {}, "G2G+AL": {}}
    hr = {}
    for ds, n in sets.items():
        hr[ds] = tmp_path / "HR" / ds
        for label in methods:
            methods[label][ds] = tmp_path / label / ds
        for i in range(n):
            img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
            write_png(hr[ds] / f"im{i}.png", img)
            for k, label in enumerate(methods):
                write_png(methods[label][ds] / f"im{i}.png", (img // 2 + k).astype(np.uint8))
    a = export_study(methods, hr, tmp_path / "a", n=5, seed=7)
    b = export_study(methods, hr, tmp_path / "b", n=5, seed=7)
    assert a.images == b.images and len(a.images) == 5
    assert all(i.split("/")[0] in sets for i in a.images)
    record = json.loads((tmp_path / "a" / "study.json").read_text())
    assert record["images"] == list(a.images) and record["seed"] == 7
    assert record["datasets"] == sorted({i.split("/")[0] for i in a.images})
    with open(a.key_path) as fh:
        rows = list(csv.DictReader(fh))
    assert {r["image"] for r in rows} == set(a.images) and len(rows) == 5 * 3
