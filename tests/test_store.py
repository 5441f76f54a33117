"""Result store: atomic replacement, frames, failed runs."""

from __future__ import annotations

import dataclasses
import math

from benchmarks.matrix import parse_matrix
from benchmarks.store import ResultStore, RunResult, SetScore
from tests.test_matrix import tiny


def test_put_replaces_a_failed_attempt_and_frames_values(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    spec = dataclasses.replace(parse_matrix(tiny()).expand()[0], metrics=("psnr", "niqe"))
    store.put(RunResult(spec.key(), spec, "failed", error="boom"))
    assert store.status(spec.key()) == "failed" and not store.is_done(spec.key())
    frame = store.frame([spec])
    assert list(frame["note"]) == ["boom"]
    store.put(RunResult(spec.key(), spec, "ok", params=10, train_seconds=1.5,
                        set_scores=(SetScore("embedded-test", "psnr", 30.0),
                                    SetScore("embedded-test", "niqe", None, "not computed: missing"))))
    assert store.is_done(spec.key())
    frame = store.frame([spec], matrix="tiny")
    assert len(frame) == 2
    psnr = frame[frame.metric == "psnr"].iloc[0]
    assert psnr.value == 30.0 and psnr.label == "Tiny baseline" and psnr.matrix == "tiny"
    niqe = frame[frame.metric == "niqe"].iloc[0]
    assert math.isnan(niqe.value) and niqe.note.startswith("not computed")


def test_frame_of_unknown_specs_is_empty(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    assert store.frame(parse_matrix(tiny()).expand()).empty
