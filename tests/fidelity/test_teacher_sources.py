"""Official teacher checkpoints as the paper profiles' default: found through the weights folders
and loaded (in their pixel range), or the teacher is trained from scratch and labelled so, with
one line naming file, URL and folder; `{load: <official file>}` as a row's input."""

from __future__ import annotations

import pytest
import torch
import yaml
from click.testing import CliRunner

from benchmarks.checkpoint_files import find, missing_line, search_dirs
from benchmarks.cli import main
from benchmarks.errors import BenchError
from benchmarks.graph.cells import LoadCell, TrainCell
from benchmarks.matrix import load_matrix, parse_matrix
from benchmarks.metrics.weights import set_weights_dir
from benchmarks.reporting import with_teachers
from tests.conftest import TINY_MATRIX

from .test_official_checkpoints import official_edsr_state_dict


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("BENCH_WEIGHTS_DIR", str(folder))
    set_weights_dir(None)
    yield folder
    set_weights_dir(None)


def teacher_matrix(pixel_range=255, **paper):
    data = yaml.safe_load(TINY_MATRIX)
    data["teachers"] = {"t": {"arch": "edsr", "num_blocks": 2, "num_feat": 8}}
    data["methods"] = [{"method": "fakd", "label": "FAKD", "teacher": "t"}]
    data["profiles"]["smoke"].update(pixel_range=pixel_range, iterations=2, checkpoint_every=2)
    data["profiles"]["smoke"]["teacher_weights"] = {"t": {2: "tiny_official_x2.pt"}}
    data["profiles"]["paper"].update(paper)
    return data


def teacher_cell(matrix, profile="smoke"):
    return next(s for s in with_teachers(matrix.expand(profile)) if s.id == "teacher")


def test_missing_checkpoint_trains_the_teacher_and_says_why(weights_dir):
    matrix = parse_matrix(teacher_matrix())
    spec = teacher_cell(matrix)
    assert isinstance(spec.cell, TrainCell) and spec.label == "Teacher t (trained from scratch)"
    plain = teacher_matrix()
    del plain["profiles"]["smoke"]["teacher_weights"]
    assert spec.key() == teacher_cell(parse_matrix(plain)).key()  # the same cell as a plain trained teacher
    src, = matrix.teacher_sources("smoke")
    assert not src.loaded and "trained from scratch" in src.line()
    assert "tiny_official_x2.pt not found" in src.missing and str(weights_dir) in src.missing


def test_found_checkpoint_is_loaded(weights_dir):
    torch.save(official_edsr_state_dict(2, 8, 2), weights_dir / "tiny_official_x2.pt")
    spec = teacher_cell(parse_matrix(teacher_matrix()))
    assert isinstance(spec.cell, LoadCell) and spec.label == "Teacher t (official checkpoint)"
    assert spec.cell.arch.weights == str((weights_dir / "tiny_official_x2.pt").resolve())


def test_missing_line_names_file_url_and_folder(weights_dir):
    line = missing_line("edsr_x2-0edfb8a3.pt")
    assert "\n" not in line
    assert "checkpoint edsr_x2-0edfb8a3.pt not found" in line
    assert "download https://cv.snu.ac.kr/research/EDSR/models/edsr_x2-0edfb8a3.pt" in line
    assert f"into {weights_dir}" in line
    assert search_dirs()[0] == weights_dir
    (weights_dir / "edsr_x2-0edfb8a3.pt").write_bytes(b"x")
    assert find("edsr_x2-0edfb8a3.pt") == (weights_dir / "edsr_x2-0edfb8a3.pt").resolve()
    assert find("/no/such/dir/edsr_x2-0edfb8a3.pt") == (weights_dir / "edsr_x2-0edfb8a3.pt").resolve()


