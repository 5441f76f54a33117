"""Tables for papers: LaTeX (booktabs, bold best, underlined second, direction arrows, published
second rows; compiles with pdflatex where installed), Markdown and CSV; hostile labels escaped;
the clsd2023 smoke report's LaTeX."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pandas as pd
import pytest

from benchmarks.matrix import load_matrix
from benchmarks.reporting import with_teachers, write_report
from benchmarks.scores import SetScore
from benchmarks.store import ResultStore, RunResult
from reports.latex import escape, table_tex
from reports.markdown import escape as md_escape
from reports.markdown import table_md
from reports.paper_tables import paper_tables
from reports.table_files import tables_csv, write_tables

from .conftest import METRIC_INFO

PDFLATEX = shutil.which("pdflatex")
HOSTILE = r"<script>alert(1)</script> & 50% $x_1$ #2 {a} ~ ^ \ |"


def _tables(frame, published=None):
    return {t.metric: t for t in paper_tables(frame, METRIC_INFO, published)}


def test_one_table_per_metric_with_values_marks_and_published_rows(smoke_frame, published):
    tables = _tables(smoke_frame, published)
    assert list(tables) == ["psnr", "lpips"]  # niqe has no value anywhere: no table
    psnr = tables["psnr"]
    assert psnr.columns == ("Set5", "Set14") and [b.scale for b in psnr.blocks] == [2, 4]
    x2 = {r.method: r for r in psnr.blocks[0].rows}
    assert [c.text for c in x2["fakd"].cells] == ["37.970", "33.530"]
    assert [c.mark for c in x2["fakd"].cells] == ["best", "best"]
    assert [c.mark for c in x2["baseline"].cells] == ["second", "second"]
    assert [c.mark for c in x2["bicubic"].cells] == ["", ""] and x2["bicubic"].reference
    assert x2["fakd"].cells[0].spread == "0.014" and x2["fakd"].cells[0].n == 2
    assert [c.text for c in x2["fakd"].published] == ["37.976", "33.523"]
    assert [c.text for c in x2["baseline"].published] == ["37.919", "33.439"]
    assert x2["bicubic"].published is None
    x4 = {r.method: r for r in psnr.blocks[1].rows}
    assert x4["clsd"].cells[0].text == "failed" and not x4["clsd"].cells[0].number
    assert tables["lpips"].lower_better and tables["lpips"].arrow == "↓" and psnr.arrow == "↑"


def test_latex_uses_booktabs_bold_underline_arrows_and_published_rows(smoke_frame, published):
    tex = table_tex(_tables(smoke_frame, published)["psnr"])
    assert tex.count(r"\toprule") == 1 and tex.count(r"\bottomrule") == 1 and r"\midrule" in tex
    assert r"PSNR (dB) $\uparrow$" in tex and r"\cmidrule(lr){4-5}" in tex
    assert r"\textbf{37.970}{\scriptsize$\pm$0.014}" in tex
    assert r"\underline{37.920}{\scriptsize$\pm$0.028}" in tex
    assert r"\quad{\footnotesize\textit{published}} &  & {\footnotesize\textit{37.976}}" in tex
    assert r"\textit{failed}" in tex and r"$\times$4" in tex
    assert "NOT comparable" in tex  # smoke numbers beside published ones say so in the caption
    lp = table_tex(_tables(smoke_frame, published)["lpips"])
    assert r"LPIPS $\downarrow$" in lp and r"\textbf{0.0850}" in lp


def test_latex_rows_have_as_many_cells_as_columns(smoke_frame, published):
    tex = table_tex(_tables(smoke_frame, published)["psnr"])
    spec = re.search(r"\\begin\{tabular\}\{([a-z]+)\}", tex).group(1)
    body = tex.split(r"\midrule", 1)[1].split(r"\bottomrule")[0]
    rows = [r for r in body.split(r"\\") if r.strip() and r.strip() != r"\midrule"]
    assert rows and all(r.replace(r"\&", "").count("&") == len(spec) - 1 for r in rows)


def test_hostile_labels_are_escaped_in_latex_and_markdown(smoke_frame):
    frame = smoke_frame.replace({"label": {"EDSR 16x64 FAKD": HOSTILE}})
    tex = table_tex(_tables(frame)["psnr"])
    assert (r"\textless{}script\textgreater{}alert(1)\textless{}/script\textgreater{} \& 50\% \$x\_1\$ \#2 "
            r"\{a\} \textasciitilde{} \textasciicircum{} \textbackslash{} \textbar{}") in tex
    md = table_md(_tables(frame)["psnr"])
    assert "<script>" not in md and r"\<script\>alert(1)\</script\> \& 50% $x\_1$ #2 \{a\} \~ ^ \\ \|" in md
    assert escape("a_b") == r"a\_b" and md_escape("[x](y)") == r"\[x\](y)"


def test_markdown_marks_and_published_rows(smoke_frame, published):
    md = table_md(_tables(smoke_frame, published)["psnr"])
    assert md.startswith("### PSNR (dB) ↑\n")
    assert "| ×2 | *Bicubic* |  | 33.660 ± 0.000 | 30.240 ± 0.000 |" in md
    assert "| **37.970** ± 0.014 |" in md and "<ins>37.920</ins> ± 0.028" in md
    assert "|  | &nbsp;&nbsp;*published* |  | *37.976* | *33.523* |" in md
    lines = [line for line in md.splitlines() if line.startswith("|")]
    assert len({line.count("|") - line.count(r"\|") for line in lines}) == 1  # every row as wide as the header


def test_csv_has_one_row_per_cell_with_marks_and_published(smoke_frame, published):
    csv = tables_csv(list(_tables(smoke_frame, published).values()))
    fakd = csv[(csv.metric == "psnr") & (csv.method == "fakd") & (csv.scale == 2) & (csv.dataset == "Set5")].iloc[0]
    assert fakd["mark"] == "best" and fakd["mean"] == pytest.approx(37.97) and fakd["published"] == "37.976"
    assert fakd["direction"] == "higher is better" and fakd["n_seeds"] == 2
    assert len(csv) == 2 * (3 + 4) * 2  # metrics x (rows at x2 + rows at x4: clsd only ran at x4) x sets


def test_write_tables_writes_the_requested_formats(tmp_path, smoke_frame):
    tables = list(_tables(smoke_frame).values())
    written = write_tables(tables, tmp_path, ["latex", "md"], "Title & co")
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "tables.tex", "latex/psnr.tex", "latex/lpips.tex", "tables.md"]
    doc = (tmp_path / "tables.tex").read_text()
    assert r"\usepackage{booktabs}" in doc and r"\input{latex/psnr}" in doc and r"Title \& co" in doc
    assert not (tmp_path / "tables.csv").exists()


def _compile_or_check(folder, doc="tables.tex"):
    """pdflatex where installed (the PDF must appear); otherwise the document's structure."""
    text = (folder / doc).read_text()
    fragments = [(folder / f"{m}.tex").read_text() for m in re.findall(r"\\input\{([^}]+)\}", text)]
    for tex in [text] + fragments:
        assert tex.count(r"\begin{") == tex.count(r"\end{")
        assert tex.count("{") - tex.count(r"\{") == tex.count("}") - tex.count(r"\}")
    if PDFLATEX is None:
        if os.environ.get("BENCH_REQUIRE_TOOLS"):
            pytest.fail("BENCH_REQUIRE_TOOLS is set but pdflatex is not installed (apt-get install texlive-latex-base "
                        "texlive-latex-recommended)")
        return None
    out = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", doc], cwd=folder,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout[-3000:]
    return folder / doc.replace(".tex", ".pdf")


