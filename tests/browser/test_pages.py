"""The pages a person opens, in headless Chromium: the report index of a KD matrix, a paper
report (clsd2023), and the DMOS rating page. Each loads without console errors, every image and
plot loads, every table has rows, untrusted text (labels, row ids, rater names) shows as text and
runs nothing; on the rating page a score is picked for every image, the download button's CSV is
read back and `bench dmos score` accepts it. A full-page screenshot of each page is kept in the
test's tmp folder (and copied to $BENCH_SCREENSHOT_DIR when set)."""

from __future__ import annotations

import csv
import time

import numpy as np
from click.testing import CliRunner

from benchmarks.cli import main
from benchmarks.dmos.export import export_study
from benchmarks.matrix import load_matrix
from benchmarks.reporting import with_teachers
from benchmarks.scores import SetScore
from benchmarks.store import ResultStore, RunResult
from tests.reports.kd_store import build

HOSTILE_LABEL = "<script>alert(1)</script>"
HOSTILE_ID = '"><img src=x onerror=alert(2)>'
HOSTILE_RATER = 'Rater <script>alert(3)</script>, "one"'


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def check_page(page, path, shot, min_images: int, record_property) -> None:
    page.open(path)
    assert page.console_errors() == []
    assert page.broken_images() == []
    assert page.image_count() >= min_images
    rows = page.table_rows()
    assert all(n > 0 for n in rows), rows
    assert not page.alert_open()
    record_property("screenshot", str(page.screenshot(shot)))


def test_report_index_of_a_kd_matrix(page, tmp_path, record_property):
    matrix, results = build(tmp_path / "kd", seeds=(0, 1), baseline_label=HOSTILE_LABEL, clsd_id=HOSTILE_ID)
    out = invoke("report", "--matrix", matrix, "--results-dir", results)
    assert out.exit_code == 0, out.output
    index = results / "reports" / "kdsynth-smoke" / "index.html"
    check_page(page, index, tmp_path / "report_index.png", min_images=7, record_property=record_property)
    text = page.text()
    assert HOSTILE_LABEL in text  # shown as text, not run
    assert "Is the gain real? Gains over the no-KD baseline" in text and "Visual comparison" in text
    assert len(page.table_rows()) >= 4  # PSNR, SSIM, and the two gains tables
    srcs = page.driver.execute_script("return Array.from(document.images).map(i => i.getAttribute('src'))")
    assert "figures/compare_embedded-test_chelsea.png" in srcs and "gains.png" in srcs
    titles = page.driver.execute_script(
        "return Array.from(document.querySelectorAll('[title]')).map(e => e.getAttribute('title'))")
    assert any(HOSTILE_ID in t for t in titles)  # the row id sits in an attribute, intact and inert
    links = page.driver.execute_script("return Array.from(document.links).map(a => a.getAttribute('href'))")
    for href in ("tables.tex", "tables.md", "tables.csv", "figures/compare_embedded-test_chelsea.pdf"):
        assert href in links and (index.parent / href).is_file()


def test_paper_report_of_clsd2023(page, tmp_path, record_property):
    matrix = load_matrix("clsd2023")
    specs = matrix.expand("smoke")
    results = tmp_path / "results"
    store = ResultStore(results / "results.sqlite")
    for k, spec in enumerate(with_teachers(specs)):
        store.put(RunResult(key=spec.key(), spec=spec, status="ok", params=10_000 + 100 * k,
                            train_seconds=30.0 + k, set_scores=(SetScore("Set5", "psnr", 33.0 - spec.scale + 0.01 * k),
                                                                SetScore("Set5", "ssim", 0.92 - 0.001 * k))))
    out = invoke("report", "--matrix", "clsd2023", "--profile", "smoke", "--results-dir", results)
    assert out.exit_code == 0, out.output
    index = results / "reports" / "clsd2023-smoke" / "index.html"
    check_page(page, index, tmp_path / "paper_clsd2023.png", min_images=3, record_property=record_property)
    text = page.text()
    assert "Table 2 (clsd2023)" in text and "Fig. 3 (clsd2023)" in text
    assert "37.919" in text or "38.0" in text  # published numbers beside the measured ones
    assert len(page.table_rows()) >= 6


def _study(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    hr_dir = tmp_path / "HR"
    methods = {"<b>GAN2G</b>": tmp_path / "m1", "G2G+AL": tmp_path / "m2"}
    for i in range(4):
        hr = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
        for folder, img in [(hr_dir, hr)] + [(d, np.clip(hr.astype(int) + 20 * (k + 1), 0, 255).astype(np.uint8))
                                             for k, d in enumerate(methods.values())]:
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(folder / f"im{i}.png")
    return export_study(methods, hr_dir, tmp_path / "study", n=3, seed=0)


def test_dmos_rating_page_rates_downloads_and_scores(page, tmp_path, record_property):
    from selenium.webdriver.common.by import By

    study = _study(tmp_path)
    check_page(page, study.html_path, tmp_path / "dmos_rating.png", min_images=study.n_items,
               record_property=record_property)
    page.driver.find_element(By.ID, "rater").send_keys(HOSTILE_RATER)
    groups = page.driver.execute_script(
        "return Array.from(new Set(Array.from(document.querySelectorAll('input[type=radio]')).map(e => e.name)))")
    assert len(groups) == study.n_items
    picked = {}
    for k, name in enumerate(groups):
        score = k % 5 + 1
        radio = page.driver.find_element(By.CSS_SELECTOR, f'input[name="{name}"][value="{score}"]')
        page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", radio)
        radio.click()
        picked[name] = score
    page.driver.find_element(By.ID, "save").click()
    deadline, files = time.time() + 20, []
    while time.time() < deadline:
        files = [p for p in page.download_dir.glob("ratings_*.csv")]
        if files and not list(page.download_dir.glob("*.crdownload")):
            break
        time.sleep(0.2)
    assert len(files) == 1, list(page.download_dir.iterdir())
    assert not page.alert_open() and page.console_errors() == []
    rows = list(csv.DictReader(files[0].open(newline="", encoding="utf-8")))
    assert {r["rater"] for r in rows} == {HOSTILE_RATER}
    assert {r["image_id"]: int(r["score"]) for r in rows} == picked
    page.screenshot(tmp_path / "dmos_rating_filled.png")
    out = invoke("dmos", "score", files[0], "--key", study.key_path, "--output", tmp_path / "dmos.csv")
    assert out.exit_code == 0, out.output
    assert (tmp_path / "dmos.csv").is_file()
