"""No traceback for a user's mistake or a broken environment: one line naming the thing and the
cause, exit 2; `--debug` lets the traceback through; a plug-in failing inside a run is a recorded
failure and the matrix goes on (exit 1)."""

from __future__ import annotations

import sqlite3
import textwrap
import uuid

import pytest
from click.testing import CliRunner

from benchmarks.cli import main


def one_line(out) -> str:
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 1, out.output
    return lines[0]


def plugin(tmp_path, body: str) -> str:
    path = tmp_path / f"plugin_{uuid.uuid4().hex[:8]}.py"
    path.write_text(textwrap.dedent(body))
    return str(path)


@pytest.mark.parametrize("body, expected", [
    ("import math\nx = 1 / 0\n", "ZeroDivisionError: division by zero (at {path}:2 in <module>)"),
    ("raise RuntimeError('my plug-in is broken')\n", "RuntimeError: my plug-in is broken (at {path}:1 in <module>)"),
    ("def (:\n", "{path}, line 1: SyntaxError: invalid syntax"),
    ("import a_module_nobody_installed\n",
     "ModuleNotFoundError: No module named 'a_module_nobody_installed' (at {path}:1 in <module>)"),
])
def test_a_plugin_that_fails_to_import_is_one_line_naming_it(tmp_path, tiny_matrix, monkeypatch, body, expected):
    monkeypatch.chdir(tmp_path)
    path = plugin(tmp_path, body)
    out = CliRunner().invoke(main, ["run", "--plugin", path, "--matrix", str(tiny_matrix), "--results-dir",
                                    str(tmp_path / "r")])
    line = one_line(out)
    shown = path if "SyntaxError" in expected else path.split("/")[-1]  # relative to the working folder
    assert line == f"Error: {expected.format(path=shown)} (run `bench --debug ...` for the traceback)"
    assert not (tmp_path / "r").exists()  # failed before anything was created


def test_debug_lets_the_traceback_through(tmp_path, tiny_matrix):
    path = plugin(tmp_path, "x = 1 / 0\n")
    args = ["run", "--plugin", path, "--matrix", str(tiny_matrix), "--results-dir", str(tmp_path / "r")]
    out = CliRunner().invoke(main, ["--debug", *args])
    assert isinstance(out.exception, ZeroDivisionError) and out.exit_code == 1  # uncaught: a traceback
    out = CliRunner().invoke(main, args, env={"BENCH_DEBUG": "1"})
    assert isinstance(out.exception, ZeroDivisionError)


def test_a_matrix_that_is_not_text_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "binary.yaml"
    bad.write_bytes(b"\xff\xfe\x00name: x\n")
    line = one_line(CliRunner().invoke(main, ["run", "--matrix", str(bad)]))
    assert line == f"Error: matrix {bad}: not UTF-8 text (invalid start byte at byte 0)"


def test_an_output_folder_that_cannot_be_created_is_one_line(tmp_path):
    (tmp_path / "a-file").write_text("x")
    out = CliRunner().invoke(main, ["eval", "--arch", "bicubic", "--scale", "4", "--datasets", "embedded-test",
                                    "--metrics", "psnr", "--quiet", "--output", str(tmp_path / "a-file" / "o.csv")])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert out.stderr.strip().splitlines() == [f"Error: cannot create folder {tmp_path / 'a-file'}: File exists"]


RAISING_METHOD = '''
import dataclasses
import torch.nn.functional as F
from methods import Method, MethodConfig, register_method


@dataclasses.dataclass(frozen=True)
class Config(MethodConfig):
    explode_at: int = 2


@register_method("{name}")
class Exploding(Method):
    """A user's method with a bug: it raises after a few steps."""

    Config = Config

    def losses(self, lr, hr, step):
        if step == self.cfg.explode_at:
            raise ValueError(f"my loss exploded at step {{step}}")
        yield "G", {{"l1": F.l1_loss(self.student(lr), hr)}}
'''

MATRIX = """
name: plugin-fails
description: a user's failing plug-in beside the baseline
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr]
scales: [2]
seeds: [0]
default_profile: smoke
profiles:
  smoke: {{iterations: 4, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 2}}
students:
  tiny: {{arch: edsr, num_blocks: 1, num_feat: 4}}
methods:
  - {{method: {name}, label: Exploding}}
  - {{method: baseline, label: Baseline}}
references:
  - {{label: Bicubic, arch: bicubic}}
"""


def test_a_plugin_that_raises_inside_a_run_is_a_recorded_failure_and_the_matrix_goes_on(tmp_path):
    name = f"exploding-{uuid.uuid4().hex[:8]}"
    path = plugin(tmp_path, RAISING_METHOD.format(name=name))
    matrix = tmp_path / "m.yaml"
    matrix.write_text(MATRIX.format(name=name))
    results = tmp_path / "results"
    out = CliRunner().invoke(main, ["run", "--plugin", path, "--matrix", str(matrix), "--results-dir", str(results),
                                    "--quiet", "--no-report"])
    assert out.exit_code == 1, out.output
    assert "Traceback" not in out.output
    assert "    FAILED: ValueError: my loss exploded at step 2" in out.output
    with sqlite3.connect(results / "results.sqlite") as conn:
        rows = conn.execute("SELECT kind, label, status, error FROM cells ORDER BY kind, label").fetchall()
    conn.close()
    statuses = {(kind, label.split(" on ")[0]): (status, error) for kind, label, status, error in rows}
    train = next(v for k, v in statuses.items() if k[0] == "train" and "Exploding" in k[1])
    assert train == ("failed", "ValueError: my loss exploded at step 2")
    blocked = [v for k, v in statuses.items() if k[0] == "eval" and "Exploding" in k[1]]
    assert blocked and all(s == "blocked" and "my loss exploded" in e for s, e in blocked)
    ok = [k for k, v in statuses.items() if v[0] == "ok"]
    assert any("Baseline" in label for kind, label in ok if kind == "eval")  # the rest of the matrix ran
    assert any("Bicubic" in label for kind, label in ok if kind == "eval")
