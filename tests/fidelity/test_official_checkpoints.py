"""Official EDSR-PyTorch (and RCAN) checkpoints load as they are, in their pixel range.

The state dicts here are SYNTHETIC (random tensors), written key by key in the official layout
(EDSR-PyTorch src/model/edsr.py + common.py: `sub_mean`, `head.0`, `body.i.body.{0,2}`,
`body.N`, `tail.0.{0,2}`, `tail.1`, `add_mean`; MeanShift bias = -/+ 255 x DIV2K mean), so the
key mapping and the range detection are checked without the real files; the reference output
is EDSR-PyTorch's forward on [0, 255] transcribed in tests/fidelity/official.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from benchmarks.archs import build_arch
from benchmarks.archs.pretrained import CHECKPOINTS, fit_options, known, state_dict_range, verify
from benchmarks.archs.zoo import load_pretrained
from benchmarks.cli import main
from benchmarks.errors import BenchError, MissingFileError

from . import official

MEAN = torch.tensor([0.4488, 0.4371, 0.4040])


def official_edsr_state_dict(n_blocks: int, n_feats: int, scale: int, seed: int = 0,
                             mean_shifts: bool = True) -> dict[str, torch.Tensor]:
    """An EDSR-PyTorch state dict, key by key, with random weights (small, as after init)."""
    gen = torch.Generator().manual_seed(seed)

    def conv(cin, cout, k=3):
        return {"weight": torch.randn(cout, cin, k, k, generator=gen) * (0.5 / (cin * k * k) ** 0.5),
                "bias": torch.randn(cout, generator=gen) * 0.01}

    sd: dict[str, torch.Tensor] = {}

    def put(name, tensors):
        sd.update({f"{name}.{k}": v for k, v in tensors.items()})

    if mean_shifts:
        eye = torch.eye(3).view(3, 3, 1, 1)
        put("sub_mean", {"weight": eye, "bias": -255 * MEAN})
        put("add_mean", {"weight": eye.clone(), "bias": 255 * MEAN})
    put("head.0", conv(3, n_feats))
    for i in range(n_blocks):
        put(f"body.{i}.body.0", conv(n_feats, n_feats))
        put(f"body.{i}.body.2", conv(n_feats, n_feats))
    put(f"body.{n_blocks}", conv(n_feats, n_feats))
    for j in range(1 if scale == 3 else scale.bit_length() - 1):
        put(f"tail.0.{2 * j}", conv(n_feats, (9 if scale == 3 else 4) * n_feats))
    put("tail.1", conv(n_feats, 3))
    return sd


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_official_layout_loads_in_its_range_and_computes_the_official_function(tmp_path, scale):
    digest = {2: "1bc95232", 3: "abf2a44e", 4: "6b446fab"}[scale]
    path = tmp_path / f"edsr_baseline_x{scale}-{digest}.pt"
    sd = official_edsr_state_dict(16, 8, scale)  # 16 blocks (the file's), narrow for speed
    torch.save(sd, path)
    model = load_pretrained("edsr", path, scale, num_feat=8)   # no range option given
    assert model.rgb_range == 255 and model.arch_info.options["rgb_range"] == 255
    x = torch.rand(1, 3, 7, 6)
    _, y255 = official.edsr_forward(sd, x * 255, 16, 1.0, scale)
    with torch.no_grad():
        torch.testing.assert_close(model(x), y255 / 255, rtol=1e-4, atol=1e-4)
    # what happened before: the same tensors in an arch built for [0, 1] subtract 114 from
    # inputs in [0, 1] -- far from the official function
    wrong = build_arch("edsr", scale, num_feat=8)
    wrong.load_state_dict(sd)
    with torch.no_grad():
        assert (wrong(x) - y255 / 255).abs().mean() > 0.1


def test_bench_eval_scores_an_official_file_like_edsr_pytorch(tmp_path):
    path = tmp_path / "edsr_baseline_x2-1bc95232.pt"
    sd = official_edsr_state_dict(16, 8, 2, seed=5)
    torch.save(sd, path)
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(main, ["eval", "--arch", "edsr", "--weights", str(path), "--arch-opt", "num_feat=8",
                                       "--scale", "2", "--datasets", "embedded-test", "--metrics", "psnr",
                                       "--output", str(out), "--quiet", "--device", "cpu",
                                       "--save-images", str(tmp_path / "sr")])
    assert result.exit_code == 0, result.output
    # the saved SR images equal EDSR-PyTorch's forward + quantize on the same LR inputs
    from data_manifest import load_eval_set

    pair = load_eval_set("embedded-test", 2, None)[0]
    x255 = torch.from_numpy(np.ascontiguousarray(pair.lr)).permute(2, 0, 1)[None].float()
    _, y255 = official.edsr_forward(sd, x255, 16, 1.0, 2)
    reference = official.quantize(y255)[0].permute(1, 2, 0).to(torch.uint8).numpy()
    from PIL import Image

    saved = np.asarray(Image.open(next((tmp_path / "sr").rglob(f"{Path(pair.name).stem}.png"))))
    assert np.abs(saved.astype(int) - reference.astype(int)).max() <= 1
    assert (saved == reference).mean() > 0.999


def test_known_files_and_their_options():
    assert set(CHECKPOINTS) >= {"edsr_baseline_x2-1bc95232.pt", "edsr_baseline_x3-abf2a44e.pt",
                                "edsr_baseline_x4-6b446fab.pt", "edsr_x2-0edfb8a3.pt",
                                "edsr_x3-ea3ef2c6.pt", "edsr_x4-4f62e9ef.pt"}
    ck = known("/any/where/edsr_x3-ea3ef2c6.pt")
    assert (ck.arch, ck.scale, dict(ck.options)) == ("edsr", 3, {"num_blocks": 32, "num_feat": 256,
                                                                 "res_scale": 0.1})
    assert ck.url == "https://cv.snu.ac.kr/research/EDSR/models/edsr_x3-ea3ef2c6.pt"
    # a known name gives its structure, the mean shift its range; given options win
    sd = {"sub_mean.bias": -255 * MEAN}
    _, options = fit_options("edsr", sd, 2, {}, "w/edsr_x2-0edfb8a3.pt", True)
    assert options == {"num_blocks": 32, "num_feat": 256, "res_scale": 0.1, "rgb_range": 255}
    _, options = fit_options("edsr", sd, 2, {"num_blocks": 4}, "w/edsr_x2-0edfb8a3.pt", True)
    assert options["num_blocks"] == 4
    assert known("my_edsr.pt") is None


def test_range_detection():
    assert state_dict_range({"sub_mean.bias": -255 * MEAN}) == 255
    assert state_dict_range({"sub_mean.bias": -MEAN}) == 1
    assert state_dict_range({"head.0.bias": torch.zeros(3)}) is None
    # a [0, 1] EDSR (this harness's own files) keeps its options untouched
    _, options = fit_options("edsr", {"sub_mean.bias": -MEAN}, 2, {"num_blocks": 2}, "mine.pt", True)
    assert options == {"num_blocks": 2}


def test_a_file_that_does_not_fit_is_an_error_naming_the_keys(tmp_path):
    path = tmp_path / "edsr_baseline_x2-1bc95232.pt"
    torch.save(official_edsr_state_dict(16, 8, 2), path)
    with pytest.raises(BenchError, match=r"unexpected \(body\.10\.body\.0\.bias"):
        load_pretrained("edsr", path, 2, num_feat=8, num_blocks=8)
    with pytest.raises(BenchError, match="is the x2 checkpoint, not x3"):
        load_pretrained("edsr", path, 3, num_feat=8)
    with pytest.raises(BenchError, match=r"pixel range 255, but rgb_range=1 was given"):
        load_pretrained("edsr", path, 2, num_feat=8, rgb_range=1)


def test_known_file_without_mean_shifts_gets_edsr_pytorchs(tmp_path):
    path = tmp_path / "edsr_baseline_x2-1bc95232.pt"
    sd = official_edsr_state_dict(16, 8, 2, mean_shifts=False)
    torch.save(sd, path)
    model = load_pretrained("edsr", path, 2, num_feat=8)
    assert model.rgb_range == 255
    torch.testing.assert_close(model.sub_mean.bias, -255 * MEAN)
    other = tmp_path / "someone_elses.pt"
    torch.save(sd, other)
    with pytest.raises(BenchError, match=r"4 missing \(add_mean.bias, add_mean.weight, sub_mean.bias"):
        load_pretrained("edsr", other, 2, num_feat=8)


def test_missing_official_file_names_its_url(tmp_path):
    with pytest.raises(MissingFileError, match=r"edsr_x2-0edfb8a3.pt; download "
                                               r"https://cv.snu.ac.kr/research/EDSR/models/edsr_x2-0edfb8a3.pt"):
        load_pretrained("edsr", tmp_path / "edsr_x2-0edfb8a3.pt", 2)


def test_verify_reports_the_name_hash(tmp_path):
    path = tmp_path / "edsr_x2-0edfb8a3.pt"
    path.write_bytes(b"not the real file")
    assert "does NOT match the name's 0edfb8a3" in verify(path)
    rcan = tmp_path / "RCAN_BIX2.pt"
    rcan.write_bytes(b"x")
    assert verify(rcan).endswith("(no hash published)")


def test_official_rcan_layout_loads(tmp_path):
    """RCAN's official keys (yulunzhang/RCAN, as the FAKD code loads them), 2 groups x 2 RCABs."""
    gen = torch.Generator().manual_seed(0)
    f, r = 16, 4
    sd = {"sub_mean.weight": torch.eye(3).view(3, 3, 1, 1), "sub_mean.bias": -255 * MEAN,
          "add_mean.weight": torch.eye(3).view(3, 3, 1, 1), "add_mean.bias": 255 * MEAN,
          "head.0.weight": torch.randn(f, 3, 3, 3, generator=gen) * 0.1, "head.0.bias": torch.zeros(f)}
    for g in range(2):
        for b in range(2):
            p = f"body.{g}.body.{b}.body"
            for i in (0, 2):
                sd[f"{p}.{i}.weight"] = torch.randn(f, f, 3, 3, generator=gen) * 0.05
                sd[f"{p}.{i}.bias"] = torch.zeros(f)
            sd[f"{p}.3.conv_du.0.weight"] = torch.randn(f // r, f, 1, 1, generator=gen)
            sd[f"{p}.3.conv_du.0.bias"] = torch.zeros(f // r)
            sd[f"{p}.3.conv_du.2.weight"] = torch.randn(f, f // r, 1, 1, generator=gen)
            sd[f"{p}.3.conv_du.2.bias"] = torch.zeros(f)
        sd[f"body.{g}.body.2.weight"] = torch.randn(f, f, 3, 3, generator=gen) * 0.05
        sd[f"body.{g}.body.2.bias"] = torch.zeros(f)
    sd["body.2.weight"], sd["body.2.bias"] = torch.randn(f, f, 3, 3, generator=gen) * 0.05, torch.zeros(f)
    sd["tail.0.0.weight"], sd["tail.0.0.bias"] = torch.randn(4 * f, f, 3, 3, generator=gen) * 0.05, torch.zeros(4 * f)
    sd["tail.1.weight"], sd["tail.1.bias"] = torch.randn(3, f, 3, 3, generator=gen) * 0.05, torch.zeros(3)
    torch.save(sd, tmp_path / "rcan.pt")
    model = load_pretrained("rcan", tmp_path / "rcan.pt", 2, num_groups=2, num_blocks=2, num_feat=f, reduction=r)
    assert model.rgb_range == 255
    x = torch.rand(1, 3, 5, 6)
    with torch.no_grad():
        torch.testing.assert_close(model(x), official.rcan_forward(sd, x * 255, 2, 2, 2) / 255,
                                   rtol=1e-4, atol=1e-4)
