"""GAN cells in the run graph: a discriminator is a saved, reloadable output (`output:
discriminator`), a stage-2 row starts from stage 1's generator, the profile's `method_cfg`
(random VGG19 in smoke) is part of the cell key, and a missing VGG19 file fails only the cells
that need it, with one line."""

from __future__ import annotations

import textwrap

import pytest
import torch
import yaml

from benchmarks.archs.discriminators import build_discriminator
from benchmarks.errors import BenchError
from benchmarks.graph.cells import cell_key
from benchmarks.matrix import parse_matrix
from benchmarks.metrics import weights as W
from benchmarks.model_files import load_model, save_model
from benchmarks.reporting import with_teachers
from benchmarks.runner import RunContext, run_matrix
from benchmarks.store import ResultStore
from tests.graph.conftest import Recording

HEAD = """
name: g
train_set: embedded-train
eval_sets: [embedded-test]
metrics: [psnr]
scales: [2]
seeds: [0]
profiles:
  smoke: {iterations: 2, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 2,
          method_cfg: {vgg_weights: random, d_num_feat: 4}}
  real: {iterations: 2, batch_size: 2, patch_size: 8, lr: 1.0e-3, checkpoint_every: 2,
         method_cfg: {d_num_feat: 4}}
students:
  s: {arch: srresnet, num_blocks: 1, num_feat: 4}
"""


def matrix(body: str):
    return parse_matrix(yaml.safe_load(textwrap.dedent(HEAD) + textwrap.dedent(body)), source="<test>")


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run a matrix offline, with no VGG19 file anywhere (TORCH_HOME and weights dir empty)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv(W.ENV_WEIGHTS_DIR, str(tmp_path / "weights"))
    monkeypatch.setenv(W.ENV_OFFLINE, "1")
    store = ResultStore(tmp_path / "results.sqlite")
    ctx = RunContext(results_dir=tmp_path, device="cpu", progress=False)

    def go(m, profile="smoke"):
        executor = Recording()
        specs = with_teachers(m.expand(profile))
        outcome = run_matrix(specs, store, ctx, executor=executor, log=lambda _: None)
        return outcome, store, executor, specs

    return go


@pytest.mark.parametrize("name,options", [("srgan", {"num_feat": 4}), ("vgg128", {"num_feat": 2, "input_size": 32})])
def test_discriminators_save_and_reload_through_model_files(tmp_path, name, options):
    d = build_discriminator(name, **options)
    path = save_model(d, tmp_path / "d.pt")
    back = load_model(path)
    assert type(back) is type(d) and back.arch_info.name == f"discriminator:{name}"
    assert all(torch.equal(a, b) for a, b in zip(d.state_dict().values(), back.state_dict().values()))
    size = options.get("input_size", 32)
    x = torch.rand(2, 3, size, size)
    assert torch.equal(d.eval()(x), back(x))


def test_stage_two_starts_from_stage_one_and_takes_its_discriminator(run):
    m = matrix("""
    methods:
      - {method: srgan, label: Stage 1, id: stage1}
      - {method: srgan, label: Stage 2, id: stage2, init: {stage: stage1},
         discriminator: {stage: stage1, output: discriminator}}
    """)
    outcome, store, executor, specs = run(m)
    assert outcome.failed == []
    stage1, stage2 = specs
    assert stage2.cell.input("init").cell == stage1.cell
    outputs = store.record(cell_key(stage1.cell)).outputs
    assert set(outputs) == {"", "student", "discriminator"}
    job = next(j for j in executor.jobs if j.key == cell_key(stage2.cell))
    assert job.inputs == {"init": outputs[""], "discriminator": outputs["discriminator"]}
    assert load_model(outputs["discriminator"]).arch_info.name == "discriminator:srgan"


def test_random_and_real_vgg_never_share_a_key():
    m = matrix("methods:\n  - {method: srgan, label: GAN}\n")
    smoke, real = m.expand("smoke")[0], m.expand("real")[0]
    assert smoke.profile.method_cfg == {"vgg_weights": "random", "d_num_feat": 4}
    assert cell_key(smoke.cell) != cell_key(real.cell)


def test_missing_vgg19_fails_its_cells_with_one_line_and_the_rest_goes_on(run):
    m = matrix("""
    models:
      psnr: {train: {method: psnr-pretrain, arch: s}}
    methods:
      - {method: psnr-pretrain, label: PSNR}
      - {method: srgan, label: GAN, init: psnr}
    """)
    outcome, store, _, specs = run(m, profile="real")
    psnr, gan = specs
    assert store.is_done(cell_key(psnr.cell))
    record = store.record(cell_key(gan.cell))
    assert record.status == "failed" and "\n" not in record.error
    assert record.error.startswith("perceptual loss: weight file vgg19-dcbb9e9d.pth is missing")
    assert W.VGG19.url in record.error and "--weights-dir" in record.error


@pytest.mark.parametrize("body,needle", [
    ("method_cfg: {no_such_field: 1}", "method_cfg: no method of this matrix has a config field 'no_such_field'"),
    ("method_cfg: {vgg_weights: sometimes}", "vgg_weights"),
    ("method_cfg: [vgg_weights]", "method_cfg: expected a mapping"),
])
def test_bad_profile_method_cfg_is_one_line(body, needle):
    head = HEAD.replace("method_cfg: {vgg_weights: random, d_num_feat: 4}", body)
    with pytest.raises(BenchError, match=needle.replace("[", r"\[").replace("(", r"\(")):
        parse_matrix(yaml.safe_load(textwrap.dedent(head) + "methods:\n  - {method: srgan, label: GAN}\n"),
                     source="<test>")
