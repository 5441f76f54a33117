"""Training batches: aligned patches, every source bit-identical, resume and DDP slicing exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.errors import BenchError
from benchmarks.trainer_data import (
    TrainPairs,
    _augment,
    draw_batch_plan,
    make_batch_source,
)
from data_manifest.imresize import matlab_imresize

SCALE, PATCH, BATCH, SEED = 2, 4, 4, 7


@pytest.fixture(scope="module")
def pairs() -> TrainPairs:
    rng = np.random.default_rng(0)
    shapes = [(24, 24), (25, 19), (20, 30)]  # odd sides exercise the modcrop
    return TrainPairs.build([rng.integers(0, 256, (*s, 3), dtype=np.uint8) for s in shapes], SCALE, PATCH)


def source(pairs, kind, **kw):
    opts = {"patch_size": PATCH, "scale": SCALE, "augment": True, "seed": SEED, "batch_size": BATCH,
            "pixel_range": 1, "device": "cpu", "source": kind}
    return make_batch_source(pairs, **{**opts, **kw})


def batches(src, steps):
    try:
        return [src.batch(step) for step in steps]
    finally:
        src.close()


def test_build_modcrops_skips_small_images_and_uses_matlab_lr():
    rng = np.random.default_rng(1)
    big, small = rng.integers(0, 256, (25, 19, 3), dtype=np.uint8), rng.integers(0, 256, (9, 40, 3), dtype=np.uint8)
    pairs = TrainPairs.build([big, small], 2, 5)
    assert len(pairs) == 1 and pairs.hrs[0].shape == (24, 18, 3) and pairs.lr_sizes == [(12, 9)]
    assert np.array_equal(pairs.lrs[0], matlab_imresize(np.ascontiguousarray(big[:24, :18]), 0.5))
    with pytest.raises(BenchError, match="no image with at least 20px per side"):
        TrainPairs.build([small], 2, 10)


def test_plan_is_a_pure_function_of_seed_and_step(pairs):
    a = draw_batch_plan(SEED, 3, 8, pairs.lr_sizes, PATCH, True)
    assert a.dtype == torch.long and a.shape == (8, 6)
    assert torch.equal(a, draw_batch_plan(SEED, 3, 8, pairs.lr_sizes, PATCH, True))
    assert not torch.equal(a, draw_batch_plan(SEED, 4, 8, pairs.lr_sizes, PATCH, True))
    assert not torch.equal(a, draw_batch_plan(SEED + 1, 3, 8, pairs.lr_sizes, PATCH, True))
    plain = draw_batch_plan(SEED, 3, 8, pairs.lr_sizes, PATCH, False)
    assert torch.equal(plain[:, :3], a[:, :3]) and not plain[:, 3:].any()   # same crops, no flips
    for i, y, x in a[:, :3].tolist():
        h, w = pairs.lr_sizes[i]
        assert 0 <= y <= h - PATCH and 0 <= x <= w - PATCH


def test_patches_are_aligned_crops_of_the_cached_lr_and_hr(pairs):
    src = source(pairs, "host", augment=False)
    for step in range(5):
        lr, hr = src.batch(step)
        assert lr.shape == (BATCH, 3, PATCH, PATCH) and hr.shape == (BATCH, 3, PATCH * SCALE, PATCH * SCALE)
        for row, (i, y, x, *_) in enumerate(draw_batch_plan(SEED, step, BATCH, pairs.lr_sizes, PATCH, False).tolist()):
            want_lr = pairs.lrs[i][y:y + PATCH, x:x + PATCH]
            want_hr = pairs.hrs[i][y * SCALE:(y + PATCH) * SCALE, x * SCALE:(x + PATCH) * SCALE]
            assert np.array_equal(lr[row].permute(1, 2, 0).mul(255).round().byte().numpy(), want_lr)
            assert np.array_equal(hr[row].permute(1, 2, 0).mul(255).round().byte().numpy(), want_hr)


def test_augment_semantics_are_kept(pairs):
    src = source(pairs, "host", pixel_range=255)
    for step in range(10):
        lr, _ = src.batch(step)
        for row, (i, y, x, hf, vf, rot) in enumerate(draw_batch_plan(SEED, step, BATCH, pairs.lr_sizes, PATCH,
                                                                      True).tolist()):
            want = _augment(pairs.lrs[i][y:y + PATCH, x:x + PATCH], hf, vf, rot)
            assert np.array_equal(lr[row].permute(1, 2, 0).byte().numpy(), want)


def test_values_are_uint8_over_255_over_pixel_range(pairs):
    lr1, hr1 = source(pairs, "host").batch(0)
    lr255, hr255 = source(pairs, "gpu", pixel_range=255).batch(0)
    assert lr1.dtype == torch.float32 and lr1.shape == lr255.shape
    assert torch.equal(hr255, hr255.round()) and float(hr255.max()) > 1        # the uint8 values
    assert torch.equal(hr255 / 255.0, hr1) and torch.equal(lr255 / 255.0, lr1)
    assert torch.equal(hr1, hr255.byte().float().div_(255.0))                  # as `u8 / 255` always was


@pytest.mark.parametrize("kind, workers", [("loader", 0), ("loader", 2), ("gpu", 0)])
def test_every_source_gives_the_host_batches_and_resumes_exactly(pairs, kind, workers):
    steps = range(50)
    want = batches(source(pairs, "host"), steps)
    got = batches(source(pairs, kind, workers=workers), steps)
    assert all(torch.equal(a, b) for w, g in zip(want, got) for a, b in zip(w, g))
    resumed = batches(source(pairs, kind, workers=workers), range(25, 50))   # a run restarted at step 25
    assert all(torch.equal(a, b) for w, g in zip(want[25:], resumed) for a, b in zip(w, g))


def test_loader_restarts_when_asked_for_another_step(pairs):
    want = batches(source(pairs, "host"), [0, 1, 2, 7, 8, 3])
    got = batches(source(pairs, "loader", workers=0), [0, 1, 2, 7, 8, 3])
    assert all(torch.equal(a, b) for w, g in zip(want, got) for a, b in zip(w, g))


@pytest.mark.parametrize("kind", ["host", "loader", "gpu"])
def test_ranks_split_the_global_batch(pairs, kind):
    for step in (0, 11):
        full_lr, full_hr = source(pairs, "host").batch(step)
        parts = [source(pairs, kind, workers=0, rank=r, world_size=2).batch(step) for r in (0, 1)]
        assert parts[0][0].shape[0] == BATCH // 2
        assert torch.equal(torch.cat([p[0] for p in parts]), full_lr)
        assert torch.equal(torch.cat([p[1] for p in parts]), full_hr)


def test_bad_arguments_are_bench_errors(pairs):
    with pytest.raises(BenchError, match="batch_size 4 does not split over 3 ranks"):
        source(pairs, "host", world_size=3)
    with pytest.raises(BenchError, match="batch source must be one of"):
        source(pairs, "disk")
    with pytest.raises(BenchError, match="rank 2"):
        source(pairs, "host", rank=2, world_size=2)


def test_auto_and_describe_on_cpu(pairs):
    src = source(pairs, "auto")
    assert src.describe() == "host, main thread"
    assert source(pairs, "loader", workers=0).describe() == "DataLoader, 0 workers"
    assert source(pairs, "gpu").describe().startswith("cpu-resident uint8, ")

