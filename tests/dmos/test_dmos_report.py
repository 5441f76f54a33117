"""DMOS HTML page (Tables 3-4 layout), the result store's dmos table, and `bench dmos score`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from benchmarks.cli import main
from benchmarks.dmos.export import export_study
from benchmarks.dmos.report import render_dmos_html, store_dmos
from benchmarks.dmos.score import read_key, score_files

METHODS = ["GAN2GAN", "GAN2G", "G2G+AL"]


def _study(tmp_path: Path, study_inputs, n: int = 4, raters: int = 3) -> tuple[Path, Path]:
    """Export a study of the fixture's 3 methods and write synthetic 1-5 ratings for it."""
    methods, hr_dir = study_inputs
    res = export_study(methods, hr_dir, tmp_path / "study_x", n=n, seed=0)
    key = read_key(res.key_path)
    rng = np.random.default_rng(1)
    lines = ["rater,image_id,score"]
    for r in range(raters):
        for image_id, is_ref in zip(key.image_id, key.is_reference):
            lines.append(f"r{r},{image_id},{5 if is_ref else int(rng.integers(1, 5))}")
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("\n".join(lines) + "\n")
    return Path(res.key_path), ratings


def test_html_has_tables_and_direction(tmp_path, study_inputs):
    key, ratings = _study(tmp_path, study_inputs)
    res = score_files(key, ratings)
    page = render_dmos_html(res, tmp_path / "out" / "dmos.html",
                            mean_pi={"GAN2GAN": 6.1, "GAN2G": None, "G2G+AL": 5.9})
    html = page.read_text()
    for m in METHODS:
        assert f">{m}<" in html
    assert "Mean</b>" in html
    assert "higher = worse" in html and "lowest value of each row is bold" in html
    assert "3 raters" in html and "4 images" in html and "ddof=1" in html
    assert "Table 4 layout" in html and "not computed" in html
    assert "not comparable per image" in html and "46.784" in html and "6.6864" in html
    # every row (images + Mean) has a bold best cell
    assert html.count('class="best"') >= 5
    # best per row is the lowest DMOS (eqs. 4-6 direction)
    t3 = res.table3()
    mean_best = f"{t3.loc['Mean'].min():.2f}"
    assert f'<td class="best"><span class="v">{mean_best}</span>' in html

    inv = render_dmos_html(res, tmp_path / "inv.html", inverted=True).read_text()
    assert "higher = better" in inv and "Table 4 layout" not in inv
    inv_best = f'{res.table3(inverted=True).loc["Mean"].max():.2f}'
    assert f'<td class="best"><span class="v">{inv_best}</span>' in inv


def test_store_replaces_study_rows(tmp_path, study_inputs):
    key, ratings = _study(tmp_path, study_inputs)
    res = score_files(key, ratings)
    db = tmp_path / "res" / "results.sqlite"
    assert store_dmos(db, "s1", res) == 12
    assert store_dmos(db, "s2", res) == 12
    assert store_dmos(db, "s1", res) == 12  # replaced, not appended
    with sqlite3.connect(db) as conn:
        rows = pd.read_sql_query("SELECT * FROM dmos WHERE study = 's1'", conn)
        total = conn.execute("SELECT COUNT(*) FROM dmos").fetchone()[0]
    assert total == 24 and len(rows) == 12
    assert sorted(rows.method.unique()) == sorted(METHODS)
    assert set(rows.raters) == {3}
    got = rows.set_index(["method", "image"]).dmos.sort_index()
    want = res.items.set_index(["method", "image"]).dmos.sort_index()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy())


def test_cli_writes_html_and_store(tmp_path, study_inputs):
    key, ratings = _study(tmp_path, study_inputs)
    results = tmp_path / "results"
    out = CliRunner().invoke(main, ["dmos", "score", str(ratings), "--key", str(key),
                                    "--results-dir", str(results)])
    assert out.exit_code == 0, out.output
    assert (key.parent / "dmos.html").is_file()
    with sqlite3.connect(results / "results.sqlite") as conn:
        rows = conn.execute("SELECT study, COUNT(*) FROM dmos GROUP BY study").fetchall()
    assert rows == [("study_x", 12)]

    html = tmp_path / "elsewhere" / "page.html"
    out = CliRunner().invoke(main, ["dmos", "score", str(ratings), "--key", str(key), "--html", str(html),
                                    "--inverted"])
    assert out.exit_code == 0, out.output
    assert "higher = better" in html.read_text()
