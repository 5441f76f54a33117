"""Paper 004's matrix (benchmarks/matrices/esrgan-prune2024.yaml) in the run graph: each pruned
teacher is one derive cell of the ESRGAN teacher, shared by every student it feeds; the students'
D input is that teacher cell's saved discriminator; a tiny copy runs end to end."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from benchmarks.graph.cells import cell_key
from benchmarks.matrix import load_matrix, parse_matrix
from benchmarks.metrics import weights as W
from benchmarks.reporting import with_teachers
from benchmarks.runner import RunContext, run_matrix
from benchmarks.store import ResultStore
from tests.graph.conftest import Recording

TABLE1 = ["teacher-pruned-0.0", "teacher-pruned-0.3", "teacher-pruned-0.5", "teacher-pruned-0.8"]
TABLE2 = ["student-16", "student-32", "student-48"]


@pytest.mark.parametrize("profile", ["smoke", "paper"])
def test_shipped_matrix_derives_each_pruned_teacher_once(profile):
    specs = load_matrix("esrgan-prune2024").expand(profile)
    rows = {s.id: s for s in specs}
    assert set(TABLE1 + TABLE2) <= set(rows)
    derives = {cell_key(rows[r].teacher.cell): rows[r].teacher.cell for r in TABLE1 + TABLE2}
    assert sorted(json_ratio(c) for c in derives.values()) == [0.0, 0.3, 0.5, 0.8]  # 4 cells, not 7
    assert {cell_key(rows[r].teacher.cell) for r in TABLE2 + ["teacher-pruned-0.3"]} == \
        {cell_key(rows["student-16"].teacher.cell)}
    assert rows["student-16"].key() == rows["teacher-pruned-0.3"].key()  # one cell, two tables
    esrgan = {cell_key(c.source.cell) for c in derives.values()}
    assert len(esrgan) == 1  # every ratio prunes the same ESRGAN teacher
    for r in TABLE1 + TABLE2:
        d = rows[r].cell.input("discriminator")
        assert d.output == "discriminator" and cell_key(d.cell) in esrgan
    teacher_cell = next(iter(derives.values())).source.cell
    assert teacher_cell.method == "srgan" and teacher_cell.input("init").cell.method == "psnr-pretrain"
    teachers = [s for s in with_teachers(specs) if s.id.startswith("teacher-") and s.id not in TABLE1]
    assert sorted(s.id for s in teachers) == ["teacher-0.0", "teacher-0.3", "teacher-0.5", "teacher-0.8"]
    prof = specs[0].profile
    assert prof.patch_size * 4 == 128  # vgg128's input at x4
    if profile == "paper":
        assert prof.iterations == 100000 and prof.batch_size == 16


def json_ratio(cell) -> float:
    import json

    return json.loads(cell.params_json)["ratio"]


TINY = """
name: tiny-004
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr]
scales: [2]
seeds: [0]
default_profile: smoke
profiles:
  smoke: {iterations: 2, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 2,
          method_cfg: {vgg_weights: random, d_num_feat: 4}}
students:
  s4: {arch: rrdbnet, num_blocks: 1, num_feat: 4, num_grow: 4}
  s6: {arch: rrdbnet, num_blocks: 1, num_feat: 6, num_grow: 4}
teachers:
  t: {arch: rrdbnet, num_blocks: 1, num_feat: 8, num_grow: 4}
models:
  psnr: {train: {method: psnr-pretrain, arch: t}}
  gan: {train: &gan {method: srgan, arch: t, cfg: {gan_type: ragan}, inputs: {init: psnr}}}
  p3: {prune: {of: gan, ratio: 0.3}}
  p3s: {prune: {of: gan, ratio: 0.3, criterion: l1-structured}}
methods:
  - {method: esrgan-prune-kd, label: A, id: a, teacher: p3, discriminator: {train: *gan, output: discriminator}}
  - {method: esrgan-prune-kd, label: C, id: c, students: [s4], teacher: p3s,
     discriminator: {train: *gan, output: discriminator}}
"""


@pytest.mark.slow  # ~1-2 CPU minutes (the random VGG19 of the GAN teacher)
def test_tiny_matrix_runs_and_derives_each_pruned_teacher_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv(W.ENV_OFFLINE, "1")
    m = parse_matrix(yaml.safe_load(textwrap.dedent(TINY)), source="<test>")
    store = ResultStore(tmp_path / "results.sqlite")
    executor = Recording()
    specs = with_teachers(m.expand("smoke"))
    outcome = run_matrix(specs, store, RunContext(results_dir=tmp_path, device="cpu", progress=False),
                         executor=executor, log=lambda _: None)
    assert outcome.failed == []
    derives = [j for j in executor.jobs if j.kind == "derive"]
    assert len(derives) == 2  # p3 (for 2 student cells) and p3s, each once
    trains = [j.spec["method"] for j in executor.jobs if j.kind == "train"]
    assert trains.count("srgan") == 1 and trains.count("psnr-pretrain") == 1
    assert trains.count("esrgan-prune-kd") == 3  # a on s4 and s6, c on s4
    infos = {store.record(j.key).info["criterion"]: store.record(j.key).info for j in derives}
    u, s = infos["l1-unstructured"], infos["l1-structured"]
    assert u["params_total"] - u["params_nonzero"] == round(0.3 * u["params_source"])
    assert s["params_total"] < s["params_source"]
    rows = [s for s in specs if s.id in ("a", "c")]
    assert all(store.status(cell_key(r.cell)) == "ok" for r in rows)
    assert {s.id for s in specs if s.id.startswith("teacher-")} == {"teacher-0.3"}
