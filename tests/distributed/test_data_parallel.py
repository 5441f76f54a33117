"""Data-parallel training on the CPU (gloo, 2 processes) equals one process with the same global batch."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from benchmarks.archs import build_arch
from benchmarks.distributed import DistContext, from_env
from benchmarks.profile import TrainProfile
from benchmarks.train import CHECKPOINT, train
from benchmarks.trainer_data import TrainPairs, make_batch_source
from methods import build_method

PROFILE = TrainProfile(name="ddp", iterations=20, batch_size=4, patch_size=8, lr=2e-3, checkpoint_every=10,
                       log_every=5)


def _images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (40, 36, 3), dtype=np.uint8) for _ in range(3)]


def _run(run_dir: Path, dist: DistContext) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    method = build_method("baseline", build_arch("edsr", 2, num_blocks=1, num_feat=8))
    source = make_batch_source(TrainPairs.build(_images(), 2, 8), patch_size=8, scale=2, augment=True, seed=0,
                               batch_size=PROFILE.batch_size, pixel_range=1, device="cpu", source="host",
                               rank=dist.rank, world_size=dist.world_size)
    train(method, source, PROFILE, run_dir, torch.device("cpu"), progress=False, dist=dist)
    return {k: v.detach().clone() for k, v in method.state_dict().items()}


def _rank(rank: int, world: int, port: int, run_dir: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    dist = from_env("cpu")
    try:
        weights = _run(Path(run_dir), dist)
        torch.save(weights, Path(out) / f"rank{rank}.pt")
    finally:
        torch.distributed.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> tuple[Path, list[dict[str, torch.Tensor]]]:
    run_dir, out = tmp_path_factory.mktemp("ddp_run"), tmp_path_factory.mktemp("ddp_out")
    mp.start_processes(_rank, args=(2, _free_port(), str(run_dir), str(out)), nprocs=2, start_method="spawn")
    return run_dir, [torch.load(out / f"rank{r}.pt", weights_only=True) for r in range(2)]


def test_two_processes_give_the_weights_of_one_with_the_same_global_batch(two_ranks, tmp_path):
    _, ranks = two_ranks
    single = _run(tmp_path, DistContext())
    for key, value in single.items():
        torch.testing.assert_close(ranks[0][key], value, rtol=1e-5, atol=1e-6)
        assert torch.equal(ranks[0][key], ranks[1][key])  # the ranks never drift apart
    torch.manual_seed(0)
    init = build_arch("edsr", 2, num_blocks=1, num_feat=8).state_dict()
    moved = max(float((single["student." + k] - v).abs().max()) for k, v in init.items())
    assert moved > 1e-3  # 20 steps moved the weights: the equality above is not of two untrained nets


def test_only_rank_zero_writes_checkpoints_and_logs(two_ranks):
    run_dir, _ = two_ranks
    assert torch.load(run_dir / CHECKPOINT, weights_only=True)["step"] == 20
    assert (run_dir / "losses.csv").read_text().count("\n") == 1 + 4  # header + one row per 5 steps
    assert len((run_dir / "train.log").read_text().splitlines()) == 2  # one start, one finish: rank 0's


def test_a_batch_that_does_not_split_evenly_is_refused():
    from benchmarks.errors import BenchError

    with pytest.raises(BenchError):
        make_batch_source(TrainPairs.build(_images(), 2, 8), patch_size=8, scale=2, augment=True, seed=0,
                          batch_size=3, pixel_range=1, device="cpu", source="host", rank=0, world_size=2)


def test_a_train_cell_given_two_devices_runs_as_two_ranks_and_matches_one_process(tmp_path, tiny_matrix):
    """`bench run --gpus 2` path on the CPU: the train cell runs under torchrun with 2 gloo ranks."""
    from benchmarks.graph.executors import SequentialExecutor, SubprocessExecutor
    from benchmarks.matrix import load_matrix
    from benchmarks.reporting import with_teachers
    from benchmarks.runner import RunContext, run_matrix
    from benchmarks.store import ResultStore

    specs = with_teachers(load_matrix(str(tiny_matrix)).expand())
    frames = []
    for name, executor in (("one", SequentialExecutor()),
                           ("two", SubprocessExecutor(workers=1, gpus_per_cell=2, gpus=["0", "1"]))):
        store = ResultStore(tmp_path / name / "results.sqlite")
        outcome = run_matrix(specs, store, RunContext(results_dir=tmp_path / name, device="cpu", progress=False),
                             executor=executor, log=lambda line: None)
        assert outcome.failed == []
        frames.append(store.frame(specs).set_index(["label", "metric"])["value"])
        if name == "two":
            train = [r for r in store.records() if r.kind == "train"]
            assert [r.info["processes"] for r in train] == [2]
    for key, value in frames[0].items():  # averaged gradients over 2 x 1 rows = one process over 2 rows
        assert frames[1][key] == pytest.approx(value, abs=1e-3), key
