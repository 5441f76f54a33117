"""write_report on a matrix tied to a paper: the paper's tables in its layout, published beside measured.

Every number stored here is SYNTHETIC (made up for the test, no training): PSNR/SSIM, parameter
counts and training times are invented so that the report's layout, deltas and banners can be
checked. Only the published numbers (benchmarks/published/clsd2023.yaml) are real.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from benchmarks.matrix import load_matrix
from benchmarks.published_tables import load_paper, published_frame
from benchmarks.reporting import with_teachers, write_report
from benchmarks.store import ResultStore, RunResult, SetScore

PAPER = "clsd2023"

# ---- SYNTHETIC values (not measurements) ------------------------------------------------------
SYNTH_BASE_PSNR = {  # per (dataset, scale)
    ("Set5", 2): 37.900, ("Set14", 2): 33.450, ("B100", 2): 32.100, ("Urban100", 2): 31.700,
    ("Set5", 3): 34.250, ("Set14", 3): 30.250, ("B100", 3): 29.050, ("Urban100", 3): 27.950,
    ("Set5", 4): 32.100, ("Set14", 4): 28.500, ("B100", 4): 27.530, ("Urban100", 4): 25.900,
}
SYNTH_OFFSET = {"baseline": 0.0, "teacher-init": 0.030, "fakd": 0.050, "lsfd": 0.060, "ds": 0.040,
                "clsd": 0.080, "ablation-sr-asr": 0.020, "teacher": 0.300, "bicubic": -4.0,
                # these rows share the run (the same key) of a main row, so they share its value
                "ablation-sr": 0.0, "ablation-sr-asr-sd": 0.040, "ablation-sr-asr-cs": 0.080}
SYNTH_PARAMS = {"student": {2: 1_370_000, 3: 1_554_000, 4: 1_518_000},
                "teacher": {2: 40_730_000, 3: 43_680_000, 4: 43_090_000}}
SYNTH_HOURS = {"baseline": 19.0, "teacher-init": 21.0, "fakd": 40.0, "lsfd": 47.5, "ds": 25.0,
               "clsd": 31.0, "teacher": 20.0}


def synth_offset(row_id: str) -> float:
    if row_id.startswith("ph-depth-"):  # a made-up peak at depth 5
        return 0.080 - 0.004 * (int(row_id.rsplit("-", 1)[1]) - 5) ** 2
    return SYNTH_OFFSET.get(row_id, 0.01)


def synth_psnr(row_id: str, dataset: str, scale: int) -> float:
    return round(SYNTH_BASE_PSNR[(dataset, scale)] + synth_offset(row_id), 4)


def synth_result(spec) -> RunResult:
    """A fake finished run of `spec` with synthetic scores, params and training time."""
    role = "teacher" if spec.id == "teacher" else "student"
    hours = None if spec.is_reference else SYNTH_HOURS.get(spec.method if spec.id.startswith(
        ("ablation", "ph-depth")) else spec.id, 30.0)
    scores = []
    for name in spec.eval_sets:
        dataset = {"set5": "Set5", "set14": "Set14", "b100": "B100", "urban100": "Urban100"}[name]
        psnr = synth_psnr(spec.id, dataset, spec.scale)
        scores += [SetScore(dataset, "psnr", psnr), SetScore(dataset, "ssim", round(psnr / 40.0, 4))]
    return RunResult(
        spec.key(), spec, "ok", params=0 if spec.is_reference else SYNTH_PARAMS[role][spec.scale],
        train_seconds=None if hours is None else hours * 3600.0,
        teacher_key=spec.teacher_spec().key() if spec.teacher is not None else None,
        teacher_seconds=SYNTH_HOURS["teacher"] * 3600.0 if spec.teacher is not None else None,
        set_scores=tuple(scores),
        conditions='{"hardware": "SYNTHETIC test machine", "git_revision": "synthetic"}')


def build_report(out: Path, profile: str, with_plots: bool = False) -> tuple[Path, str]:
    """A store with a synthetic result for every spec (and teacher spec) of the matrix."""
    matrix = load_matrix(PAPER)
    specs = matrix.expand(profile)
    store = ResultStore(out / "results.sqlite")
    done = set()
    for spec in with_teachers(specs):
        if spec.key() not in done:  # rows sharing a run (ablation-sr = baseline) store it once
            done.add(spec.key())
            store.put(synth_result(spec))
    index = write_report(matrix, specs, store, out, command=f"pytest synthetic {profile}",
                         out_dir=out / "report", with_plots=with_plots)
    return index, index.read_text(encoding="utf-8")
# ------------------------------------------------------------------------------------------------


def sections(html: str) -> dict[str, str]:
    """HTML of each paper section, by table / figure id."""
    parts = re.split(r'<section class="paper-item', html)[1:]
    out = {}
    for part in parts:
        m = re.search(rf'id="[^"]*{PAPER}-((?:table|fig)\d+)"', part)
        out[m.group(1)] = part.split("</section>")[0]
    return out


def v(text: str) -> str:
    return f'<span class="v">{text}</span>'


def fmt(x: float, decimals: int, sign: bool = False) -> str:
    return (f"{x:+.{decimals}f}" if sign else f"{x:.{decimals}f}").replace("-", "\u2212")


@pytest.fixture(scope="module")
def paper_report(tmp_path_factory):
    return build_report(tmp_path_factory.mktemp("paper"), "paper")


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory):
    return build_report(tmp_path_factory.mktemp("smoke"), "smoke", with_plots=True)


def test_every_table_of_the_paper_in_order(paper_report):
    _, html = paper_report
    paper = load_paper(PAPER)
    found = sections(html)
    assert list(found) == ["table1", "table2", "table3", "table4", "table5", "fig3", "table6"]
    for table in paper.tables:
        n = table.id.removeprefix("table")
        assert re.search(rf"<h3>Table {n} \({PAPER}\): [^<]* — {re.escape(table.caption)}</h3>",
                         found[table.id])
    assert "<h3>Table 2 (clsd2023): PSNR ×2 — Experimental results" in html
    assert "<h3>Fig. 3 (clsd2023): PSNR vs ResBlocks per head, Set14 ×2 — " in html
    assert "not comparable" not in html


def test_published_numbers_as_printed_with_deltas(paper_report):
    _, html = paper_report
    found = sections(html)
    pub = published_frame(PAPER)
    psnr = pub[pub["metric"] == "psnr"]
    assert len(psnr) == 68
    for rec in psnr.itertuples():
        part = found[rec.table]
        shown = fmt(rec.value, rec.decimals)
        assert v(shown) in part or v(shown + "*") in part, (rec.table, rec.row, shown)
        measured = synth_psnr(rec.method, rec.dataset, int(rec.scale))
        assert v(fmt(measured, 3)) in part
        delta = fmt(measured - rec.value, 3, sign=True)
        assert f'<td class="num delta"><span class="v">{delta}</span></td>' in part, (rec.table, rec.row)
    assert v("25.905*") in found["table4"]  # printed '25,905' in the paper
    assert "printed as &#39;25,905&#39;" in found["table4"]
    # the paper's row labels head the rows; the matrix's label below when it differs
    assert "LFD[10]" in found["table2"] and "measured: LFD (LSFD, reconstructed)" in found["table2"]
    assert "L_SR + L_ASR + L_CS" in found["table5"]


def test_parameter_table(paper_report):
    _, html = paper_report
    part = sections(html)["table1"]
    for text in ("40.7M", "1.5M", "40.73M", "43.09M", "1.37M", "+0.03", "\u22120.13"):
        assert v(text) in part, text
    assert v("32") in part and v("256") in part and v("16") in part  # config, measured and paper
    assert "measured: Teacher edsr-32x256" in part


def test_training_hours_table(paper_report):
    _, html = paper_report
    part = sections(html)["table6"]
    for text in ("20.3", "40.9", "61.2", "69.1", "25.7", "30.2"):  # published
        assert v(text) in part, text
    # SYNTHETIC measured hours of the x2 runs: teacher 20 h, FAKD 40 h, LSFD 47.5 h, DS 25 h, CLSD 31 h
    for text in ("20.00", "40.00", "60.00", "47.50", "67.50", "25.00", "31.00"):
        assert v(text) in part, text
    for delta in ("\u22121.20", "\u22120.30", "\u22121.60", "\u22120.70", "+0.80"):
        assert f'<span class="v">{delta}</span>' in part, delta
    assert "×2, the matrix&#39;s first scale" in part
    assert "SYNTHETIC test machine" in part and "RTX Titan" in part


def test_ph_depth_figure_and_teacher_rows(paper_report):
    index, html = paper_report
    part = sections(html)["fig3"]
    src = re.search(r'<img src="([^"]+)"', part).group(1)
    with Image.open(index.parent / src) as im:
        assert im.format == "PNG" and im.width > 200
    for depth in (1, 3, 5, 7, 10):
        assert v(fmt(synth_psnr(f"ph-depth-{depth}", "Set14", 2), 3)) in part
    # teacher runs are rows of the summary tables, italic (ref) and not ranked
    # (the paper profile's teacher says where it comes from: the official checkpoint, or not found)
    assert re.search(r'<th class="rowhead ref" title="method id: teacher">'
                     r'<span class="v">Teacher edsr-32x256 \((trained from scratch|official checkpoint)\)</span>', html)
    assert "Tables of the paper clsd2023" in html and "All rows of the matrix" in html


def test_smoke_profile_has_banner_and_no_delta(smoke_report):
    index, html = smoke_report
    found = sections(html)
    assert list(found) == ["table1", "table2", "table3", "table4", "table5", "fig3", "table6"]
    assert "smoke profile — not comparable to published numbers" in html
    assert 'class="num delta"' not in html and ">Δ<" not in html
    assert v("37.919") in found["table2"]  # published numbers are still shown
    assert "Set14 is not evaluated in this profile" in found["fig3"]
    srcs = re.findall(r'<img src="([^"]+)"', html)
    assert {"psnr_vs_params.png", "psnr_vs_hours.png"} <= set(srcs)
    for src in srcs:
        assert (index.parent / src).stat().st_size > 1000


def test_tables_of_unmeasured_metrics(tmp_path):
    """Another paper's DMOS / PI tables against the clsd2023 rows: listed as not measured."""
    import pandas as pd

    from reports import render_report
    from reports.paper import PaperLayout

    frame = pd.DataFrame([{"run_key": "k", "matrix": "m", "method": "baseline", "label": "Baseline",
                           "arch": "edsr", "student": "s", "scale": 4, "seed": 0, "profile": "paper",
                           "dataset": "Set5", "metric": "psnr", "value": 30.0, "params": 1.5e6,
                           "train_seconds": 3600.0, "teacher_seconds": None, "status": "ok",
                           "note": ""}])  # SYNTHETIC
    layout = PaperLayout.from_published(load_paper("srgankd2021"))
    index = render_report(frame, tmp_path, {}, {"psnr": {"label": "PSNR (dB)"}},
                          published=published_frame("srgankd2021"), paper=layout, with_plots=False)
    html = index.read_text(encoding="utf-8")
    assert "DMOS: not measured in this matrix" in html
    assert "PI: not measured in this matrix" in html
    assert "SSIM: not measured in this matrix" in html
