"""DMOS per the SRGAN-KD paper's eqs. 4-6 on synthetic ratings, and rejected malformed files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.dmos.score import (RatingsError, compute_dmos, read_key, read_ratings, render_tables,
                                   save, score_files)
from benchmarks.errors import BenchError

KEY = """image_id,method,image,is_reference
img_1001,HR,a.png,1
img_1002,A,a.png,0
img_1003,B,a.png,0
img_1004,HR,b.png,1
img_1005,A,b.png,0
img_1006,B,b.png,0
"""

# rater r1: ref(a)=5 A(a)=3 B(a)=4 | ref(b)=4 A(b)=2 B(b)=4  -> d = [2, 1, 2, 0]
# rater r2: ref(a)=4 A(a)=4 B(a)=2 | ref(b)=5 A(b)=3 B(b)=4  -> d = [0, 2, 2, 1]
SCORES = {"r1": {"img_1001": 5, "img_1002": 3, "img_1003": 4, "img_1004": 4, "img_1005": 2, "img_1006": 4},
          "r2": {"img_1001": 4, "img_1002": 4, "img_1003": 2, "img_1004": 5, "img_1005": 3, "img_1006": 4}}


def _write(tmp_path: Path, scores=SCORES, extra: str = "") -> tuple[Path, Path]:
    key = tmp_path / "key.csv"
    key.write_text(KEY)
    lines = ["rater,image_id,score"]
    for rater, s in scores.items():
        lines += [f"{rater},{i},{v}" for i, v in s.items()]
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("\n".join(lines) + "\n" + extra)
    return key, ratings


def _hand_dmos(ddof: int) -> dict[tuple[str, str], float]:
    """Eqs. 4-6 written out with plain Python on the items (A,a), (B,a), (A,b), (B,b)."""
    items = [("A", "a.png", "img_1002", "img_1001"), ("B", "a.png", "img_1003", "img_1001"),
             ("A", "b.png", "img_1005", "img_1004"), ("B", "b.png", "img_1006", "img_1004")]
    per_rater = {}
    for rater, s in SCORES.items():
        d = [s[ref] - s[sr] for _, _, sr, ref in items]                      # (4)
        mean = sum(d) / len(d)
        std = math.sqrt(sum((x - mean) ** 2 for x in d) / (len(d) - ddof))
        per_rater[rater] = [(x - mean) / std for x in d]                     # (5)
    return {(m, img): sum(100 * (per_rater[r][k] + 3) / 6 for r in SCORES) / len(SCORES)   # (6)
            for k, (m, img, _, _) in enumerate(items)}


@pytest.mark.parametrize("ddof", [1, 0])
def test_dmos_matches_hand_computation(tmp_path, ddof):
    key, ratings = _write(tmp_path)
    res = score_files(key, ratings, ddof=ddof)
    expected = _hand_dmos(ddof)
    got = {(r.method, r.image): r.dmos for r in res.items.itertuples()}
    assert got.keys() == expected.keys()
    for k in expected:
        assert got[k] == pytest.approx(expected[k], abs=1e-9)
        row = res.items[(res.items.method == k[0]) & (res.items.image == k[1])].iloc[0]
        assert row.dmos_inverted == pytest.approx(100 - expected[k])
    assert res.per_method.loc["A", "dmos"] == pytest.approx((expected["A", "a.png"] + expected["A", "b.png"]) / 2)
    assert list(res.per_method.index) == ["A", "B"]
    assert res.raters == ("r1", "r2")


def test_literal_values_sample_std(tmp_path):
    """Same example, numbers worked out by hand (sample std = sqrt(2.75/3) for both raters)."""
    key, ratings = _write(tmp_path)
    res = score_files(key, ratings)
    t3 = res.table3()
    assert t3.loc["a.png", "A"] == pytest.approx(45.648, abs=1e-3)
    assert t3.loc["a.png", "B"] == pytest.approx(54.352, abs=1e-3)
    assert t3.loc["b.png", "A"] == pytest.approx(63.056, abs=1e-3)
    assert t3.loc["b.png", "B"] == pytest.approx(36.944, abs=1e-3)
    assert t3.loc["Mean", "A"] == pytest.approx(54.352, abs=1e-3)
    assert list(t3.columns) == ["A", "B"] and list(t3.index) == ["a.png", "b.png", "Mean"]


def test_render_states_direction_and_pi(tmp_path):
    key, ratings = _write(tmp_path)
    res = score_files(key, ratings)
    text = render_tables(res, {"A": 3.21, "B": None})
    assert "higher = worse" in text and "100 - DMOS" in text
    assert "Table 4" in text and "3.2100" in text and "not computed" in text
    inv = render_tables(res, inverted=True)
    assert "higher = better" in inv and "54.35" in inv


def test_save_csv_and_json(tmp_path):
    import json

    import pandas as pd

    key, ratings = _write(tmp_path)
    res = score_files(key, ratings)
    save(res, tmp_path / "dmos.csv", tmp_path / "dmos.json", {"A": 3.0, "B": float("nan")})
    t = pd.read_csv(tmp_path / "dmos.csv", index_col=0)
    assert t.loc["Mean", "B"] == pytest.approx(45.648, abs=1e-3)
    data = json.loads((tmp_path / "dmos.json").read_text())
    assert "higher = worse" in data["direction"] and data["mean_pi"] == {"A": 3.0, "B": None}
    assert len(data["items"]) == 4


# ---- malformed files: each rejected with a clear BenchError -------------------------------

def _bad(tmp_path, mutate, match):
    scores = {r: dict(s) for r, s in SCORES.items()}
    extra = mutate(scores) or ""
    key, ratings = _write(tmp_path, scores, extra)
    with pytest.raises(BenchError, match=match):
        score_files(key, ratings)


def test_rater_missing_images(tmp_path):
    def mutate(s):
        del s["r2"]["img_1005"]
    _bad(tmp_path, mutate, r"rater 'r2' did not rate 1 of 6 images: img_1005")


def test_missing_rater_name(tmp_path):
    _bad(tmp_path, lambda s: ",img_1002,3\n", r"line 14: missing rater name")


@pytest.mark.parametrize("value", ["6", "0", "3.5", "x", ""])
def test_score_out_of_range(tmp_path, value):
    def mutate(s):
        s["r1"]["img_1003"] = value
    _bad(tmp_path, mutate, r"line 4: score .* (out of range|not a number)")


def test_unknown_image_id(tmp_path):
    _bad(tmp_path, lambda s: "r1,img_9999,3\n", r"unknown image id 'img_9999'")


def test_duplicate_rating(tmp_path):
    _bad(tmp_path, lambda s: "r1,img_1002,4\n", r"rated img_1002 twice")


def test_constant_rater_has_no_z(tmp_path):
    def mutate(s):
        s["r1"].update({k: 3 for k in s["r1"]})
    _bad(tmp_path, mutate, r"rater\(s\) 'r1' .*std 0")


def test_bad_header(tmp_path):
    key = tmp_path / "key.csv"
    key.write_text(KEY)
    r = tmp_path / "r.csv"
    r.write_text("name,image,score\nr1,img_1002,3\n")
    with pytest.raises(RatingsError, match="rater,image_id,score"):
        read_ratings(r, read_key(key))


def test_missing_files(tmp_path):
    with pytest.raises(BenchError, match="key file not found"):
        score_files(tmp_path / "nope.csv", tmp_path / "r.csv")


def test_key_without_reference(tmp_path):
    k = tmp_path / "key.csv"
    k.write_text("image_id,method,image,is_reference\nimg_1,A,a.png,0\n")
    with pytest.raises(RatingsError, match="no \\(or several\\) reference"):
        read_key(k)


def test_compute_on_frames_directly():
    import pandas as pd

    key = pd.DataFrame({"image_id": ["r", "x", "y"], "method": ["HR", "A", "A"], "image": ["p", "p", "p"],
                        "is_reference": [True, False, False]})
    ratings = pd.DataFrame({"rater": ["u"] * 3, "image_id": ["r", "x", "y"], "score": [5, 1, 3]})
    res = compute_dmos(key, ratings, ddof=1)
    # d = [4, 2]; mean 3; sample std sqrt(2); z = [1/sqrt2, -1/sqrt2]
    np.testing.assert_allclose(res.items.dmos, [100 * (3 + 1 / math.sqrt(2)) / 6, 100 * (3 - 1 / math.sqrt(2)) / 6])
