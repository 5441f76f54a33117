"""The manifest: every dataset described, names mapped, unknown names rejected with the choices."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import data_manifest as dm
from benchmarks.errors import BenchError
from data_manifest.manifest import MANIFEST_PATH

EXPECTED = {
    "set5", "set14", "b100", "urban100", "general100", "div2k-train", "div2k-valid",
    "div2k-valid-center256", "bsd200", "khu", "miv", "vrroom", "embedded-train", "embedded-test",
}
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def test_every_dataset_is_listed():
    assert EXPECTED <= set(dm.list_datasets())
    assert all(n == n.lower() for n in dm.list_datasets())


def test_manifest_ships_with_the_package():
    assert MANIFEST_PATH.parent == Path(dm.__file__).parent
    setup_cfg = Path(dm.__file__).resolve().parents[1] / "setup.cfg"
    if setup_cfg.is_file():
        assert "data_manifest = *.yaml" in setup_cfg.read_text()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_entry_is_complete(name):
    info = dm.dataset_info(name)
    assert info.kind in ("eval", "train")
    assert info.description and info.license and info.layout in ("edsr", "embedded")
    if info.user_supplied:
        assert not info.sources and info.count is None
        return
    assert info.count and info.count > 0
    if info.images:
        assert len(info.images) == info.count
        assert len({e.name for e in info.images}) == info.count
    for entry in info.images:
        assert entry.sha256 is None or HEX64.match(entry.sha256)
        assert set(entry.lr) <= set(info.official_lr_scales)
        assert all(HEX64.match(h) for h in entry.lr.values())
    for src in info.sources:
        assert src.kind in ("archive", "files", "derive")
        if src.kind != "derive":
            assert src.urls and all(u.startswith(("http://", "https://")) for u in src.urls)
        if src.known_hash is not None:
            assert re.match(r"^(md5|sha256):[0-9a-f]+$", src.known_hash)


def test_folder_names_map_to_disk_names():
    assert dm.dataset_info("set5").folder == "Set5"
    assert dm.dataset_info("b100").folder == "B100" and "BSD100" in dm.dataset_info("b100").aliases
    assert dm.dataset_info("urban100").official_lr_scales == (4,)
    assert dm.dataset_info("vrroom").folder == "VRroom"


def test_pinned_sets_pin_every_image_and_official_lr():
    for name in ("set5", "set14", "b100", "urban100", "div2k-valid-center256", "bsd200", "embedded-train", "embedded-test"):
        info = dm.dataset_info(name)
        assert info.pinned, name
        for entry in info.images:
            assert entry.size is not None
            assert set(entry.lr) == set(info.official_lr_scales), (name, entry.name)


def test_unpinned_public_sets_have_counts_and_names():
    assert dm.dataset_info("div2k-train").count == 800
    assert dm.dataset_info("div2k-train").images[0].name == "0001"
    assert dm.dataset_info("div2k-valid").images[-1].name == "0900"
    assert dm.dataset_info("general100").count == 100
    assert any("DIV2K_train_HR.zip" in u for s in dm.dataset_info("div2k-train").sources for u in s.urls)
    assert any("benchmark.tar" in u for s in dm.dataset_info("set5").sources for u in s.urls)


def test_embedded_sets_are_disjoint_and_small():
    train = dm.dataset_info("embedded-train")
    test = dm.dataset_info("embedded-test")
    assert test.kind == "eval" and train.kind == "train"
    assert 4 <= len(test.images) <= 5
    assert not {e.source for e in train.images} & {e.source for e in test.images}
    for entry in test.images:
        h, w = entry.size
        assert h <= 384 and w <= 384 and h % 12 == 0 and w % 12 == 0


def test_unknown_dataset_lists_choices():
    with pytest.raises(BenchError) as err:
        dm.dataset_info("set6")
    msg = str(err.value)
    assert "set6" in msg and "set5" in msg and "urban100" in msg and "\n" not in msg


def test_dataset_info_is_frozen():
    info = dm.dataset_info("set5")
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.count = 6  # type: ignore[misc]
