"""Per-step loss curves of a training run, downsampled to one row per name every N steps.

The trainer calls `LossLog.add(step, values)` once per training step with that step's loss
terms and diagnostics (``"G/l1"``, ``"D/real"``, ``"diag/d_real"``, ...). `step` is the number
of steps completed, the same number a checkpoint stores (1 after the first step). Every
`every` steps (when ``step % every == 0``) the log appends, per name, the mean over the steps
of that window to ``run_dir/losses.csv``, in long form::

    step,name,value
    100,G/l1,0.0412
    100,D/real,0.693

A name missing from some steps (a discriminator updated every other step) is averaged over
the steps that carry it. When a run resumes from a checkpoint at step S, `resume(S)` drops
the rows a killed process wrote after S and restarts the window, so the windows stay aligned
to multiples of `every`. A run started from scratch in a folder holding an old log should call
``resume(0)``. `close()` writes the last partial window (rows at the last step reached).

With ``tensorboard=True`` and the ``tensorboard`` package importable, the same downsampled
scalars also go to a ``SummaryWriter`` in ``run_dir/tb``; without it the log is CSV only.
tensorboard is optional and not a dependency of the project.
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

LOSS_CSV = "losses.csv"
TB_DIR = "tb"
COLUMNS = ("step", "name", "value")


def _summary_writer_class() -> Any | None:
    """torch's SummaryWriter, or None when tensorboard is not installed (or fails to import)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:  # ImportError without tensorboard; broken installs raise other errors
        return None
    return SummaryWriter


class LossLog:
    """Downsampled loss curves of one run: ``run_dir/losses.csv`` (+ ``run_dir/tb``)."""

    def __init__(self, run_dir: Path | str, every: int = 100, tensorboard: bool = True) -> None:
        every = int(every)
        if every < 1:
            raise ValueError(f"LossLog: every must be >= 1, got {every}")
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOSS_CSV
        self.every = every
        self.tensorboard = bool(tensorboard)
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self._last_step: int | None = None
        self._writer: Any = None
        self._writer_tried = False
        self._purge_step: int | None = None
        self._closed = False

    # ------------------------------------------------------------------ trainer side

    def add(self, step: int, values: Mapping[str, float]) -> None:
        """Accumulate one training step; write the window's means when step % every == 0."""
        if self._closed:
            raise RuntimeError("LossLog.add after close()")
        step = int(step)
        for name, value in values.items():
            name = str(name)
            self._sums[name] = self._sums.get(name, 0.0) + float(value)
            self._counts[name] = self._counts.get(name, 0) + 1
        self._last_step = step
        if step % self.every == 0:
            self._flush(step)

    def resume(self, step: int) -> None:
        """The run restarts from a checkpoint at `step`: drop rows with a larger step (written
        after the checkpoint by a process that was killed) and restart accumulation."""
        step = int(step)
        self._reset()
        self._last_step = None
        if self.path.is_file():
            rows = read_loss_csv(self.path)
            kept = rows[rows["step"] <= step]
            tmp = self.path.with_name(self.path.name + ".tmp")
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                out = csv.writer(fh)
                out.writerow(COLUMNS)
                out.writerows(zip(kept["step"].tolist(), kept["name"].tolist(), kept["value"].tolist()))
            os.replace(tmp, self.path)  # atomic: a kill here leaves the old file
        # tensorboard: events at global_step >= purge_step are dropped when the writer opens
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._writer_tried = False
        self._purge_step = step + 1

    def close(self) -> None:
        """Write the partial window (rows at the last step reached) and close the writer."""
        if self._closed:
            return
        if self._counts and self._last_step is not None:
            self._flush(self._last_step)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._closed = True

    def __enter__(self) -> LossLog:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _reset(self) -> None:
        self._sums.clear()
        self._counts.clear()

    def _flush(self, step: int) -> None:
        if not self._counts:
            return
        means = [(name, self._sums[name] / self._counts[name]) for name in self._counts]
        self._reset()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        header = not self.path.is_file() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            if header:
                out.writerow(COLUMNS)
            out.writerows((step, name, value) for name, value in means)
        writer = self._summary_writer()
        if writer is not None:
            for name, value in means:
                writer.add_scalar(name, value, global_step=step)
            writer.flush()

    def _summary_writer(self) -> Any:
        if not self.tensorboard or self._writer_tried:
            return self._writer
        self._writer_tried = True
        cls = _summary_writer_class()
        if cls is None:
            return None
        try:
            self._writer = cls(log_dir=str(self.run_dir / TB_DIR), purge_step=self._purge_step)
        except Exception as exc:  # a broken tensorboard must not stop training
            warnings.warn(f"LossLog: tensorboard writer unavailable ({exc!r}); logging to "
                          f"{self.path.name} only", RuntimeWarning, stacklevel=3)
            self._writer = None
        return self._writer


def read_loss_csv(path: Path | str) -> pd.DataFrame:
    """The long frame (step, name, value) of a losses.csv (or of a run folder holding one);
    an empty frame with those columns when there is no file. Rows that do not parse (a line
    cut short by a kill) are left out."""
    path = Path(path)
    if path.is_dir():
        path = path / LOSS_CSV
    if not path.is_file() or path.stat().st_size == 0:
        return _empty()
    frame = pd.read_csv(path, dtype={"name": str}, keep_default_na=False, on_bad_lines="skip",
                        engine="python")
    if not set(COLUMNS) <= set(frame.columns):
        return _empty()
    frame = frame.loc[:, list(COLUMNS)]
    step = pd.to_numeric(frame["step"], errors="coerce")
    raw = frame["value"].astype(str).str.strip()
    value = pd.to_numeric(raw, errors="coerce")
    ok = (step.notna() & (step == step.round()) & (frame["name"].astype(str) != "")
          & (raw != "") & (value.notna() | raw.str.lower().isin(["nan", "-nan"])))
    out = pd.DataFrame({"step": step[ok].astype("int64"), "name": frame.loc[ok, "name"].astype(str),
                        "value": value[ok].astype("float64")})
    return out.reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"step": pd.Series(dtype="int64"), "name": pd.Series(dtype=str),
                         "value": pd.Series(dtype="float64")})
