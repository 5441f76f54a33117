"""Run-graph fixtures: tiny matrices written as YAML, a recording executor, the test methods."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from benchmarks.graph.executors import SequentialExecutor
from benchmarks.matrix import parse_matrix
from benchmarks.reporting import with_teachers
from benchmarks.runner import RunContext, run_matrix
from benchmarks.store import ResultStore

from . import graph_methods  # noqa: F401  (registers the test methods)

HEAD = """
name: g
description: run-graph test matrix
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr]
scales: [2]
seeds: [0]
default_profile: smoke
profiles:
  smoke: {iterations: 3, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 3}
students:
  s: {arch: edsr, num_blocks: 1, num_feat: 4}
teachers:
  t: {arch: edsr, num_blocks: 2, num_feat: 8}
"""


def matrix(body: str, head: str = HEAD):
    import yaml

    return parse_matrix(yaml.safe_load(textwrap.dedent(head) + textwrap.dedent(body)), source="<test>")


class Recording(SequentialExecutor):
    """Runs jobs in this process and remembers their kinds and keys."""

    def __init__(self):
        self.jobs = []

    def run(self, jobs):
        for job in jobs:
            self.jobs.append(job)
        yield from super().run(jobs)

    def kinds(self) -> list[str]:
        return [j.kind for j in self.jobs]


@pytest.fixture
def run(tmp_path):
    """run(matrix, **expand_kwargs) -> (outcome, store, executor), everything in tmp_path."""
    store = ResultStore(tmp_path / "results.sqlite")
    ctx = RunContext(results_dir=tmp_path, device="cpu", progress=False)

    def go(m, executor=None, **kw):
        executor = executor or Recording()
        specs = with_teachers(m.expand(**kw))
        lines: list[str] = []
        outcome = run_matrix(specs, store, ctx, executor=executor, log=lines.append)
        return outcome, store, executor, specs, lines

    return go


@pytest.fixture
def results_dir(tmp_path) -> Path:
    return tmp_path
