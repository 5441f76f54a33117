"""Two checkpoints are kept; a truncated, corrupt or missing latest falls back to the previous one,
two bad ones restart the cell, and each case is said (stderr, train.log, the outcome)."""

from __future__ import annotations

import re
import signal

import numpy as np
import pytest
import torch

from benchmarks.archs import build_arch
from benchmarks.spec import TrainProfile
from benchmarks.train import (
    CHECKPOINT,
    PREVIOUS_CHECKPOINT,
    TRAIN_LOG,
    load_checkpoint,
    train,
)
from methods import build_method

from ..batches import host_batches
from .conftest import bench, bench_env, run_args, write_matrix

PROFILE = TrainProfile(name="t", iterations=6, batch_size=2, patch_size=8, lr=1e-3, checkpoint_every=2,
                       milestones=(3,))
CPU = torch.device("cpu")


def fresh(seed=0):
    torch.manual_seed(seed)
    method = build_method("baseline", build_arch("edsr", 2, num_blocks=1, num_feat=4))
    rng = np.random.default_rng(0)
    return method, host_batches([rng.integers(0, 256, (40, 36, 3), dtype=np.uint8) for _ in range(3)], 2, 8,
                                PROFILE.batch_size)


def weights(method):
    return {k: v.clone() for k, v in method.state_dict().items()}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    method, sampler = fresh()
    train(method, sampler, PROFILE, tmp_path_factory.mktemp("full"), CPU, progress=False)
    return weights(method)


def killed_after_step_4(run_dir):
    """Train until step 5 starts, then die (the latest checkpoint is step 4, the one before step 2)."""
    method, sampler = fresh()
    original = method.losses

    def dying(lr, hr, step):
        if step == 4:
            raise KeyboardInterrupt
        return original(lr, hr, step)

    method.losses = dying
    with pytest.raises(KeyboardInterrupt):
        train(method, sampler, PROFILE, run_dir, CPU, progress=False)


def step_of(path):
    return int(torch.load(path, weights_only=True)["step"])


def log_events(run_dir):
    return [tuple(line.split("\t")[1:]) for line in (run_dir / TRAIN_LOG).read_text().splitlines()]


def assert_same(method, expected):
    for key, value in method.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0)


def test_the_latest_and_the_previous_checkpoint_are_kept(tmp_path):
    method, sampler = fresh()
    outcome = train(method, sampler, PROFILE, tmp_path, CPU, progress=False)
    assert (step_of(tmp_path / CHECKPOINT), step_of(tmp_path / PREVIOUS_CHECKPOINT)) == (6, 4)
    assert not list(tmp_path.glob("*.tmp")) and outcome.resumed == ""
    assert [e[:2] for e in log_events(tmp_path)] == [("start", "0"), ("finish", "6")]


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the tensor data: torch.load alone would not notice
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, cause", [
    (truncate, r"\((OSError|RuntimeError): .*(Invalid argument|PytorchStreamReader)"),  # torch's own words vary
    (flip_a_byte, r"\(ValueError: its content does not match its SHA-256 \(corrupt\)\)"),
    (lambda p: p.write_bytes(b"not a checkpoint"), r"\(UnpicklingError: not a file torch.load\(weights_only=True\) can read\)"),
])
def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_and_says_so(tmp_path, capsys, uninterrupted,
                                                                             damage, cause):
    killed_after_step_4(tmp_path)
    assert (step_of(tmp_path / CHECKPOINT), step_of(tmp_path / PREVIOUS_CHECKPOINT)) == (4, 2)
    damage(tmp_path / CHECKPOINT)
    capsys.readouterr()

    method, sampler = fresh(seed=123)  # another init: everything must come from the checkpoint
    outcome = train(method, sampler, PROFILE, tmp_path, CPU, progress=False)
    assert_same(method, uninterrupted)  # two steps redone, the same weights
    assert outcome.resumed.startswith(f"{CHECKPOINT} unreadable (") and re.search(cause, outcome.resumed)
    assert outcome.resumed.endswith(f"kept as {CHECKPOINT}.corrupt; resumed at step 2 from {PREVIOUS_CHECKPOINT}")
    warning = capsys.readouterr().err
    assert f"warning: {tmp_path}: {CHECKPOINT} unreadable" in warning and "resumed at step 2" in warning
    assert log_events(tmp_path)[-2][:2] == ("fallback", "2") and log_events(tmp_path)[-1][:2] == ("finish", "6")
    assert (tmp_path / f"{CHECKPOINT}.corrupt").is_file()  # kept for inspection, out of the rotation
    assert (step_of(tmp_path / CHECKPOINT), step_of(tmp_path / PREVIOUS_CHECKPOINT)) == (6, 4)


def test_a_missing_latest_checkpoint_falls_back_to_the_previous(tmp_path, uninterrupted):
    killed_after_step_4(tmp_path)
    (tmp_path / CHECKPOINT).unlink()  # a kill between moving it to .prev and moving the new one in
    (tmp_path / CHECKPOINT).with_suffix(".tmp").write_bytes(b"half a checkpoint")
    method, sampler = fresh(seed=123)
    outcome = train(method, sampler, PROFILE, tmp_path, CPU, progress=False)
    assert_same(method, uninterrupted)
    assert outcome.resumed == f"{CHECKPOINT} missing (killed while replacing it); resumed at step 2 from {PREVIOUS_CHECKPOINT}"


def test_two_bad_checkpoints_restart_the_cell_from_step_0_and_say_so(tmp_path, capsys, uninterrupted):
    killed_after_step_4(tmp_path)
    truncate(tmp_path / CHECKPOINT)
    flip_a_byte(tmp_path / PREVIOUS_CHECKPOINT)
    method, sampler = fresh()  # the runner seeds a cell the same way every time
    outcome = train(method, sampler, PROFILE, tmp_path, CPU, progress=False)
    assert_same(method, uninterrupted)
    assert outcome.resumed.endswith("restarted from step 0") and f"{PREVIOUS_CHECKPOINT} unreadable" in outcome.resumed
    assert "restarted from step 0" in capsys.readouterr().err
    assert log_events(tmp_path)[-2][:2] == ("restart", "0")


def test_a_checkpoint_of_another_model_is_not_loaded(tmp_path):
    other = build_method("baseline", build_arch("edsr", 2, num_blocks=1, num_feat=8))
    method, sampler = fresh()
    train(other, sampler, PROFILE, tmp_path, CPU, progress=False)
    resume = load_checkpoint(tmp_path, CPU, method)
    assert resume.state is None and len(resume.problems) == 2
    assert all("does not fit the model" in p for p in resume.problems)


def test_a_run_killed_inside_a_checkpoint_write_resumes_from_the_previous_one(tmp_path):
    matrix = write_matrix(tmp_path, scales=(2,), iterations=20, every=5)
    results = tmp_path / "results"
    killed = bench(*run_args(matrix, results), env=bench_env(BENCH_KILL_AT="checkpoint-write:2"))
    assert killed.returncode == -signal.SIGKILL
    (run_dir,) = [p.parent for p in (results / "runs").glob("*/train.log")]
    assert not (run_dir / CHECKPOINT).exists() and step_of(run_dir / PREVIOUS_CHECKPOINT) == 5
    assert (run_dir / "checkpoint.tmp").is_file()  # the new one, written and synced, not yet moved in

    again = bench(*run_args(matrix, results))
    assert again.returncode == 0, again.stdout + again.stderr
    assert (f"; {CHECKPOINT} missing (killed while replacing it); resumed at step 5 from {PREVIOUS_CHECKPOINT}"
            in again.stdout)
