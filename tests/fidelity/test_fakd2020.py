"""FAKD against its own authors' numbers: the README's RCAN/SAN results as published data, RCAN in
the archs with the README's parameter counts, the fakd2020 matrix (smoke on the CPU, paper = the
official code's settings)."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from benchmarks.archs import build_arch
from benchmarks.archs.presets import PRESETS
from benchmarks.cli import main
from benchmarks.matrix import load_matrix
from benchmarks.published_tables import load_paper
from benchmarks.reporting import with_teachers
from methods._heads import thirds_paths

SETS = ("Set5", "Set14", "B100", "Urban100")


def test_readme_numbers_as_transcribed():
    paper = load_paper("fakd2020")
    t2, t4 = paper.table("table1"), paper.table("table3")
    assert (t2.scale, t4.scale) == (2, 4)
    assert t2.value("RCAN TN", "Set5 PSNR") == 38.271 and t2.value("RCAN TN", "Set5 SSIM") == 0.9614
    assert t4.value("RCAN SN+FAKD", "Urban100 PSNR") == 26.422 and t4.value("SAN SN", "B100 SSIM") == 0.7385
    assert paper.table("table4").value("RCAN TN", "Params") == 15.59
    assert t2.methods["RCAN TN"] == "teacher" and t2.methods["RCAN SN+FAKD"] == "fakd"


@pytest.mark.parametrize("family", ["RCAN", "SAN"])
def test_readme_psnr_order_teacher_fakd_student_everywhere(family):
    """The README's claim, checked on every printed PSNR: TN > SN+FAKD > SN."""
    paper = load_paper("fakd2020")
    for tid in ("table1", "table2", "table3"):
        t = paper.table(tid)
        for ds in SETS:
            tn, fakd, sn = (t.value(f"{family} {r}", f"{ds} PSNR") for r in ("TN", "SN+FAKD", "SN"))
            assert tn > fakd > sn, (tid, ds)


def test_rcan_presets_match_the_readme_counts():
    for name, published in (("rcan-teacher", 15.59), ("rcan-student", 5.17)):
        p = PRESETS[name]
        assert p.published_params == published and p.matches_published(p.measured_params())
    out = CliRunner().invoke(main, ["ls", "archs"])
    assert out.exit_code == 0
    lines = {line.split()[0]: line for line in out.output.splitlines()[2:] if line.strip()}
    assert "15,592,379" in lines["rcan-teacher"] and "15.59M" in lines["rcan-teacher"]
    assert "5,171,339" in lines["rcan-student"] and "5.17M" in lines["rcan-student"]


def test_fakd_taps_on_the_readme_networks_are_the_codes():
    with torch.device("meta"):
        teacher = build_arch("rcan", 2, num_groups=10, num_blocks=20)
        student = build_arch("rcan", 2, num_groups=10, num_blocks=6)
    assert thirds_paths(teacher) == thirds_paths(student) == ("body.2", "body.6", "body+head")


def test_matrix_profiles():
    matrix = load_matrix("fakd2020")
    assert matrix.paper == "fakd2020"
    paper = matrix.profile("paper")
    assert (paper.iterations, paper.batch_size, paper.patch_size, paper.lr, paper.milestones,
            paper.pixel_range) == (200000, 16, 48, 1e-4, (150000,), 255)
    specs = with_teachers(matrix.expand("paper"))
    assert {s.id for s in specs} == {"baseline", "fakd", "bicubic", "teacher"}
    teacher = next(s for s in specs if s.id == "teacher")
    assert teacher.student.kwargs == {"num_groups": 10, "num_blocks": 20, "num_feat": 64}
    assert next(s for s in specs if s.id == "fakd").student.kwargs == {"num_groups": 10, "num_blocks": 6,
                                                                         "num_feat": 64}
    assert [s.filename for s in matrix.teacher_sources("paper")] == ["RCAN_BIX2.pt", "RCAN_BIX3.pt", "RCAN_BIX4.pt"]
    assert len(matrix.expand("smoke")) == 9


@pytest.mark.slow
@pytest.mark.needs_shared
def test_smoke_profile_runs_on_the_cpu(shared_data, tmp_path):
    out = CliRunner().invoke(main, ["run", "--matrix", "fakd2020", "--profile", "smoke", "--data-dir", str(shared_data),
                                    "--results-dir", str(tmp_path), "--quiet", "--device", "cpu"])
    assert out.exit_code == 0, out.output
    page = (tmp_path / "reports" / "fakd2020-smoke" / "index.html").read_text(encoding="utf-8")
    assert "Table 1 (fakd2020)" in page and "RCAN SN+FAKD" in page
