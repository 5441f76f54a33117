"""LossLog: window means every N steps in losses.csv, resume truncation, close, optional tensorboard."""

from __future__ import annotations

import re
import sys

import pandas as pd
import pytest

from benchmarks import loss_log
from benchmarks.loss_log import LossLog, read_loss_csv


def _values(step: int) -> dict[str, float]:
    """G/l1 every step = step; D/real only on even steps = 10 * step."""
    out = {"G/l1": float(step)}
    if step % 2 == 0:
        out["D/real"] = 10.0 * step
    return out


def _rows(path) -> list[tuple[int, str, float]]:
    frame = read_loss_csv(path)
    return list(zip(frame["step"].tolist(), frame["name"].tolist(), frame["value"].tolist()))


def test_means_of_each_window(tmp_path):
    log = LossLog(tmp_path, every=3, tensorboard=False)
    for step in range(1, 8):  # steps 1..7: windows 1-3, 4-6, then 7 (partial, written at close)
        log.add(step, _values(step))
    assert _rows(tmp_path / "losses.csv") == [
        (3, "G/l1", (1 + 2 + 3) / 3), (3, "D/real", 20.0),  # D/real only at step 2
        (6, "G/l1", (4 + 5 + 6) / 3), (6, "D/real", (40.0 + 60.0) / 2),
    ]
    log.close()
    assert _rows(tmp_path / "losses.csv")[-1:] == [(7, "G/l1", 7.0)]
    text = (tmp_path / "losses.csv").read_text()
    assert text.splitlines()[0] == "step,name,value"
    assert text.splitlines()[1] == "3,G/l1,2.0"
    assert not (tmp_path / "tb").exists()


def test_header_written_once_across_reopen(tmp_path):
    with LossLog(tmp_path, every=2, tensorboard=False) as log:
        for step in (1, 2):
            log.add(step, {"G/l1": 1.0})
    with LossLog(tmp_path, every=2, tensorboard=False) as log:
        for step in (3, 4):
            log.add(step, {"G/l1": 3.0})
    lines = (tmp_path / "losses.csv").read_text().splitlines()
    assert lines == ["step,name,value", "2,G/l1,1.0", "4,G/l1,3.0"]


def test_resume_drops_rows_after_checkpoint(tmp_path):
    log = LossLog(tmp_path, every=2, tensorboard=False)
    for step in range(1, 8):  # rows at 2, 4, 6; step 7 accumulated, then the process is "killed"
        log.add(step, {"G/l1": float(step)})
    del log
    assert [r[0] for r in _rows(tmp_path)] == [2, 4, 6]

    log = LossLog(tmp_path, every=2, tensorboard=False)
    log.resume(3)  # checkpoint at step 3: rows 4 and 6 were written after it
    assert _rows(tmp_path) == [(2, "G/l1", 1.5)]
    for step in range(4, 7):
        log.add(step, {"G/l1": 100.0 + step})
    log.close()
    # windows stay aligned to multiples of `every`: step 4 alone (3 came before the resume)
    assert _rows(tmp_path) == [(2, "G/l1", 1.5), (4, "G/l1", 104.0), (6, "G/l1", 105.5)]
    assert (tmp_path / "losses.csv").read_text().count("step,name,value") == 1


def test_resume_restarts_accumulation_and_without_file(tmp_path):
    log = LossLog(tmp_path, every=4, tensorboard=False)
    log.resume(0)  # nothing logged yet: no file is made
    assert not (tmp_path / "losses.csv").exists()
    log.add(1, {"G/l1": 50.0})
    log.resume(0)  # the accumulated step 1 is forgotten
    for step in (1, 2, 3, 4):
        log.add(step, {"G/l1": float(step)})
    log.close()
    assert _rows(tmp_path) == [(4, "G/l1", 2.5)]


def test_close_flushes_partial_window_once(tmp_path):
    log = LossLog(tmp_path, every=100, tensorboard=False)
    for step in range(1, 6):
        log.add(step, {"G/l1": float(step), "diag/d_real": 0.5})
    assert not (tmp_path / "losses.csv").exists()  # no full window yet
    log.close()
    log.close()  # idempotent
    assert _rows(tmp_path) == [(5, "G/l1", 3.0), (5, "diag/d_real", 0.5)]
    with pytest.raises(RuntimeError):
        log.add(6, {"G/l1": 1.0})


def test_close_after_full_window_writes_nothing_more(tmp_path):
    log = LossLog(tmp_path, every=2, tensorboard=False)
    log.add(1, {"G/l1": 1.0})
    log.add(2, {"G/l1": 2.0})
    log.close()
    assert _rows(tmp_path) == [(2, "G/l1", 1.5)]


def test_missing_tensorboard_is_csv_only(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import raises ImportError
    assert loss_log._summary_writer_class() is None
    log = LossLog(tmp_path, every=1, tensorboard=True)
    log.add(1, {"G/l1": 0.25})
    log.close()
    assert _rows(tmp_path) == [(1, "G/l1", 0.25)]
    assert not (tmp_path / "tb").exists()


def test_tensorboard_gets_the_same_scalars(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log = LossLog(tmp_path, every=2, tensorboard=True)
    for step in range(1, 6):
        log.add(step, {"G/l1": float(step)})
    log.close()
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    events = [(e.step, e.value) for e in acc.Scalars("G/l1")]
    assert events == [(2, 1.5), (4, 3.5), (5, 5.0)]


def test_read_loss_csv_missing_and_cut_short(tmp_path):
    empty = read_loss_csv(tmp_path / "nope.csv")
    assert list(empty.columns) == ["step", "name", "value"] and empty.empty
    (tmp_path / "losses.csv").write_text("step,name,value\n2,G/l1,1.5\n2,G/adv,nan\n4,G/l")
    frame = read_loss_csv(tmp_path)  # a run folder works too; the cut line is left out
    assert frame["step"].tolist() == [2, 2]
    assert frame["name"].tolist() == ["G/l1", "G/adv"]
    assert frame["value"].iloc[0] == 1.5 and pd.isna(frame["value"].iloc[1])
    assert str(frame["step"].dtype) == "int64" and str(frame["value"].dtype) == "float64"


def test_every_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        LossLog(tmp_path, every=0)


def test_tensorboard_resume_purges_later_steps(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log = LossLog(tmp_path, every=2, tensorboard=True)
    for step in range(1, 7):
        log.add(step, {"G/l1": float(step)})
    log.close()
    # date the first file 10 s back, so the resumed one sorts after it as a later process's would
    for old in (tmp_path / "tb").glob("*tfevents*"):
        stamp = re.search(r"tfevents\.(\d+)", old.name).group(1)
        old.rename(old.with_name(old.name.replace(stamp, f"{int(stamp) - 10:0{len(stamp)}d}", 1)))
    log = LossLog(tmp_path, every=2, tensorboard=True)
    log.resume(2)
    for step in range(3, 5):
        log.add(step, {"G/l1": 100.0})
    log.close()
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("G/l1")] == [(2, 1.5), (4, 100.0)]
