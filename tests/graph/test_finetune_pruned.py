"""`{prune: {..., finetune: true}}`: the pruned model is trained further as its source was, keeping
its pruning (unstructured zeros stay zero; a structurally pruned net keeps its smaller shapes)."""

from __future__ import annotations

import pytest
import torch

from benchmarks.derive import prunable_weights
from benchmarks.errors import BenchError
from benchmarks.graph.cells import DeriveCell, TrainCell
from benchmarks.graph.plan import cell_key
from benchmarks.model_files import load_model
from benchmarks.sparsity import count_zeros

from .conftest import matrix


def _teacher_cells(specs):
    kd = next(s for s in specs if s.id == "test-kd")
    return kd.teacher.cell


def test_finetune_is_off_by_default_and_leaves_the_pruning_key_alone():
    plain = matrix("models:\n  p: {prune: {of: t, ratio: 0.3}}\nmethods:\n  - {method: test-kd, label: KD, teacher: p}\n")
    off = matrix("models:\n  p: {prune: {of: t, ratio: 0.3, finetune: false}}\n"
                 "methods:\n  - {method: test-kd, label: KD, teacher: p}\n")
    a, b = (_teacher_cells(m.expand()) for m in (plain, off))
    assert isinstance(a, DeriveCell) and cell_key(a) == cell_key(b)


def test_finetune_must_be_a_boolean():
    with pytest.raises(BenchError, match=r"prune.finetune: expected true or false, got 'yes'"):
        matrix("models:\n  p: {prune: {of: t, ratio: 0.3, finetune: 'yes'}}\n"
               "methods:\n  - {method: test-kd, label: KD, teacher: p}\n")


def test_an_unstructured_pruned_teacher_is_fine_tuned_with_its_zeros_kept(run):
    m = matrix("models:\n  p: {prune: {of: t, ratio: 0.3, finetune: true}}\n"
               "methods:\n  - {method: test-kd, label: KD, teacher: p}\n")
    outcome, store, executor, specs, _ = run(m)
    assert outcome.failed == []
    tuned = _teacher_cells(specs)
    assert isinstance(tuned, TrainCell) and tuned.method == "baseline"  # as `t` was trained
    pruned = tuned.input("init").cell
    assert isinstance(pruned, DeriveCell)
    before = load_model(store.record(cell_key(pruned)).outputs[""])
    after = load_model(store.record(cell_key(tuned)).outputs[""])
    zeros = count_zeros(before)
    assert zeros > 0 and count_zeros(after) == zeros  # the pruned weights stayed zero
    assert list(before.state_dict()) == list(after.state_dict())  # plain weights, same order, no masks
    assert any(not torch.equal(x, y) for x, y in zip(before.state_dict().values(), after.state_dict().values()))
    trainable = sum(int((m.weight == 0).sum()) for m, _ in prunable_weights(before) if m.weight.requires_grad)
    assert 0 < trainable < zeros  # EDSR's fixed mean-shift convs hold zeros of their own
    assert f"{trainable:,} pruned (zero) weights of the init kept at zero" in store.record(cell_key(tuned)).info["init"]


def test_a_structurally_pruned_teacher_is_fine_tuned_in_its_smaller_shape(run):
    m = matrix("models:\n  p: {prune: {of: t, ratio: 0.3, criterion: l1-structured, finetune: true}}\n"
               "methods:\n  - {method: test-kd, label: KD, teacher: p}\n")
    outcome, store, _, specs, _ = run(m)
    assert outcome.failed == []
    tuned = _teacher_cells(specs)
    before = load_model(store.record(cell_key(tuned.input("init").cell)).outputs[""])
    after = load_model(store.record(cell_key(tuned)).outputs[""])
    shapes = {k: tuple(v.shape) for k, v in before.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in after.state_dict().items()}
    full = load_model(store.record(cell_key(tuned.input("init").cell.source.cell)).outputs[""])
    assert sum(v.numel() for v in after.state_dict().values()) < sum(v.numel() for v in full.state_dict().values())
    assert "pruned structure" in store.record(cell_key(tuned)).info["init"]


def test_an_init_of_another_arch_config_is_refused_not_adopted():
    from benchmarks.archs import build_arch
    from benchmarks.graph.run_train import _start_from_init

    student = build_arch("edsr", 2, num_blocks=1, num_feat=4)
    with pytest.raises(BenchError, match=r"init weights \(other.pt\): .*differ in shape"):
        _start_from_init(student, build_arch("edsr", 2, num_blocks=1, num_feat=8), "other.pt")
