"""The kill soak delivers real SIGKILLs and finds the final table equal to an uninterrupted run's."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from benchmarks.faults import kill_soak
from benchmarks.faults.compare import compare

from .conftest import ROOT, write_matrix


def test_a_failpoint_kills_the_process_the_nth_time_it_is_reached():
    code = ("from benchmarks.faults.failpoints import reached\n"
            "for i in range(5):\n    reached('other-point'); reached('store-write'); print(i, flush=True)\n")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT,
                         env={"BENCH_KILL_AT": "store-write:3", "PATH": ""})
    assert out.returncode == -signal.SIGKILL
    assert out.stdout.split() == ["0", "1"]  # killed on the third arrival, before printing 2
    free = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT, env={"PATH": ""})
    assert free.returncode == 0 and free.stdout.split() == ["0", "1", "2", "3", "4"]


@pytest.mark.slow  # five `bench run` processes: ~60 s on a busy 2-core CPU
def test_three_kills_lose_and_duplicate_nothing(tmp_path, capsys):
    matrix = write_matrix(tmp_path, scales=(2, 3), iterations=60, every=10)
    rc = kill_soak.main(["--kills", "3", "--seed", "1", "--matrix", str(matrix), "--workdir", str(tmp_path / "w"),
                         "--out", str(tmp_path / "soak.json")])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    report = json.loads((tmp_path / "soak.json").read_text())
    figures = report["figures"]
    assert figures["kills"] == 3 and figures["kills_survived"] == 3
    assert all(k["rc"] == -signal.SIGKILL for k in report["kills"])  # real SIGKILLs, each one
    assert (figures["results_lost"], figures["results_duplicated"], figures["values_differing"]) == (0, 0, 0)
    assert figures["unexpected_exits"] == 0 and figures["results_compared"] > 10
    assert figures["leases_taken_over"] >= 1  # every kill leaves a lease the next run takes over
    assert sum(figures["kills_by_kind"].values()) == 3
    assert set(figures["kills_by_kind"]) <= set(kill_soak.KINDS)
    assert report["conditions"]["torch_threads"] == 1 and report["conditions"]["logical_cores"] >= 1
    assert "kills survived:               3 of 3" in printed and "results lost:                 0 of" in printed
    final = tmp_path / "w" / f"round{figures['rounds']}" / "results.sqlite"
    assert compare(tmp_path / "w" / "reference" / "results.sqlite", final).equal  # checked independently
