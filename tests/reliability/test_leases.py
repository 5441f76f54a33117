"""Leases in the store: one owner per step, live owners respected, dead owners taken over."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time

import pytest

from benchmarks.graph.jobs import Outcome
from benchmarks.lease import Heartbeat, Lease, LeasePolicy, Owner, owner_is_dead
from benchmarks.matrix import parse_matrix
from benchmarks.store import ResultStore
from tests.test_matrix import tiny

POLICY = LeasePolicy(heartbeat_s=0.05, stale_after_s=5.0, poll_s=0.05)


def dead(policy: LeasePolicy = POLICY):
    return lambda lease: owner_is_dead(lease, policy)


def exited_pid() -> int:
    """The pid of a process of this host that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def elsewhere(name: str = "other") -> Owner:
    return Owner(f"{name}-host:1234:abcd", f"{name}-host", 1234, "")


def test_a_step_has_one_owner_until_released(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    me, other = Owner.current(), Owner(f"{socket.gethostname()}:{os.getpid()}:other", socket.gethostname(),
                                       os.getpid(), "")  # alive: this very process
    first = store.acquire_lease("step-a", me, ["cell-a"], dead())
    assert first.state == "acquired" and first.holder is None
    held = store.acquire_lease("step-a", other, ["cell-a"], dead())
    assert held.state == "held" and held.holder.owner.id == me.id and held.holder.key == "step-a"
    assert store.acquire_lease("step-a", me, ["cell-a"], dead()).state == "acquired"  # an owner may re-take its own
    assert [(l.key, l.owner.id) for l in store.leases()] == [("step-a", me.id)]
    store.release_lease("step-a", other)  # not the owner: nothing happens
    assert [l.owner.id for l in store.leases()] == [me.id]
    store.release_lease("step-a", me)
    assert store.leases() == []
    assert store.acquire_lease("step-a", other, ["cell-a"], dead()).state == "acquired"


def test_a_step_whose_cells_are_done_is_not_leased(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    spec = parse_matrix(tiny()).expand()[0]
    from benchmarks.graph.cells import cell_key

    key = cell_key(spec.cell)
    store.put_cell(spec.cell, Outcome(key, "ok", created="2024-01-01T00:00:00+00:00"))
    claim = store.acquire_lease(key, Owner.current(), [key], dead())
    assert claim.state == "done" and claim.cells[key][0] == "ok"
    assert store.leases() == []


def test_a_dead_local_owner_is_taken_over_at_once(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    gone = Owner(f"{socket.gethostname()}:x:dead", socket.gethostname(), exited_pid(), "")
    store.acquire_lease("step", gone, [], dead())
    me = Owner.current()
    claim = store.acquire_lease("step", me, [], dead())  # its heartbeat is fresh; its process is gone
    assert claim.state == "acquired" and claim.holder.owner == gone
    assert [l.owner.id for l in store.leases()] == [me.id]


def test_a_reused_pid_does_not_keep_a_lease_alive():
    """This process is alive, but a lease naming its pid with another start time is someone else's."""
    me = Owner.current()
    assert me.pid_started  # Linux: read from /proc
    now = time.time()
    assert not owner_is_dead(Lease("k", me, now, now), POLICY)
    impostor = dataclasses.replace(me, pid_started=str(int(me.pid_started) + 1))
    assert owner_is_dead(Lease("k", impostor, now, now), POLICY)


def test_a_remote_owner_is_dead_only_after_its_heartbeat_stops(tmp_path):
    policy = LeasePolicy(heartbeat_s=0.1, stale_after_s=0.5, poll_s=0.05)
    store = ResultStore(tmp_path / "r.sqlite")
    remote = elsewhere()
    store.acquire_lease("step", remote, [], dead(policy))
    assert store.acquire_lease("step", Owner.current(), [], dead(policy)).state == "held"
    time.sleep(0.3)
    assert store.heartbeat(remote) == 1  # it is still beating
    time.sleep(0.3)
    assert store.acquire_lease("step", Owner.current(), [], dead(policy)).state == "held"
    time.sleep(0.6)  # silent for longer than stale_after_s
    claim = store.acquire_lease("step", Owner.current(), [], dead(policy))
    assert claim.state == "acquired" and claim.holder.owner == remote and claim.holder.age() > 0.5


def test_the_heartbeat_thread_refreshes_and_releases_on_exit(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    me = Owner.current()
    store.acquire_lease("a", me, [], dead())
    store.acquire_lease("b", me, [], dead())
    store.acquire_lease("c", elsewhere(), [], dead())
    before = {l.key: l.heartbeat for l in store.leases()}
    with Heartbeat(store, me, every_s=0.05):
        time.sleep(0.4)
        during = {l.key: l.heartbeat for l in store.leases()}
    assert during["a"] > before["a"] and during["b"] > before["b"]
    assert during["c"] == before["c"]  # another owner's lease is not touched
    assert [l.key for l in store.leases()] == ["c"]  # ours released on exit


@pytest.mark.parametrize("fields, needle", [
    ({"heartbeat_s": 0}, "heartbeat_s must be positive"),
    ({"poll_s": -1}, "poll_s must be positive"),
    ({"heartbeat_s": 10, "stale_after_s": 10}, "stale_after_s (10) must exceed heartbeat_s"),
])
def test_lease_policy_refuses_settings_that_cannot_work(fields, needle):
    with pytest.raises(ValueError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        LeasePolicy(**fields)


def test_dead_owners_leases_are_dropped_and_live_ones_kept(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    gone = Owner(f"{socket.gethostname()}:x:dead", socket.gethostname(), exited_pid(), "")
    me, remote = Owner.current(), elsewhere()
    for key, owner in (("a", gone), ("b", me), ("c", remote), ("d", gone)):
        store.acquire_lease(key, owner, [], lambda lease: False)
    assert store.release_dead_leases(dead()) == 2
    assert sorted((l.key, l.owner.id) for l in store.leases()) == [("b", me.id), ("c", remote.id)]
