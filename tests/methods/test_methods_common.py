"""Properties every registered method must have: learning, a frozen teacher, a bare student
as the evaluated model, and strict config validation.

The tests run over `methods.METHODS.names()`, so a new method module is covered as soon as it
registers; what differs between methods by design is read from the class (`needs_teacher`),
never from a list of names.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from benchmarks.archs import count_params
from benchmarks.errors import BenchError
from methods import METHODS, build_method

#: Every method shipped in the methods package (test-only methods registered by other test
#: modules in the same process are left out).
NAMES = [n for n in METHODS.names() if METHODS.get(n).__module__.startswith("methods.")]  # the shipped ones
#: Those that take a teacher (distillation from a teacher, or teacher-initialised).
WITH_TEACHER = [n for n in NAMES if METHODS.get(n).needs_teacher]


#: Set, like a smoke profile's `method_cfg`, in every method whose config has the field: a small
#: discriminator keeps the adversarial methods' steps cheap on a CPU.
SMOKE_CFG = {"d_num_feat": 4}


def build(name, student, teacher, ctx, cfg=None):
    """Method `name` for the test batch; it gets the teacher only if its class needs one."""
    cls = METHODS.get(name)
    fields = {f.name for f in dataclasses.fields(cls.Config)}
    cfg = {k: v for k, v in SMOKE_CFG.items() if k in fields} | dict(cfg or {})
    return build_method(name, student, cfg, teacher=teacher if cls.needs_teacher else None, ctx=ctx)


def test_the_registry_has_the_builtin_methods():
    assert {"baseline", "teacher-init", "fakd", "lsfd", "contrastive-kd", "ds", "clsd"} <= set(NAMES)
    assert {"psnr-pretrain", "srgan-content", "srgan", "gan2g", "gan2gan", "srgan-ml"} <= set(NAMES)
    assert {"teacher-init", "fakd", "lsfd", "contrastive-kd", "gan2g", "gan2gan"} <= set(WITH_TEACHER)


@pytest.mark.parametrize("name", NAMES)
def test_loss_falls_over_smoke_steps(name, tiny_student, tiny_teacher, steps, train_ctx):
    method = build(name, tiny_student, tiny_teacher, train_ctx)
    before = [p.detach().clone() for p in method.student.parameters()]
    losses = steps(method, 30)
    assert all(torch.isfinite(torch.tensor(losses)))
    if not METHODS.get(name).monotone_loss:  # adversarial: G and D trade off; G must still learn
        assert any(not torch.equal(b, p) for b, p in zip(before, method.student.parameters())), name
        return
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < first, (name, losses)


@pytest.mark.parametrize("name", WITH_TEACHER)
def test_teacher_gets_no_gradient(name, tiny_student, tiny_teacher, steps, train_ctx):
    method = build(name, tiny_student, tiny_teacher, train_ctx)
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
def test_sr_model_is_the_bare_student(name, tiny_student, tiny_teacher, make_edsr, train_ctx):
    method = build(name, tiny_student, tiny_teacher, train_ctx)
    baseline = make_edsr()
    sr = method.sr_model()
    assert sr is method.student
    assert count_params(sr) == count_params(baseline)
    assert set(sr.state_dict()) == set(baseline.state_dict())


@pytest.mark.parametrize("name", NAMES)
def test_unknown_config_field_is_a_bench_error(name, tiny_student, tiny_teacher, train_ctx):
    with pytest.raises(BenchError, match="no_such_knob"):
        build(name, tiny_student, tiny_teacher, train_ctx, {"no_such_knob": 1})


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
    ("srgan", "gan_type", "wgan"),
    ("srgan", "discriminator", "patchgan"),
    ("srgan", "net_d_iters", 0),
    ("srgan", "vgg_layer", "relu6_1"),
    ("srgan-content", "ema_decay", 1.5),
    ("gan2g", "kd_weight", -1.0),
    ("psnr-pretrain", "pixel_criterion", "huber"),
    ("srgan-ml", "mutual", "both"),
    ("srgan-ml", "temperature", 0.0),
])
def test_bad_config_values_are_bench_errors(name, field, value, tiny_student, tiny_teacher, train_ctx):
    cfg = {field: value}
    if name == "fakd":
        cfg["teacher_paths"] = ["body.0", "body.1", "body.2"]
    with pytest.raises(BenchError, match=field):
        build(name, tiny_student, tiny_teacher, train_ctx, cfg)


def test_bad_feature_path_names_the_path(tiny_student, tiny_teacher, train_ctx):
    with pytest.raises(BenchError, match="body.99"):
        build("fakd", tiny_student, tiny_teacher, train_ctx, {"student_paths": ["body.99"]})
    with pytest.raises(BenchError, match="body.42"):
        build("ds", tiny_student, tiny_teacher, train_ctx, {"attach": ["body.42"], "num_heads": 1})


@pytest.mark.parametrize("name", WITH_TEACHER)
def test_teacher_methods_need_a_teacher(name, tiny_student, train_ctx):
    with pytest.raises(BenchError, match="teacher"):
        build_method(name, tiny_student, {}, ctx=train_ctx)
