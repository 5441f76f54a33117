"""Cell keys: the code a cell executes and its own inputs, nothing else.

Keys are computed against an edited copy of the project's source (codeversion.use_index), so
the tests see exactly what a code change would do to finished work.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.graph import codeversion
from benchmarks.graph.cells import base_key, cell_key, clear_key_caches, upstream
from benchmarks.spec import dataset_identity
from benchmarks.store import eval_cell

from .conftest import matrix

ROOT = Path(__file__).resolve().parents[2]
MATRIX = """
methods:
  - {method: baseline, label: B}
  - {method: fakd, label: FAKD, teacher: t}
  - {method: ds, label: DS}
references:
  - {label: Bicubic, arch: bicubic}
"""
HEAD = """
name: k
description: keys
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr, ssim]
scales: [2]
seeds: [0]
profiles:
  smoke: {iterations: 3, batch_size: 2, patch_size: 8, lr: 1.0e-3}
students:
  s: {arch: edsr, num_blocks: 3, num_feat: 8}
teachers:
  t: {arch: edsr, num_blocks: 4, num_feat: 16}
"""


@pytest.fixture(scope="module")
def specs():
    return matrix(MATRIX, head=HEAD).expand()


def all_cells(specs):
    cells = {}
    for spec in specs:
        for cell in upstream(spec.model):
            cells[f"{cell.kind}:{getattr(cell, 'label', '')}"] = cell
        for ds in spec.eval_sets:
            for m in spec.metrics:
                cells[f"eval:{spec.label}:{m}"] = eval_cell(spec, ds, m)
    return cells


def keys_in(tree: Path, specs) -> dict[str, str]:
    with codeversion.use_index(codeversion.CodeIndex(tree)):
        return {name: cell_key(cell) for name, cell in all_cells(specs).items()}


@pytest.fixture
def tree(tmp_path):
    """A copy of the project's packages to edit."""
    for pkg in codeversion.PROJECT_PACKAGES:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_the_copy_keys_like_the_checkout(tree, specs):
    assert keys_in(tree, specs) == keys_in(ROOT, specs)


def test_a_new_method_metric_or_arch_module_changes_no_key(tree, specs):
    before = keys_in(tree, specs)
    (tree / "methods" / "brand_new.py").write_text(
        "from .base import Method, register_method\n\n\n@register_method('brand-new')\nclass New(Method):\n"
        "    def losses(self, lr, hr, step):\n        yield 'G', {}\n")
    (tree / "benchmarks" / "metrics" / "brand_new.py").write_text("from . import Metric\n\n\nclass New(Metric):\n"
                                                                   "    name = 'brand-new'\n")
    (tree / "benchmarks" / "archs" / "brand_new.py").write_text("from . import register_arch\n")
    assert keys_in(tree, specs) == before


def test_a_new_dataset_entry_changes_no_key(specs, monkeypatch):
    from data_manifest import manifest

    before = keys_in(ROOT, specs)
    raw = manifest.read_manifest_yaml()
    raw["datasets"]["brand-new-set"] = {"kind": "eval", "description": "new", "count": 0}
    monkeypatch.setattr(manifest, "read_manifest_yaml", lambda *a, **k: raw)
    dataset_identity.cache_clear()
    try:
        assert keys_in(ROOT, specs) == before
        raw["datasets"]["embedded-test"] = dict(raw["datasets"]["embedded-test"], count=999)
        dataset_identity.cache_clear()
        changed = {k for k, v in keys_in(ROOT, specs).items() if v != before[k]}
        assert changed == {k for k in before if k.startswith("eval:")}  # the test set's entry keys its evals
    finally:
        dataset_identity.cache_clear()
        clear_key_caches()


def test_editing_fakd_rekeys_only_fakd_cells(tree, specs):
    before = keys_in(tree, specs)
    fakd = tree / "methods" / "fakd.py"
    fakd.write_text(fakd.read_text() + "\nEXTRA_KNOB = 1\n")
    after = keys_in(tree, specs)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"train:FAKD", "eval:FAKD:psnr", "eval:FAKD:ssim"}


def test_prose_edits_rekey_nothing(tree, specs):
    before = keys_in(tree, specs)
    fakd = tree / "methods" / "fakd.py"
    text = fakd.read_text().replace('"""FAKD:', '"""FAKD (reworded docstring):', 1)
    fakd.write_text(text.replace("\n\n", "\n\n# a new comment\n", 1))
    assert keys_in(tree, specs) == before


def test_editing_the_trainer_rekeys_training_not_references(tree, specs):
    before = keys_in(tree, specs)
    train = tree / "benchmarks" / "train.py"
    train.write_text(train.read_text() + "\nEXTRA = 1\n")
    changed = {k for k, v in keys_in(tree, specs).items() if v != before[k]}
    assert "load:Bicubic" not in changed and "eval:Bicubic:psnr" not in changed
    assert {"train:B", "train:FAKD", "train:DS", "train:t"} <= changed


def test_editing_a_metric_rekeys_only_its_eval_cells(tree, specs):
    before = keys_in(tree, specs)
    path = tree / "benchmarks" / "metrics" / "sr_convention.py"
    path.write_text(path.read_text() + "\nEXTRA = 1\n")
    changed = {k for k, v in keys_in(tree, specs).items() if v != before[k]}
    # psnr and ssim share the module: every eval changes, no model cell does
    assert changed == {k for k in before if k.startswith("eval:")}


def test_labels_do_not_key_but_settings_do(specs):
    import dataclasses

    spec = next(s for s in specs if s.id == "baseline")
    assert cell_key(dataclasses.replace(spec.cell, label="renamed")) == cell_key(spec.cell)
    other = dataclasses.replace(spec.cell, seed=1)
    assert cell_key(other) != cell_key(spec.cell) and base_key(other) != base_key(spec.cell)


def test_profile_fields_that_do_not_change_numbers_do_not_key(specs):
    import dataclasses

    spec = next(s for s in specs if s.id == "baseline")
    quieter = dataclasses.replace(spec.cell, profile=dataclasses.replace(spec.cell.profile, checkpoint_every=7,
                                                                         log_every=3))
    assert cell_key(quieter) == cell_key(spec.cell)


def test_a_run_says_when_a_code_change_makes_finished_cells_run_again(tree, run):
    m = matrix("methods:\n  - {method: baseline, label: B}\nreferences:\n  - {label: Bicubic, arch: bicubic}\n")
    train = tree / "benchmarks" / "train.py"
    train.write_text(train.read_text() + "\nEXTRA = 1\n")  # the code the first run was keyed by
    with codeversion.use_index(codeversion.CodeIndex(tree)):
        clear_key_caches()
        first = run(m)
    clear_key_caches()
    again = run(m)  # the checkout's train.py: the training cell is re-keyed, the bicubic load is not
    assert first[0].failed == [] and again[0].failed == []
    assert not any("earlier version of the code" in line for line in first[4])
    notes = [line for line in again[4] if "earlier version of the code" in line]
    assert notes and notes[0].startswith("note: 1 of the cells to train/derive were finished under")
