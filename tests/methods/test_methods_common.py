"""Properties every method of this family must have: learning, a frozen teacher, a bare
student as the evaluated model, and strict config validation."""

from __future__ import annotations

import pytest
import torch

from benchmarks.archs import count_params
from benchmarks.errors import BenchError
from methods import METHODS, build_method

KD = ["teacher-init", "fakd", "lsfd", "contrastive-kd"]
NAMES = KD + ["ds", "clsd"]


def build(name, student, teacher):
    cls = METHODS.get(name)
    return build_method(name, student, {}, teacher=teacher if cls.needs_teacher else None, scale=2)


@pytest.mark.parametrize("name", NAMES)
def test_loss_falls_over_smoke_steps(name, tiny_student, tiny_teacher, steps):
    method = build(name, tiny_student, tiny_teacher)
    losses = steps(method, 30)
    assert all(torch.isfinite(torch.tensor(losses)))
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first, (name, losses)


@pytest.mark.parametrize("name", KD)
def test_teacher_gets_no_gradient(name, tiny_student, tiny_teacher, steps):
    method = build(name, tiny_student, tiny_teacher)
    before = {k: v.clone() for k, v in tiny_teacher.state_dict().items()}
    steps(method, 2)
    for p in tiny_teacher.parameters():
        assert p.grad is None and not p.requires_grad
    assert not tiny_teacher.training
    after = tiny_teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    # the teacher is not part of the method's module tree, so never saved or optimised
    ids = {id(p) for ps in method.param_groups().values() for p in ps}
    assert not ids & {id(p) for p in tiny_teacher.parameters()}
    # no hooks left behind on either network after a step
    for net in (tiny_teacher, method.student):
        assert all(not m._forward_hooks for m in net.modules())


@pytest.mark.parametrize("name", NAMES)
def test_sr_model_is_the_bare_student(name, tiny_student, tiny_teacher, make_edsr):
    method = build(name, tiny_student, tiny_teacher)
    baseline = make_edsr()
    sr = method.sr_model()
    assert sr is method.student
    assert count_params(sr) == count_params(baseline)
    assert set(sr.state_dict()) == set(baseline.state_dict())


@pytest.mark.parametrize("name", NAMES)
def test_unknown_config_field_is_a_bench_error(name, tiny_student, tiny_teacher):
    with pytest.raises(BenchError, match="no_such_knob"):
        build_method(name, tiny_student, {"no_such_knob": 1}, teacher=tiny_teacher, scale=2)


@pytest.mark.parametrize("name,field,value", [
    ("contrastive-kd", "distance", "l2"),
    ("contrastive-kd", "negatives", "everyone"),
    ("contrastive-kd", "alpha", "ten"),
    ("clsd", "distance", "manhattan"),
    ("clsd", "negatives", "teacher"),
    ("ds", "head_blocks", -1),
    ("ds", "attach", ["body.0"]),          # 1 path for 3 heads
    ("fakd", "student_paths", ["body.0", "body.1"]),  # vs 3 teacher paths: checked below
    ("lsfd", "attention", "hard"),
    ("lsfd", "regressor_kernel", 2),
])
def test_bad_config_values_are_bench_errors(name, field, value, tiny_student, tiny_teacher):
    cfg = {field: value}
    if name == "fakd":
        cfg["teacher_paths"] = ["body.0", "body.1", "body.2"]
    with pytest.raises(BenchError, match=field):
        build_method(name, tiny_student, cfg, teacher=tiny_teacher, scale=2)


def test_bad_feature_path_names_the_path(tiny_student, tiny_teacher):
    with pytest.raises(BenchError, match="body.99"):
        build_method("fakd", tiny_student, {"student_paths": ["body.99"]}, teacher=tiny_teacher)
    with pytest.raises(BenchError, match="body.42"):
        build_method("ds", tiny_student, {"attach": ["body.42"], "num_heads": 1})


@pytest.mark.parametrize("name", KD)
def test_kd_methods_need_a_teacher(name, tiny_student):
    with pytest.raises(BenchError, match="teacher"):
        build_method(name, tiny_student, {})
