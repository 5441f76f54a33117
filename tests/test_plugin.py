"""A user's own method, in a .py file outside the harness, runs through a matrix via --plugin.

The method registry (methods.METHODS) is global to the process and refuses a second class
under a name already taken, and `load_plugin` re-executes the file each time; so every test
writes its plugin under a fresh name ("my-l2-<hex>") instead of sharing "my-l2".
"""

from __future__ import annotations

import json
import sqlite3
import textwrap
import uuid
from pathlib import Path

from click.testing import CliRunner

from benchmarks.cli import main

PLUGIN = '''
"""A user's method, written outside the harness: weight * mean squared error to HR."""

import dataclasses

import torch.nn.functional as F

from methods import Method, MethodConfig, register_method


@dataclasses.dataclass(frozen=True)
class Config(MethodConfig):
    weight: float = 1.0


@register_method("{name}")
class MyL2(Method):
    """User plugin: weight * mean (SR - HR)^2."""

    Config = Config

    def losses(self, lr, hr, step):
        yield "G", {{"l2": self.cfg.weight * F.mse_loss(self.student(lr), hr)}}
'''

MATRIX = """
name: plugin-tiny
description: a user's plugin method on the tiny EDSR student
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr]
scales: [2]
seeds: [0]
default_profile: smoke
profiles:
  smoke: {{iterations: 3, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 3}}
students:
  tiny: {{arch: edsr, num_blocks: 1, num_feat: 4}}
methods:
  - {{method: {name}, label: My L2, cfg: {{weight: 0.5}}}}
"""


def unique_name() -> str:
    return f"my-l2-{uuid.uuid4().hex[:8]}"


def write_plugin(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"user_{name.replace('-', '_')}.py"  # unique module name per test, too
    path.write_text(textwrap.dedent(PLUGIN.format(name=name)))
    return path


def write_matrix(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "plugin_matrix.yaml"
    path.write_text(MATRIX.format(name=name))
    return path


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_plugin_method_runs_through_the_matrix(tmp_path):
    name = unique_name()
    plugin = write_plugin(tmp_path, name)
    matrix = write_matrix(tmp_path, name)
    results = tmp_path / "results"

    out = invoke("run", "--plugin", plugin, "--matrix", matrix, "--results-dir", results, "--quiet")

    assert out.exit_code == 0, out.output
    with sqlite3.connect(results / "results.sqlite") as conn:
        runs = conn.execute("SELECT key, status, error, label, code_json FROM cells WHERE kind = 'train'").fetchall()
        assert len(runs) == 1, runs
        key, status, error, label, code = runs[0]
        assert status == "ok", error
        assert label.startswith("train My L2")
        assert any(m.startswith("bench_plugin_") for m in json.loads(code))  # the plug-in's code keys it
        psnr = conn.execute("SELECT value FROM eval_scores WHERE model_key = ? AND dataset = ? AND metric = 'psnr'",
                            (key, "embedded-test")).fetchone()
    assert psnr is not None and psnr[0] is not None
    assert 0.0 < psnr[0] < 100.0


def test_ls_methods_lists_the_plugin(tmp_path):
    name = unique_name()
    plugin = write_plugin(tmp_path, name)

    out = invoke("ls", "methods", "--plugin", plugin)

    assert out.exit_code == 0, out.output
    lines = [line.strip() for line in out.output.splitlines()]
    mine = [line for line in lines if line.split()[:1] == [name]]
    assert len(mine) == 1, out.output
    assert "User plugin: weight * mean (SR - HR)^2." in mine[0]
    assert any(line.startswith("baseline") for line in lines)  # the built-ins are still there


def test_matrix_with_plugin_method_but_no_plugin_is_a_one_line_error(tmp_path):
    name = unique_name()  # never registered in this process
    matrix = write_matrix(tmp_path, name)

    out = invoke("run", "--matrix", matrix, "--results-dir", tmp_path / "results", "--quiet")

    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    message = out.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("Error:")
    assert f"unknown value '{name}'" in message
    assert not (tmp_path / "results" / "results.sqlite").exists() or _no_runs(tmp_path / "results")


def _no_runs(results: Path) -> bool:
    with sqlite3.connect(results / "results.sqlite") as conn:
        return conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0] == 0