def test_hostile_latex_compiles(tmp_path, smoke_frame, published):
    frame = smoke_frame.replace({"label": {"EDSR 16x64 FAKD": HOSTILE}})
    write_tables(list(_tables(frame, published).values()), tmp_path, ["latex"], HOSTILE)
    pdf = _compile_or_check(tmp_path)
    assert pdf is None or pdf.read_bytes().startswith(b"%PDF")


def test_clsd2023_smoke_report_latex_compiles(tmp_path):
    """Every row of the clsd2023 smoke profile stored (numbers made up), its report's LaTeX written
    and compiled: the paper's published values appear as second rows."""
    matrix = load_matrix("clsd2023")
    specs = matrix.expand("smoke")
    results = tmp_path / "results"
    store = ResultStore(results / "results.sqlite")
    for k, spec in enumerate(with_teachers(specs)):
        value = 30.0 + spec.scale * -1.5 + 0.01 * k
        store.put(RunResult(key=spec.key(), spec=spec, status="ok", params=1000 + k,
                            set_scores=(SetScore("Set5", "psnr", value), SetScore("Set5", "ssim", 0.9 - 0.001 * k))))
    out = write_report(matrix, specs, store, results, command="test", formats=("latex", "md", "csv"))
    assert out.is_dir() and not (out / "index.html").exists()
    tex = (out / "latex" / "psnr.tex").read_text()
    assert r"\quad{\footnotesize\textit{published}}" in tex and "L\\_SR + L\\_ASR" in tex
    assert r"$\times$2" in tex and r"$\times$4" in tex
    assert "{\\footnotesize\\textit{38.00}}" in tex or re.search(r"\\textit\{3\d\.\d+\}", tex)
    pdf = _compile_or_check(out)
    assert pdf is None or pdf.stat().st_size > 1000
    csv = pd.read_csv(out / "tables.csv")
    assert set(csv["metric"]) == {"psnr", "ssim"} and csv["published"].notna().any()
