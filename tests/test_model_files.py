"""Model files: structure travels with the weights; pruned networks reload; weights_only loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from benchmarks import model_files
from benchmarks.archs import ArchInfo, build_arch
from benchmarks.errors import BenchError, MissingFileError
from benchmarks.model_files import FORMAT, file_sha256, load_model, save_model


def tiny_edsr() -> nn.Module:
    torch.manual_seed(0)
    return build_arch("edsr", 2, num_blocks=2, num_feat=8)


def outputs(model: nn.Module) -> torch.Tensor:
    torch.manual_seed(1)
    x = torch.rand(2, 3, 6, 7)
    with torch.no_grad():
        return model.eval()(x)


def shrink_first_block(model: nn.Module, keep: int = 5) -> None:
    """Structurally prune body.0's inner channels 8 -> `keep`: a smaller net, same function on kept channels."""
    block = model.body[0].body
    c0, c2 = block[0], block[2]
    n0 = nn.Conv2d(c0.in_channels, keep, 3, padding=1)
    n2 = nn.Conv2d(keep, c2.out_channels, 3, padding=1)
    with torch.no_grad():
        n0.weight.copy_(c0.weight[:keep])
        n0.bias.copy_(c0.bias[:keep])
        n2.weight.copy_(c2.weight[:, :keep])
        n2.bias.copy_(c2.bias)
    block[0], block[2] = n0, n2


def test_build_arch_stamps_arch_info() -> None:
    model = build_arch("edsr", 3, num_blocks=1, num_feat=4)
    assert model.arch_info == ArchInfo(name="edsr", scale=3, options={"num_blocks": 1, "num_feat": 4})


def test_round_trip_identical_outputs(tmp_path: Path) -> None:
    model = tiny_edsr()
    path = save_model(model, tmp_path / "sub" / "m.pt")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    assert obj["format"] == FORMAT and obj["arch"] == "edsr" and obj["scale"] == 2
    assert obj["options"] == {"num_blocks": 2, "num_feat": 8}
    assert obj["shapes"]["head.0.weight"] == [8, 3, 3, 3]
    assert list(obj["state_dict"]) == list(model.state_dict())
    loaded = load_model(path)
    assert not loaded.training
    assert loaded.arch_info == model.arch_info
    assert torch.equal(outputs(loaded), outputs(model))
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["m.pt"]  # no temp file left


def test_tuple_options_saved_as_lists(tmp_path: Path) -> None:
    model = build_arch("edsr", 2, num_blocks=1, num_feat=4, rgb_mean=(0.5, 0.5, 0.5))
    path = save_model(model, tmp_path / "m.pt")
    assert torch.load(path, weights_only=True)["options"]["rgb_mean"] == [0.5, 0.5, 0.5]
    loaded = load_model(path)
    assert loaded.arch_info.options["rgb_mean"] == (0.5, 0.5, 0.5)
    assert torch.equal(outputs(loaded), outputs(model))


def test_structurally_pruned_model_reloads(tmp_path: Path) -> None:
    model = tiny_edsr()
    shrink_first_block(model)
    path = save_model(model, tmp_path / "pruned.pt")
    shapes = torch.load(path, weights_only=True)["shapes"]
    assert shapes["body.0.body.0.weight"] == [5, 8, 3, 3] and shapes["body.0.body.0.bias"] == [5]
    assert shapes["body.0.body.2.weight"] == [8, 5, 3, 3] and shapes["body.0.body.2.bias"] == [8]
    loaded = load_model(path)
    c0, c2 = loaded.body[0].body[0], loaded.body[0].body[2]
    assert type(c0) is nn.Conv2d and (c0.in_channels, c0.out_channels, c0.padding) == (8, 5, (1, 1))
    assert (c2.in_channels, c2.out_channels) == (5, 8)
    assert loaded.body[1].body[0].out_channels == 8  # untouched blocks keep the arch's width
    assert torch.equal(outputs(loaded), outputs(model))
    save_model(loaded, tmp_path / "again.pt")  # a reloaded pruned model saves again
    assert torch.equal(outputs(load_model(tmp_path / "again.pt")), outputs(model))


def test_load_uses_weights_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_model(tiny_edsr(), tmp_path / "m.pt")
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_model(path)
    assert calls and all(c.get("weights_only") is True and c.get("map_location") == "cpu" for c in calls)


class Arbitrary:
    """A pickled object weights_only loading must refuse."""


def test_pickled_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "payload": Arbitrary()}, path)
    with pytest.raises(BenchError, match="not a loadable torch checkpoint") as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="model file not found"):
        load_model(tmp_path / "nope.pt")
    with pytest.raises(MissingFileError):
        file_sha256(tmp_path / "nope.pt")


def test_foreign_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"definitely not a torch file")
    with pytest.raises(BenchError, match="not a loadable torch checkpoint"):
        load_model(junk)
    plain = tmp_path / "plain.pt"
    torch.save(tiny_edsr().state_dict(), plain)
    with pytest.raises(BenchError, match="not an srkd-bench model file"):
        load_model(plain)
    other = tmp_path / "other.pt"
    torch.save({"format": "srkd-model/99"}, other)
    with pytest.raises(BenchError, match="unsupported model file format"):
        load_model(other)


def test_save_needs_build_arch(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="not built through build_arch"):
        save_model(nn.Conv2d(3, 3, 3), tmp_path / "m.pt")
    assert not list(tmp_path.iterdir())


def _edit(path: Path, fn) -> None:
    obj = torch.load(path, weights_only=True)
    fn(obj)
    torch.save(obj, path)


def test_key_mismatch_is_one_line(tmp_path: Path) -> None:
    path = save_model(tiny_edsr(), tmp_path / "m.pt")

    def rename(obj):  # head.0.weight -> extra.weight
        for part in ("state_dict", "shapes"):
            obj[part]["extra.weight"] = obj[part].pop("head.0.weight")

    _edit(path, rename)
    with pytest.raises(BenchError, match=r"keys do not match.*missing \(head.0.weight\).*unexpected \(extra.weight\)") as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_shape_change_outside_conv_is_refused(tmp_path: Path) -> None:
    path = save_model(tiny_edsr(), tmp_path / "m.pt")

    def grow_meanshift(obj):  # sub_mean is a Conv2d subclass (MeanShift): not resizable
        obj["state_dict"]["sub_mean.bias"] = torch.zeros(4)
        obj["shapes"]["sub_mean.bias"] = [4]

    _edit(path, grow_meanshift)
    with pytest.raises(BenchError, match=r"sub_mean.bias \(MeanShift\) cannot be resized") as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_recorded_shapes_must_match_tensors(tmp_path: Path) -> None:
    path = save_model(tiny_edsr(), tmp_path / "m.pt")
    _edit(path, lambda obj: obj["shapes"].__setitem__("head.0.bias", [5]))
    with pytest.raises(BenchError, match="recorded shapes disagree"):
        load_model(path)


def test_unsavable_option(tmp_path: Path) -> None:
    model = tiny_edsr()
    object.__setattr__(model.arch_info, "options", {"num_blocks": object()})
    with pytest.raises(BenchError, match="num_blocks"):
        save_model(model, tmp_path / "m.pt")


def test_file_sha256(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "f.bin"
    data = bytes(range(256)) * 9000
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert file_sha256(path, chunk_size=7) == hashlib.sha256(data).hexdigest()
    assert model_files.file_sha256(str(path)) == file_sha256(path)
