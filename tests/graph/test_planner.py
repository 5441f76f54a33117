"""The planner and driver: shared cells run once, inputs by role, blocking, one more metric."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from benchmarks.errors import BenchError
from benchmarks.graph.cells import cell_key
from benchmarks.graph.executors import SubprocessExecutor
from benchmarks.model_files import load_model

from .conftest import HEAD, matrix


def test_plan_is_explained_before_running(run):
    m = matrix("""
    methods:
      - {method: baseline, label: B}
      - {method: test-kd, label: KD, teacher: t}
    references:
      - {label: Bicubic, arch: bicubic}
    """)
    outcome, _, executor, _, lines = run(m)
    # teacher, student, KD student, bicubic; psnr of each of the four models (teacher row included)
    assert lines[0] == "8 cells: 0 done, 3 to train, 1 to load, 4 to evaluate (8 jobs)"
    assert outcome.failed == [] and executor.kinds().count("train") == 3
    _, _, again, _, lines = run(m)
    assert lines[0] == "8 cells: 8 done" and again.jobs == []


def test_one_more_metric_evaluates_and_never_trains(run):
    first = matrix("methods:\n  - {method: baseline, label: B}\n")
    run(first)
    more = dataclasses.replace(first, metrics=("psnr", "ssim"))
    outcome, store, executor, specs, lines = run(more)
    assert lines[0] == "3 cells: 2 done, 1 to evaluate (1 job)"
    assert executor.kinds() == ["eval"] and outcome.failed == []
    frame = store.frame(specs)
    assert set(frame["metric"]) == {"psnr", "ssim"}


def test_a_teacher_shared_by_two_rows_is_trained_once(run):
    m = matrix("""
    methods:
      - {method: test-kd, label: KD1, teacher: t}
      - {method: test-kd, label: KD2, teacher: t, cfg: {}, students: [s], id: kd2}
      - {method: teacher-init, label: TI, teacher: t}
    """, head=HEAD_WIDE)
    outcome, _, executor, specs, _ = run(m)
    assert outcome.failed == []
    teacher_jobs = [j for j in executor.jobs if j.kind == "train" and j.spec["method"] == "baseline"]
    assert len(teacher_jobs) == 1
    keys = {s.teacher.key() for s in specs if s.teacher is not None}
    assert len(keys) == 1


def test_two_stage_row_starts_from_the_first_stage_weights(run, results_dir):
    m = matrix("""
    methods:
      - {method: baseline, label: Stage 1, id: stage1}
      - {method: test-noop, label: Stage 2, id: stage2, init: {stage: stage1}}
    """)
    outcome, store, executor, specs, _ = run(m)
    assert outcome.failed == []
    stage1, stage2 = (s for s in specs if s.id in ("stage1", "stage2"))
    assert stage2.cell.input("init").cell == stage1.cell
    order = [j.key for j in executor.jobs if j.kind == "train"]
    assert order == [cell_key(stage1.cell), cell_key(stage2.cell)]
    a = load_model(store.record(cell_key(stage1.cell)).outputs[""])
    b = load_model(store.record(cell_key(stage2.cell)).outputs[""])
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name  # zero-gradient stage 2: exactly stage 1's weights


def test_a_derived_teacher_feeds_two_students_and_is_derived_once(run):
    m = matrix("""
    models:
      pruned: {prune: {of: t, ratio: 0.3}}
    methods:
      - {method: test-kd, label: KD-A, teacher: pruned}
      - {method: test-kd, label: KD-B, id: kd-b, teacher: pruned, cfg: {}}
    """)
    outcome, store, executor, specs, _ = run(m)
    assert outcome.failed == []
    assert executor.kinds().count("derive") == 1
    derive = next(j for j in executor.jobs if j.kind == "derive")
    info = store.record(derive.key).info
    assert info["params_total"] - info["params_nonzero"] == round(0.3 * info["params_total"])
    students = [s for s in specs if s.id in ("test-kd", "kd-b")]
    assert {s.teacher.key() for s in students} == {derive.key}


def test_a_failed_input_blocks_its_dependents_and_the_rest_goes_on(run):
    m = matrix("""
    methods:
      - {method: baseline, label: B}
      - {method: test-kd, label: KD, teacher: {load: {arch: t, path: /nonexistent/teacher.pt}}}
    """)
    outcome, store, _, specs, _ = run(m)
    kd = next(s for s in specs if s.id == "test-kd")
    base = next(s for s in specs if s.id == "baseline")
    assert store.status(cell_key(kd.cell)) == "blocked"
    assert "/nonexistent/teacher.pt" in store.record(cell_key(kd.teacher.cell)).error
    load_key = cell_key(kd.teacher.cell)
    assert store.record(cell_key(kd.cell)).error == \
        f"blocked: input {load_key} failed (weights file not found: /nonexistent/teacher.pt)"
    assert store.is_done(cell_key(base.cell))
    # the load, the teacher row's eval, the KD student and its eval; each blocked one names the load
    assert len(outcome.failed) == 4
    assert all(f"input {load_key} failed" in line for line in outcome.failed[1:])


def test_train_context_lets_a_method_refuse_a_bad_patch_before_training(run, results_dir):
    m = matrix("methods:\n  - {method: test-needs-128, label: D128}\n")
    outcome, store, _, specs, _ = run(m)
    record = store.record(cell_key(specs[0].cell))
    assert record.status == "failed" and "takes 128px HR patches, the profile gives 16px" in record.error
    assert not (results_dir / "runs" / record.key / "checkpoint.pt").exists()


def test_both_peers_of_a_pair_are_rows_and_are_evaluated(run):
    m = matrix("methods:\n  - {method: test-pair, label: Pair}\n")
    outcome, store, _, specs, _ = run(m)
    assert outcome.failed == []
    assert [s.label for s in specs] == ["Pair", "Pair (peer_b)"]
    frame = store.frame(specs)
    assert len(frame) == 2 and frame["value"].notna().all()
    assert frame["value"].iloc[0] != frame["value"].iloc[1]


def test_a_cell_runs_from_its_job_in_a_fresh_process_and_the_parent_writes(run, tmp_path):
    m = matrix("""
    methods:
      - {method: test-kd, label: KD, teacher: t}
    """)
    from . import graph_methods

    outcome, store, _, specs, _ = run(m, executor=SubprocessExecutor(workers=2, plugins=[graph_methods.__file__]))
    assert outcome.failed == []
    sub = store.frame(specs)
    inline_dir = tmp_path / "inline"
    inline_dir.mkdir()
    from benchmarks.reporting import with_teachers
    from benchmarks.runner import RunContext, run_matrix
    from benchmarks.store import ResultStore

    inline = ResultStore(inline_dir / "results.sqlite")
    run_matrix(with_teachers(m.expand()), inline, RunContext(inline_dir, device="cpu", progress=False), log=lambda _: None)
    assert sub["value"].tolist() == pytest.approx(inline.frame(specs)["value"].tolist(), abs=1e-9)


@pytest.mark.parametrize("body, needle", [
    ("models:\n  a: {prune: {of: b, ratio: 0.1}}\n  b: {prune: {of: a, ratio: 0.1}}\n"
     "methods:\n  - {method: test-kd, teacher: a}\n", "cycle in input models: model a -> model b -> model a"),
    ("methods:\n  - {method: test-noop, id: x, init: {stage: y}}\n  - {method: test-noop, id: y, init: {stage: x}}\n",
     "cycle in input models: row x -> row y -> row x"),
    ("methods:\n  - {method: baseline, inputs: {mentor: t}}\n", "unknown input role 'mentor'; valid roles: teacher"),
    ("methods:\n  - {method: baseline, mentor: t}\n", "unknown field 'mentor'"),
    ("methods:\n  - {method: baseline, discriminator: t}\n", "does not take a 'discriminator' input"),
    ("methods:\n  - {method: test-kd, teacher: nobody}\n", "unknown model 'nobody'"),
    ("methods:\n  - {method: test-noop, init: {stage: nowhere}}\n", "unknown row id 'nowhere'"),
    ("methods:\n  - {method: test-kd}\n", "needs a teacher"),
])
def test_bad_inputs_are_one_line_errors(body, needle):
    with pytest.raises(BenchError) as err:
        matrix(body)
    assert needle in str(err.value) and "\n" not in str(err.value)


HEAD_WIDE = HEAD.replace("iterations: 3", "iterations: 2").replace("checkpoint_every: 3", "checkpoint_every: 2")


def test_a_user_supplied_set_that_is_absent_is_not_available_not_failed(run, monkeypatch, tmp_path):
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    m = matrix("methods:\n  - {method: baseline, label: B}\n")
    m = dataclasses.replace(m, eval_sets=("embedded-test", "khu"))
    outcome, store, _, specs, _ = run(m)
    assert outcome.failed == []
    frame = store.frame(specs)
    khu = frame[frame["dataset"] == "KHU"].iloc[0]
    assert khu["value"] != khu["value"] and khu["note"].startswith("not available: dataset 'khu' is not public")
    _, _, again, _, lines = run(m)
    assert lines[0].startswith("3 cells: 2 done, 1 to evaluate")  # tried again, in case its path is given now


def test_a_named_model_keeps_its_output(run):
    from benchmarks.graph.cells import MAIN

    m = matrix("""
    models:
      pair: {train: {method: test-pair, arch: t}, output: peer_b}
    methods:
      - {method: test-kd, label: KD, teacher: pair}
    """)
    spec = next(s for s in m.expand() if s.id == "test-kd")
    assert spec.teacher.output == "peer_b" and spec.teacher.output != MAIN
