"""Matrix YAML validation and expansion; run keys."""

from __future__ import annotations

import pytest
import yaml

from benchmarks.errors import BenchError
from benchmarks.matrix import list_matrices, load_matrix, parse_matrix
from tests.conftest import TINY_MATRIX


def tiny(**changes):
    data = yaml.safe_load(TINY_MATRIX)
    data.update(changes)
    return data


def test_quick_matrix_is_a_kd_comparison_at_x2():
    matrix = load_matrix("quick")
    specs = matrix.expand()
    assert sorted((s.id, s.scale) for s in specs) == [
        ("baseline", 2), ("bicubic", 2), ("clsd", 2), ("fakd", 2)]
    fakd = next(s for s in specs if s.id == "fakd")
    assert fakd.teacher is not None and fakd.teacher_spec().student.label == "edsr-8x64"
    assert {s.profile.name for s in specs} == {"smoke"}
    assert "quick" in list_matrices()


def test_seeds_multiply_trained_runs_but_not_references():
    specs = parse_matrix(tiny(scales=[2, 3])).expand(seeds=3)
    trained = [s for s in specs if not s.is_reference]
    assert len(trained) == 2 * 3 and len(specs) == 6 + 2
    assert len({s.key() for s in specs}) == len(specs)


def test_key_is_stable_and_depends_on_what_changes_numbers():
    m = parse_matrix(tiny())
    a, b = m.expand()[0], m.expand()[0]
    assert a.key() == b.key()
    assert m.expand("paper")[0].key() != a.key()
    relabelled = parse_matrix(tiny(methods=[{"method": "baseline", "label": "Other name"}])).expand()[0]
    assert relabelled.key() == a.key()  # the display label does not change the numbers


@pytest.mark.parametrize("changes, needle", [
    ({"scales": [5]}, "scales: unknown value 5; valid choices: 2, 3, 4, 8"),
    ({"methods": [{"method": "nope"}]}, "method: unknown value 'nope'; valid choices:"),
    ({"students": {"s": {"arch": "resnet9000"}}}, "arch: unknown value 'resnet9000'"),
    ({"eval_sets": ["Set6"]}, "eval_sets: unknown value 'Set6'"),
    ({"metrics": ["psnrr"]}, "metrics: unknown value 'psnrr'"),
    ({"colour": 1}, "unknown field 'colour'"),
    ({"profiles": {"smoke": {"iterations": 0, "batch_size": 1, "patch_size": 8, "lr": 1e-3}}},
     "iterations must be a positive integer"),
    ({"profiles": {"smoke": {"iterations": 2, "batch_size": 1, "patch_size": 8, "lr": 1e-3, "epochs": 3}}},
     "unknown field 'epochs'"),
    ({"methods": [{"method": "baseline", "cfg": {"alpha": 1}}]}, "unknown field 'alpha'"),
])
def test_bad_matrix_names_the_field(changes, needle):
    with pytest.raises(BenchError, match=None) as err:
        parse_matrix(tiny(**changes), source="m.yaml")
    assert needle in str(err.value)


def test_malformed_yaml_reports_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nscales: [2, 3\nmetrics: [psnr]\n")
    with pytest.raises(BenchError, match=r"malformed YAML \(line"):
        load_matrix(str(path))


def test_unknown_matrix_name_lists_choices():
    with pytest.raises(BenchError, match="valid choices: .*quick"):
        load_matrix("nonexistent")


def test_unknown_profile_lists_choices():
    with pytest.raises(BenchError, match="unknown profile 'huge'; valid choices: smoke, paper"):
        parse_matrix(tiny()).expand("huge")


@pytest.mark.parametrize("name", list_matrices())
def test_every_shipped_matrix_expands_and_keys_in_every_profile(name):
    from benchmarks.composite import is_composite
    from benchmarks.graph.cells import cell_key, upstream

    if is_composite(name):
        pytest.skip("a composite (tests/test_composite.py)")
    m = load_matrix(name)
    for prof in m.profiles:
        specs = m.expand(prof.name)
        assert specs, (name, prof.name)
        for spec in specs:
            for cell in upstream(spec.model):
                assert len(cell_key(cell)) == 20
