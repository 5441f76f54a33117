"""Zoo loading: every shipped checkpoint loads strictly; bad paths and files fail on one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from benchmarks.archs import build_arch, count_params
from benchmarks.archs.zoo import load_pretrained
from benchmarks.errors import BenchError, MissingFileError

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PRETRAINED = SHARED / "weights" / "pretrained"
needs_shared = pytest.mark.skipif(not PRETRAINED.is_dir(), reason="../shared/weights/pretrained is absent")

CHECKPOINTS = [("imdn", "IMDN_x2.pth", 2, 694_404), ("imdn", "IMDN_x3.pth", 3, 703_059),
               ("imdn", "IMDN_x4.pth", 4, 715_176), ("carn-m", "carn_m.pth", 2, 414_811),
               ("carn-m", "carn_m.pth", 3, 414_811), ("carn-m", "carn_m.pth", 4, 414_811)]


@needs_shared
@pytest.mark.needs_shared
@pytest.mark.parametrize(("arch", "file", "scale", "params"), CHECKPOINTS)
def test_shipped_checkpoints_load_strictly(arch: str, file: str, scale: int, params: int) -> None:
    model = load_pretrained(arch, PRETRAINED / file, scale)
    assert not model.training and count_params(model) == params
    with torch.no_grad():
        y = model(torch.full((1, 3, 8, 8), 0.5))
    assert y.shape == (1, 3, 8 * scale, 8 * scale)
    assert abs(y.mean().item() - 0.5) < 0.05  # a flat grey image stays grey: weights and range are right


@needs_shared
def test_every_shipped_checkpoint_is_covered() -> None:
    assert {p.name for p in PRETRAINED.glob("*.pth")} == {f for _, f, _, _ in CHECKPOINTS}


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="nope.pth"):
        load_pretrained("edsr", tmp_path / "nope.pth", 2)


def _tiny() -> torch.nn.Module:
    return build_arch("edsr", 2, num_blocks=1, num_feat=4)


@pytest.mark.parametrize("wrap", ["plain", "module", "params_ema", "state_dict"])
def test_wrappers_are_unwrapped(tmp_path: Path, wrap: str) -> None:
    torch.manual_seed(1)
    src = _tiny()
    sd = src.state_dict()
    obj = {"plain": sd, "module": {f"module.{k}": v for k, v in sd.items()},
           "params_ema": {"params_ema": sd, "iter": 3}, "state_dict": {"state_dict": sd, "epoch": 1}}[wrap]
    torch.save(obj, tmp_path / "w.pth")
    model = load_pretrained("edsr", tmp_path / "w.pth", 2, num_blocks=1, num_feat=4)
    x = torch.rand(1, 3, 5, 5)
    torch.testing.assert_close(model(x), src(x))


def test_not_a_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "junk.pth").write_text("hello, not a checkpoint\n")
    with pytest.raises(BenchError, match="junk.pth: not a loadable torch checkpoint") as err:
        load_pretrained("edsr", tmp_path / "junk.pth", 2)
    assert "\n" not in str(err.value)
    torch.save({"epoch": 3}, tmp_path / "meta.pth")
    with pytest.raises(BenchError, match="not a state_dict"):
        load_pretrained("edsr", tmp_path / "meta.pth", 2)


def test_key_mismatch_counts_and_examples(tmp_path: Path) -> None:
    sd = _tiny().state_dict()
    torch.save(sd, tmp_path / "w.pth")
    with pytest.raises(BenchError, match=r"6 missing \(body\.1\.body\.0\.bias.*; 2 unexpected \(body\.1\.bias") as err:
        load_pretrained("edsr", tmp_path / "w.pth", 2, num_blocks=2, num_feat=4)
    assert "\n" not in str(err.value)


def test_shape_mismatch(tmp_path: Path) -> None:
    torch.save(_tiny().state_dict(), tmp_path / "w.pth")
    expected = r"2 tensors differ in shape, e.g. tail.0.0.bias: checkpoint \(16,\) vs arch \(36,\)"
    with pytest.raises(BenchError, match=expected):
        load_pretrained("edsr", tmp_path / "w.pth", 3, num_blocks=1, num_feat=4)
