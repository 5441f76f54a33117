"""Blinded DMOS export: picks, blinding, hidden key, rating page."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest
from PIL import Image

from benchmarks.dmos.export import export_study
from benchmarks.errors import BenchError


def _key(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_export_writes_blinded_set_and_key(tmp_path, study_inputs):
    methods, hr_dir = study_inputs
    res = export_study(methods, hr_dir, tmp_path / "out", n=5, seed=3)
    assert len(res.images) == 5 and res.n_items == 5 * 4
    rows = _key(res.key_path)
    assert len(rows) == 20
    assert res.key_path.parent == tmp_path / "out" and not (res.study_dir / "key.csv").exists()
    files = sorted(p.name for p in res.study_dir.glob("img_*.png"))
    assert files == sorted(f"{r['image_id']}.png" for r in rows)
    assert all(re.fullmatch(r"img_\d{4}", r["image_id"]) for r in rows)
    # each blinded file holds exactly the pixels of the method/image the key says
    for r in rows:
        src = hr_dir / r["image"] if r["method"] == "HR" else methods[r["method"]] / r["image"]
        got = np.asarray(Image.open(res.study_dir / f"{r['image_id']}.png").convert("RGB"))
        np.testing.assert_array_equal(got, np.asarray(Image.open(src).convert("RGB")))
        assert r["is_reference"] == ("1" if r["method"] == "HR" else "0")
    for image in res.images:
        assert sorted(r["method"] for r in rows if r["image"] == image) == sorted(["HR", *methods])


def test_page_is_blind_self_contained_and_lists_every_image(tmp_path, study_inputs):
    methods, hr_dir = study_inputs
    res = export_study(methods, hr_dir, tmp_path / "out", n=4, seed=0)
    page = res.html_path.read_text()
    ids = [r["image_id"] for r in _key(res.key_path)]
    for i in ids:
        assert f'src="{i}.png"' in page
        for s in range(1, 6):
            assert f'name="{i}" value="{s}"' in page
    assert 'id="rater"' in page and "rater,image_id,score" in page and "Blob" in page
    assert "http://" not in page and "https://" not in page and "<script src" not in page
    for label in methods:
        assert label not in page
    for image in res.images:
        assert image not in page
    # the order on the page is the random one, not grouped by image
    order = re.findall(r'id="item-(img_\d{4})"', page)
    assert sorted(order) == sorted(ids)
    key = {r["image_id"]: r for r in _key(res.key_path)}
    first_images = [key[i]["image"] for i in order[:4]]
    assert len(set(first_images)) > 1


def test_embedded_page(tmp_path, study_inputs):
    methods, hr_dir = study_inputs
    res = export_study(methods, hr_dir, tmp_path / "out", n=2, seed=0, embed_images=True)
    page = res.html_path.read_text()
    assert page.count("data:image/png;base64,") == 2 * 4


def test_seeded(tmp_path, study_inputs):
    methods, hr_dir = study_inputs
    a = export_study(methods, hr_dir, tmp_path / "a", n=5, seed=7)
    b = export_study(methods, hr_dir, tmp_path / "b", n=5, seed=7)
    c = export_study(methods, hr_dir, tmp_path / "c", n=5, seed=8)
    assert a.key_path.read_text() == b.key_path.read_text()
    assert a.html_path.read_text() == b.html_path.read_text()
    assert a.key_path.read_text() != c.key_path.read_text()


def test_errors(tmp_path, study_inputs):
    methods, hr_dir = study_inputs
    with pytest.raises(BenchError, match="only 12 image file names"):
        export_study(methods, hr_dir, tmp_path / "o", n=13)
    with pytest.raises(BenchError, match="reserved"):
        export_study({"HR": hr_dir}, hr_dir, tmp_path / "o", n=2)
    with pytest.raises(BenchError, match="image folder not found"):
        export_study({"A": tmp_path / "missing"}, hr_dir, tmp_path / "o", n=2)
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in hr_dir.iterdir():
        Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(bad / p.name)
    with pytest.raises(BenchError, match="differs from the HR"):
        export_study({"A": bad}, hr_dir, tmp_path / "o", n=2)


def test_hr_is_modcropped_to_sr_size(tmp_path, study_inputs):
    _, hr_dir = study_inputs
    sr = tmp_path / "sr"
    sr.mkdir()
    for p in hr_dir.iterdir():
        hr = np.asarray(Image.open(p))
        Image.fromarray(hr[:20, :16]).save(sr / p.name)
    res = export_study({"A": sr}, hr_dir, tmp_path / "o", n=3, seed=0)
    for r in _key(res.key_path):
        assert Image.open(res.study_dir / f"{r['image_id']}.png").size == (16, 20)
