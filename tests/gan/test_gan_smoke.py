"""End to end on the CPU: the smoke profiles of both GAN matrices train, evaluate and render;
`bench check` compares nothing for smoke and says so; the DMOS export picks images from the run
with a fixed seed and records them. Slow (minutes); needs ../shared/data/sr-benchmark (Set5)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from benchmarks.cli import main
from benchmarks.metrics import weights as W

pytestmark = pytest.mark.slow


def bench(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv(W.ENV_OFFLINE, "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))


@pytest.mark.parametrize("name,needles", [
    ("srgan-kd2021", ["Table 2 (srgankd2021)", "PSNR (dB), ×4 (higher is better)", "GAN2G+AL",
                      "Scale: the paper does not state it"]),
    ("srgan-ml2022", ["Table 1 (mlsrgan2022)", "PI, ×2 (lower is better)", "ML* (peer_b)",
                      "ML (mean of outputs)", "not computed"]),
])
def test_smoke_profile_runs_renders_and_is_not_checked(name, needles, shared_data, tmp_path, offline):
    results = tmp_path / "results"
    run = bench("run", "--matrix", name, "--profile", "smoke", "--data-dir", shared_data, "--results-dir", results,
                "--quiet", "--save-images")
    assert run.exit_code == 0, run.output
    html = (results / "reports" / f"{name}-smoke" / "index.html").read_text()
    for needle in needles + ["perceptual loss: random VGG19, smoke only"]:
        assert needle in html, needle
    check = bench("check", "--matrix", name, "--profile", "smoke", "--results-dir", results)
    assert check.exit_code == 0 and "NOT CHECKED: profile smoke is not comparable" in check.output
    if name == "srgan-kd2021":
        out = tmp_path / "study"
        export = bench("dmos", "export", "--matrix", name, "--profile", "smoke", "--results-dir", results,
                       "--dataset", "all", "--scale", 4, "--rows", "gan2gan,gan2g,gan2g-al,g2g-al", "--n", 3,
                       "--seed", 0, "--out", out)
        assert export.exit_code == 0, export.output
        study = json.loads((out / "study.json").read_text())
        assert sorted(study["methods"]) == ["G2G+AL", "GAN2G", "GAN2G+AL", "GAN2GAN"]
        assert len(study["images"]) == 3 and study["seed"] == 0
        assert f"picked (seed 0, recorded in {out / 'study.json'})" in export.output
