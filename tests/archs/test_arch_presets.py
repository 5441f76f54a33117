"""Measured parameter counts of the papers' presets equal the published ones as printed."""

from __future__ import annotations

import dataclasses

import pytest

from benchmarks.archs import build_arch, count_params
from benchmarks.archs.presets import PRESETS, Preset, get_preset, preset_table
from benchmarks.errors import BenchError

# Exact counts of our implementations, so any architectural drift is caught, not just rounding.
EXACT = {
    ("edsr-teacher", 2): 40_729_627, ("edsr-teacher", 4): 43_089_947,
    ("edsr-student", 2): 1_369_883, ("edsr-student", 4): 1_517_595,
    ("srresnet-teacher", 4): 1_549_462, ("srresnet-student", 4): 247_886, ("srresnet-ml", 4): 2_735_270,
    ("rrdbnet-teacher", 4): 16_697_987, ("rrdbnet-student16", 4): 6_538_115,
    ("rrdbnet-student32", 4): 9_588_355, ("rrdbnet-student48", 4): 12_974_979,
    ("imdn", 2): 694_404, ("imdn", 3): 703_059, ("imdn", 4): 715_176,
    ("carn-m", 2): 414_811, ("carn-m", 4): 414_811, ("bicubic", 2): 0,
    # RCAN by hand at x4: RCAB 2 x (64*64*9 + 64) + CA (64*4 + 4) + (4*64 + 64) = 74,436; group
    # = blocks x 74,436 + 36,928; + body conv 36,928 + head 1,792 + tail 2 x 147,712 + 1,731 + 24
    ("rcan-teacher", 4): 10 * (20 * 74_436 + 36_928) + 36_928 + 1_792 + 295_424 + 1_731 + 24,
    ("rcan-student", 4): 10 * (6 * 74_436 + 36_928) + 36_928 + 1_792 + 295_424 + 1_731 + 24,
    ("rcan-teacher", 2): 15_444_667, ("rcan-student", 2): 5_023_627,
}
# Published counts that no faithful configuration reproduces; the gap is asserted, not hidden.
KNOWN_GAPS = {
    "rrdbnet-student48": "12.97M; 6.5/9.6 match, so 12.9 is likely truncated (no 23-block config fits all three)",
    "carn-m": "the CARN paper's 412K counts weights only (checked below); with biases it is 414,811",
}


@pytest.mark.parametrize(("name", "scale"), sorted(EXACT))
def test_exact_counts(name: str, scale: int) -> None:
    assert PRESETS[name].measured_params(scale) == EXACT[name, scale]


def test_meta_count_equals_real_count() -> None:
    p = get_preset("edsr-student")
    assert p.measured_params() == count_params(build_arch(p.arch, p.scale, **p.kwargs))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_published_count_to_printed_precision(name: str) -> None:
    p = PRESETS[name]
    measured = p.measured_params()
    if name in KNOWN_GAPS:
        assert not p.matches_published(measured)
        assert p.note and abs(measured / 1e6 - p.published_params) < 0.08
    else:
        assert p.matches_published(measured), f"{name}: {measured / 1e6:.4f}M vs {p.published_params}M"


def test_carn_m_paper_count_is_weights_only() -> None:
    model = get_preset("carn-m").build()
    weights = sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight") and "shifter" not in n)
    assert round(weights / 1e3) == 412


def test_imdn_counts_at_every_scale() -> None:
    assert [PRESETS["imdn"].measured_params(s) // 1000 for s in (2, 3, 4)] == [694, 703, 715]


def test_edsr_teacher_uses_paper_res_scale() -> None:
    assert get_preset("edsr-teacher").build(2).body[0].res_scale == 0.1


def test_preset_is_frozen_and_hashable() -> None:
    p = get_preset("imdn")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.scale = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.kwargs["num_feat"] = 3  # type: ignore[index]
    assert len({p, p}) == 1 and isinstance(p, Preset)


def test_unknown_preset() -> None:
    with pytest.raises(BenchError, match="edsr-teacher"):
        get_preset("edsr-huge")


def test_preset_table_rows() -> None:
    rows = {r[0]: r for r in preset_table()}
    assert set(rows) == set(PRESETS)
    assert rows["edsr-teacher"] == ("edsr-teacher", "edsr", "num_blocks=32, num_feat=256, res_scale=0.1", 2,
                                    40_729_627, 40.7)
    assert rows["bicubic"].measured_params == 0 and rows["srresnet-ml"].published_params is None
    assert rows["imdn"].options == "" and rows["imdn"].scale == 2
