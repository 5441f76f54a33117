"""Settings annotated next to their values in a matrix YAML: parsed out, validated, keyed like
plain values, rendered per profile; the shipped paper matrices annotate what the issue lists."""

from __future__ import annotations

import pytest
import yaml

from benchmarks.annotations import extract, for_profile
from benchmarks.errors import BenchError
from benchmarks.matrix import load_matrix, parse_matrix
from tests.conftest import TINY_MATRIX


def tiny(**changes):
    data = yaml.safe_load(TINY_MATRIX)
    data.update(changes)
    return data


def test_extract_unwraps_values_and_records_where_they_come_from():
    data = tiny()
    data["profiles"]["paper"]["iterations"] = {"value": 8, "source": "code", "note": "epochs x 1000"}
    data["students"]["tiny"]["num_feat"] = {"value": 4, "source": "paper"}
    data["methods"][0]["cfg"] = {}
    data["assumptions"] = [{"setting": "x3 init", "value": "scratch", "source": "ours", "note": "not stated",
                            "profiles": ["paper"]},
                           {"method": "fakd", "field": "taps", "source": "code", "note": "official code"}]
    clean, notes = extract(data, "m.yaml")
    assert clean["profiles"]["paper"]["iterations"] == 8 and clean["students"]["tiny"]["num_feat"] == 4
    assert "assumptions" not in clean and "assumptions" in data  # the input is not modified
    got = [(a.setting, a.value, a.source, a.profile, a.profiles) for a in notes]
    assert got == [("profile paper: iterations", "8", "code", "paper", ()),
                   ("student tiny: num_feat", "4", "paper", None, ()),
                   ("x3 init", "scratch", "ours", None, ("paper",)),
                   ("fakd: taps (default)", "thirds", "code", None, ())]  # read from FAKDConfig
    assert [a.setting for a in for_profile(notes, "smoke")] == ["student tiny: num_feat", "fakd: taps (default)"]
    assert len(for_profile(notes, "paper")) == 4
    assert notes[0].source_label == "cited code" and notes[2].source_label == "our choice"


def test_an_annotated_value_keys_its_cells_like_the_plain_value():
    plain = parse_matrix(tiny()).expand("paper")
    data = tiny()
    data["profiles"]["paper"]["iterations"] = {"value": 8, "source": "code", "note": "x"}
    data["profiles"]["paper"]["lr"] = {"value": 1.0e-3, "source": "paper"}
    annotated = parse_matrix(data).expand("paper")
    assert [s.key() for s in annotated] == [s.key() for s in plain]


@pytest.mark.parametrize("value, needle", [
    ({"value": 8, "source": "guess", "note": "x"}, r"iterations.source: unknown value 'guess'; valid choices: paper, code, ours"),
    ({"value": 8, "source": "code"}, r"iterations.note: a cited code value needs a note"),
    ({"value": 8, "source": "ours", "note": "  "}, r"iterations.note: a our choice value needs a note"),
])
def test_bad_annotations_are_one_line_errors(value, needle):
    data = tiny()
    data["profiles"]["paper"]["iterations"] = value
    with pytest.raises(BenchError, match=needle):
        parse_matrix(data, source="m.yaml")


@pytest.mark.parametrize("entry, needle", [
    ({"setting": "a", "value": 1, "source": "paper", "extra": 1}, "unknown field 'extra'"),
    ({"setting": "a", "source": "paper"}, "missing field 'value'"),
    ({"method": "nope", "field": "x", "source": "paper"}, "method: unknown value 'nope'"),
    ({"method": "fakd", "field": "nope", "source": "paper"}, "method 'fakd' has no config field 'nope'"),
])
def test_bad_assumptions_are_one_line_errors(entry, needle):
    with pytest.raises(BenchError, match=needle):
        parse_matrix(tiny(assumptions=[entry]), source="m.yaml")


ISSUE_SETTINGS = {  # issue #10 item 6: what the conditions section must state, per paper matrix
    "epoch": "epoch", "patch": "patch_size", "decay": "milestones", "teacher source": "teacher_weights",
    "x3/x4 initialisation": "x3/x4 initialisation", "pixel range": "pixel_range", "tap positions": "taps",
    "stop-gradients": ("detach_main", "stop-gradients"),
}


@pytest.mark.parametrize("name", ["clsd2023", "ckd2022", "fakd2020"])
def test_paper_matrices_annotate_every_inferred_setting(name):
    matrix = load_matrix(name)
    paper = for_profile(matrix.annotations, "paper")
    settings = " | ".join(a.setting for a in paper)
    for what, needles in ISSUE_SETTINGS.items():
        needles = (needles,) if isinstance(needles, str) else needles
        assert any(n in settings for n in needles), (name, what)
    assert all(a.source in ("paper", "code", "ours") for a in paper)
    assert all(a.note for a in paper if a.source != "paper")
    assert matrix.profile("paper").pixel_range == 255


def test_matrix_annotations_match_what_runs():
    """The annotated values are the values the cells use (one source of truth)."""
    matrix = load_matrix("clsd2023")
    prof = matrix.profile("paper")
    by_setting = {a.setting: a.value for a in for_profile(matrix.annotations, "paper")}
    assert by_setting["profile paper: iterations"] == str(prof.iterations)
    assert by_setting["profile paper: patch_size"] == str(prof.patch_size)
    assert by_setting["profile paper: milestones"] == "[200000, 400000]" and prof.milestones == (200000, 400000)
    assert by_setting["fakd: taps (default)"] == "thirds"
    assert by_setting["lsfd: regressor_kernel (default)"] == "3"