def test_paper_profiles_default_to_the_official_edsr_teacher(weights_dir):
    matrix = load_matrix("clsd2023")
    assert [(s.label, s.scale, s.filename) for s in matrix.teacher_sources("paper")] == [
        ("edsr-32x256", 2, "edsr_x2-0edfb8a3.pt"), ("edsr-32x256", 3, "edsr_x3-ea3ef2c6.pt"),
        ("edsr-32x256", 4, "edsr_x4-4f62e9ef.pt")]
    assert matrix.teacher_sources("smoke") == []  # the shrunken smoke teacher is always trained
    (weights_dir / "edsr_x3-ea3ef2c6.pt").write_bytes(b"stand-in bytes; not loaded at planning")
    labels = {s.scale: (type(s.cell).__name__, s.label) for s in with_teachers(matrix.expand("paper"))
              if s.id == "teacher"}
    assert labels == {2: ("TrainCell", "Teacher edsr-32x256 (trained from scratch)"),
                      3: ("LoadCell", "Teacher edsr-32x256 (official checkpoint)"),
                      4: ("TrainCell", "Teacher edsr-32x256 (trained from scratch)")}
    ckd = load_matrix("ckd2022")
    assert [s.filename for s in ckd.teacher_sources("paper")] == ["edsr_x2-0edfb8a3.pt"]


def test_short_load_form_takes_the_official_files_arch(weights_dir):
    data = yaml.safe_load(TINY_MATRIX)
    data["methods"] = [{"method": "fakd", "label": "FAKD (official teacher)", "id": "fakd-official",
                        "teacher": {"load": "edsr_x2-0edfb8a3.pt"}}]
    spec = next(s for s in with_teachers(parse_matrix(data).expand()) if s.id == "teacher")
    cell = spec.cell
    assert isinstance(cell, LoadCell) and cell.arch.arch == "edsr"
    assert cell.arch.kwargs == {"num_blocks": 32, "num_feat": 256, "res_scale": 0.1}
    assert spec.label == "Teacher edsr_x2-0edfb8a3 (official checkpoint)"
    data["scales"] = [3]
    with pytest.raises(BenchError, match=r"is the x2 checkpoint, used in a row at x3"):
        parse_matrix(data).expand()
    data["methods"][0]["teacher"] = {"load": "my_teacher.pt"}
    with pytest.raises(BenchError, match="'my_teacher.pt' is not a known public checkpoint; give {load: {arch, path}}"):
        parse_matrix(data, source="m.yaml")


def test_bad_teacher_weights_are_one_line_errors():
    data = teacher_matrix()
    data["profiles"]["smoke"]["teacher_weights"] = {"nope": {2: "x.pt"}}
    with pytest.raises(BenchError, match=r"profiles.smoke.teacher_weights: unknown value 'nope'"):
        parse_matrix(data, source="m.yaml")
    data["profiles"]["smoke"]["teacher_weights"] = {"t": {5: "x.pt"}}
    with pytest.raises(BenchError, match=r"teacher_weights.t scale: unknown value 5"):
        parse_matrix(data, source="m.yaml")


def test_run_loads_an_official_layout_teacher_at_255_and_reports_it(weights_dir, tmp_path):
    """End to end, on the CPU: a tiny teacher in EDSR-PyTorch's layout ([0, 255] mean shifts) is
    found through BENCH_WEIGHTS_DIR, loaded in its range, distilled with FAKD at pixel_range 255."""
    torch.save(official_edsr_state_dict(2, 8, 2), weights_dir / "tiny_official_x2.pt")
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(teacher_matrix()))
    out = CliRunner().invoke(main, ["run", "--matrix", str(path), "--results-dir", str(tmp_path / "r"),
                                    "--quiet", "--device", "cpu"])
    assert out.exit_code == 0, out.output
    assert "teacher t x2: official checkpoint tiny_official_x2.pt" in out.output
    html = next((tmp_path / "r" / "reports").rglob("index.html")).read_text()
    assert "Teacher t (official checkpoint) x2: loaded from" in html
    assert "Settings and where each value comes from" not in html  # this matrix annotates nothing
    from benchmarks.model_files import load_model
    from benchmarks.store import ResultStore

    store = ResultStore(tmp_path / "r" / "results.sqlite")
    teacher = teacher_cell(parse_matrix(teacher_matrix()))
    from benchmarks.graph.cells import cell_key

    model = load_model(store.record(cell_key(teacher.cell)).outputs[""])
    assert model.rgb_range == 255  # saved as loaded: its range travels with it
