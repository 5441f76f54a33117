"""`bench dmos export` then `bench dmos score` end to end; malformed ratings rejected (exit 2)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from benchmarks.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def exported(tmp_path):
    rng = np.random.default_rng(1)
    hr, a, b = tmp_path / "hr", tmp_path / "a", tmp_path / "b"
    for d in (hr, a, b):
        d.mkdir()
    for i in range(6):
        img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(img).save(hr / f"{i}.png")
        Image.fromarray(img // 2).save(a / f"{i}.png")
        Image.fromarray(img // 3).save(b / f"{i}.png")
    out = tmp_path / "study"
    res = invoke("dmos", "export", "--method", f"GAN2G={a}", "--method", f"G2G+AL={b}", "--hr", hr,
                 "--n", 4, "--seed", 1, "--out", out)
    assert res.exit_code == 0, res.output
    assert "hidden key" in res.output
    with open(out / "key.csv") as f:
        key = list(csv.DictReader(f))
    return out, key


def _ratings(path, key, raters=3, tweak=None):
    """Raters score HR 5, GAN2G 3 or 4, G2G+AL 1 or 2 (varying by image so std > 0)."""
    base = {"HR": 5, "GAN2G": 3, "G2G+AL": 1}
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["rater", "image_id", "score"])
        for r in range(raters):
            for row in key:
                s = base[row["method"]] + (int(row["image"][0]) + r) % 2 * (row["method"] != "HR")
                w.writerow([f"rater{r}", row["image_id"], s])
        if tweak:
            w.writerow(tweak)
    return path


def test_export_then_score(tmp_path, exported):
    out, key = exported
    assert len(key) == 4 * 3 and (out / "study" / "rate.html").is_file()
    ratings = _ratings(tmp_path / "ratings.csv", key)
    res = invoke("dmos", "score", "--key", out / "key.csv", ratings)
    assert res.exit_code == 0, res.output
    assert "Table 3 layout" in res.output and "higher = worse" in res.output
    assert "GAN2G" in res.output and "G2G+AL" in res.output and "Mean" in res.output
    with open(out / "dmos.csv") as f:
        rows = {r["image"]: r for r in csv.DictReader(f)}
    assert set(rows) == {row["image"] for row in key} | {"Mean"}
    # G2G+AL was rated further below the reference: larger DMOS (eqs. 4-6)
    assert float(rows["Mean"]["G2G+AL"]) > float(rows["Mean"]["GAN2G"])
    data = json.loads((out / "dmos.json").read_text())
    assert data["std"].startswith("sample") and len(data["raters"]) == 3


def test_inverted_and_output_option(tmp_path, exported):
    out, key = exported
    ratings = _ratings(tmp_path / "ratings.csv", key)
    res = invoke("dmos", "score", "--key", out / "key.csv", ratings, "--inverted", "--output", tmp_path / "x.csv")
    assert res.exit_code == 0 and "higher = better" in res.output
    assert (tmp_path / "x.csv").is_file() and (tmp_path / "x.json").is_file()


@pytest.mark.parametrize("tweak,msg", [
    (["rater0", "img_0000", "3"], "unknown image id 'img_0000'"),
    (["", None, "3"], "missing rater name"),
    (["rater9", None, "3"], "rater 'rater9' did not rate"),
])
def test_malformed_ratings_exit_2(tmp_path, exported, tweak, msg):
    out, key = exported
    if tweak[1] is None:
        tweak = [tweak[0], key[0]["image_id"], tweak[2]]
    ratings = _ratings(tmp_path / "r.csv", key, tweak=tweak)
    res = invoke("dmos", "score", "--key", out / "key.csv", ratings)
    assert res.exit_code == 2, res.output
    assert msg in res.output and "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if ln.startswith("Error:")]) == 1


def test_score_out_of_range_exit_2(tmp_path, exported):
    out, key = exported
    ratings = _ratings(tmp_path / "r.csv", key)
    text = ratings.read_text().splitlines()
    first = text[1].rsplit(",", 1)[0]
    text[1] = first + ",7"
    ratings.write_text("\n".join(text) + "\n")
    res = invoke("dmos", "score", "--key", out / "key.csv", ratings)
    assert res.exit_code == 2 and "out of range" in res.output


def test_bad_method_spec(tmp_path):
    res = invoke("dmos", "export", "--method", "nolabel", "--hr", tmp_path, "--out", tmp_path / "o")
    assert res.exit_code == 2 and "LABEL=SR_DIR" in res.output
