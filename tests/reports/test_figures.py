"""Visual comparison figures: the crop where outputs differ, the images where scores differ, the
drawing (PNG + PDF), the matrix's `figures:` field, and the figures of a stored matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from benchmarks.comparisons import comparison_figures, figure_rows
from benchmarks.errors import BenchError
from benchmarks.figure_spec import FigureChoice
from benchmarks.matrix import load_matrix, parse_matrix
from benchmarks.reporting import metric_info, with_teachers
from benchmarks.store import ResultStore
from reports.figures import (
    BOX_COLOR,
    Panel,
    box_side,
    draw_comparison,
    pick_box,
    pick_images,
)
from tests.conftest import TINY_MATRIX

from .kd_store import PLANT, build


def _flat(h=60, w=80, value=100):
    return np.full((h, w, 3), value, dtype=np.uint8)


def _textured(rng, h=60, w=80):
    return rng.integers(60, 200, (h, w, 3), dtype=np.uint8)


def test_pick_box_lands_where_the_details_differ():
    rng = np.random.default_rng(0)
    a = _flat()
    b, c = a.copy(), a.copy()
    b[30:40, 50:60] = _textured(rng, 10, 10)  # the only place the outputs' details disagree
    c[30:40, 50:60] = _textured(rng, 10, 10)
    x, y, w, h = pick_box([a, b, c], side=10)
    assert abs(x - 50) <= 1 and abs(y - 30) <= 1 and (w, h) == (10, 10)
    x, y, w, h = pick_box([a, b, c], side=16)
    assert x <= 50 and y <= 30 and x + w >= 60 and y + h >= 40


def test_pick_box_ignores_a_flat_colour_shift():
    rng = np.random.default_rng(1)
    a = _flat()
    b = np.clip(a.astype(int) + 40, 0, 255).astype(np.uint8)  # a colour cast everywhere: no detail
    b[5:15, 60:70] = _textured(rng, 10, 10)  # a small textured difference
    x, y, w, h = pick_box([a, b], side=10)
    assert abs(x - 60) <= 1 and abs(y - 5) <= 1


def test_pick_box_never_uses_the_border():
    rng = np.random.default_rng(2)
    a, b = _flat(), _flat()
    b[0:4, 0:4] = _textured(rng, 4, 4)  # inside the 4-pixel shave: ignored
    b[20:24, 30:34] = _textured(rng, 4, 4)
    x, y, w, h = pick_box([a, b], side=8, border=4)
    assert x >= 4 and y >= 4 and x <= 30 and x + w >= 34 and y <= 20 and y + h >= 24


def test_pick_box_needs_two_images_of_one_size():
    with pytest.raises(ValueError, match="two images"):
        pick_box([_flat()])
    with pytest.raises(ValueError, match="differ in size"):
        pick_box([_flat(), _flat(h=61)])
    assert box_side((384, 384)) == 77 and box_side((60, 80)) == 24 and box_side((1000, 2000)) == 120


def test_pick_images_ranks_by_spread_across_rows():
    scores = pd.DataFrame([
        ("Set5", "baby", "A", 30.0), ("Set5", "baby", "B", 30.1),
        ("Set5", "bird", "A", 30.0), ("Set5", "bird", "B", 30.9),
        ("Set14", "zebra", "A", 25.0), ("Set14", "zebra", "B", 25.5),
        ("Set14", "lenna", "A", 31.0)],  # one row only: not comparable
        columns=["dataset", "image", "label", "value"])
    assert pick_images(scores, n=2) == [("Set5", "bird", pytest.approx(0.9)), ("Set14", "zebra", 0.5)]
    assert pick_images(scores.iloc[:0]) == []


def test_draw_comparison_writes_png_and_pdf_with_the_box(tmp_path):
    hr = np.zeros((64, 96, 3), dtype=np.uint8)
    panels = [Panel("HR", hr, ("reference",), reference=True), Panel("<b>A</b> $x$", hr + 50, ("30.00 dB",)),
              Panel("B", hr + 100, ("31.00 dB / 0.9000", "LPIPS 0.100"))]
    png = draw_comparison(hr, (10, 20, 16, 16), panels, "", tmp_path / "f.png", tmp_path / "f.pdf")
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    red = np.array([int(BOX_COLOR[i:i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(img - red).sum(axis=-1) < 60).sum() > 50  # the red box and the HR crop's frame
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="at least one panel"):
        draw_comparison(hr, (0, 0, 8, 8), [], "", tmp_path / "g.png")


# --------------------------------------------------------------------------- matrix field


def _tiny(**changes):
    data = yaml.safe_load(TINY_MATRIX)
    data.update(changes)
    return data


def test_matrix_figures_field_is_validated():
    m = parse_matrix(_tiny(figures=[{"dataset": "embedded-test", "image": "camera", "box": [10, 20, 64, 48]},
                                    {"dataset": "embedded-test", "image": "coffee", "scale": 2}]))
    assert m.figures == (FigureChoice("embedded-test", "camera", (10, 20, 64, 48), None),
                         FigureChoice("embedded-test", "coffee", None, 2))
    assert parse_matrix(_tiny()).figures == ()


@pytest.mark.parametrize("figures, needle", [
    ({"dataset": "embedded-test"}, "figures: expected a list"),
    ([{"dataset": "embedded-test", "image": "camera", "crop": [1, 2, 3, 4]}], "figures[0]: unknown field 'crop'"),
    ([{"dataset": "embedded-test"}], "figures[0]: missing field 'image'"),
    ([{"dataset": "embedded-test", "image": "lena"}], "unknown image 'lena' in embedded-test; valid choices: astronaut"),
    ([{"dataset": "embedded-train", "image": "ihc"}], "is a training set"),
    ([{"dataset": "nope", "image": "x"}], "nope"),
    ([{"dataset": "embedded-test", "image": "camera", "box": [1, 2, 3]}], "figures[0]: box: expected [x, y, w, h]"),
    ([{"dataset": "embedded-test", "image": "camera", "box": [-1, 2, 30, 30]}], "x, y >= 0"),
    ([{"dataset": "embedded-test", "image": "camera", "box": [370, 0, 30, 30]}], "lies outside the image (384x384"),
    ([{"dataset": "embedded-test", "image": "camera", "scale": 5}], "scale: unknown value 5"),
])
def test_bad_figures_entries_name_the_field(figures, needle):
    with pytest.raises(BenchError) as err:
        parse_matrix(_tiny(figures=figures), source="m.yaml")
    assert needle in str(err.value) and "\n" not in str(err.value)


# --------------------------------------------------------------------------- stored matrix


@pytest.fixture(scope="module")
def kd(tmp_path_factory):
    path, results = build(tmp_path_factory.mktemp("kdfig"))
    matrix = load_matrix(str(path))
    specs = with_teachers(matrix.expand())
    store = ResultStore(results / "results.sqlite")
    return matrix, specs, store, results


def test_rows_are_references_teacher_then_methods(kd):
    _, specs, store, _ = kd
    assert [r.id for r in figure_rows(specs, store, 2)] == ["bicubic", "teacher", "baseline", "fakd", "clsd"]


def test_automatic_figures_pick_the_images_and_the_planted_crop(kd, tmp_path):
    matrix, specs, store, results = kd
    got = comparison_figures((), specs, store, results, tmp_path, store.image_frame(specs), matrix.metrics,
                             metric_info(matrix.metrics))
    assert [(f.dataset, f.image) for f in got.figures] == [("embedded-test", "chelsea"), ("embedded-test", "camera")]
    x, y, w, h = got.figures[0].box
    px, py, pw, ph = PLANT
    assert x <= px and y <= py and x + w >= px + pw and y + h >= py + ph
    first = got.figures[0]
    assert first.rows == ("HR", "Bicubic", "Teacher teach", "Student (no KD)", "FAKD", "CLSD")
    assert (tmp_path / first.png).is_file() and (tmp_path / first.pdf).read_bytes().startswith(b"%PDF")
    assert first.png == "figures/compare_embedded-test_chelsea.png"
    assert "Chosen automatically" in first.caption and "PSNR (dB) / SSIM" in first.caption
    assert got.notes == ()  # saved images: nothing re-generated


def test_chosen_figures_use_the_box_and_say_why_others_are_not_drawn(kd, tmp_path):
    matrix, specs, store, results = kd
    choices = (FigureChoice("embedded-test", "coffee", (8, 8, 32, 24), None),
               FigureChoice("set5", "baby", None, None),
               FigureChoice("embedded-test", "camera", None, 4))
    got = comparison_figures(choices, specs, store, results, tmp_path, store.image_frame(specs), matrix.metrics)
    assert [(f.image, f.box) for f in got.figures] == [("coffee", (8, 8, 32, 24))]
    assert "Chosen in the matrix" in got.figures[0].caption
    assert any("Set5 is not evaluated in this profile" in n for n in got.notes)
    assert any("×4 is not run in this profile" in n for n in got.notes)


def test_a_missing_image_is_a_note_not_a_crash(kd, tmp_path):
    matrix, specs, store, results = kd
    choices = (FigureChoice("embedded-test", "coffee", (100, 80, 40, 40), None),)  # beyond the 128x96 image
    got = comparison_figures(choices, specs, store, results, tmp_path, store.image_frame(specs), matrix.metrics)
    assert got.figures == () and "lies outside the HR image (128x96" in got.notes[0]
