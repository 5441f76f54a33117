"""Leases: which run owns a step of the graph right now, so no cell runs twice.

Several `bench run` processes may share one results folder (a user starting a run per GPU by
hand, two executors, a pre-empted cluster job and its restart). Before a driver runs a step it
takes the step's lease in the store (`ResultStore.acquire_lease`): a row naming its owner and a
heartbeat the driver refreshes from a background thread (`Heartbeat`). Another driver skips a
step whose lease is held by a live owner and polls until it is done. A lease whose owner died
is taken over and the cell resumes from its checkpoint: an owner is dead when its heartbeat is
older than `stale_after_s`, or at once when it ran on this host and its process is gone.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Callable


@dataclasses.dataclass(frozen=True)
class LeasePolicy:
    """How often a driver refreshes its leases, when a silent owner counts as dead, how often a
    driver waiting on another's step looks again (seconds)."""

    heartbeat_s: float = 15.0
    stale_after_s: float = 120.0
    poll_s: float = 1.0

    def __post_init__(self) -> None:
        for field in ("heartbeat_s", "stale_after_s", "poll_s"):
            if not getattr(self, field) > 0:
                raise ValueError(f"LeasePolicy.{field} must be positive, got {getattr(self, field)}")
        if self.stale_after_s <= self.heartbeat_s:
            raise ValueError(f"LeasePolicy.stale_after_s ({self.stale_after_s}) must exceed heartbeat_s "
                             f"({self.heartbeat_s}), or live owners would look dead")


@dataclasses.dataclass(frozen=True)
class Owner:
    """A driver process: a unique id, and where it runs (to tell a dead local owner at once)."""

    id: str
    host: str
    pid: int
    pid_started: str  # the process's start time as the kernel reports it ("" where unknown)

    @classmethod
    def current(cls) -> "Owner":
        host, pid = socket.gethostname(), os.getpid()
        return cls(f"{host}:{pid}:{uuid.uuid4().hex[:8]}", host, pid, _process_started(pid))

    def describe(self) -> str:
        return f"{self.host} pid {self.pid}"


@dataclasses.dataclass(frozen=True)
class Lease:
    key: str
    owner: Owner
    acquired: float  # time.time() when taken
    heartbeat: float  # time.time() of the last refresh

    def age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.heartbeat


def owner_is_dead(lease: Lease, policy: LeasePolicy, now: float | None = None) -> bool:
    """No heartbeat for `stale_after_s`, or a process of this host that no longer exists."""
    if lease.age(now) > policy.stale_after_s:
        return True
    owner = lease.owner
    if owner.host != socket.gethostname():
        return False
    return not _process_alive(owner.pid, owner.pid_started)


def _process_started(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks): tells a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def _process_alive(pid: int, started: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return True  # no /proc (macOS): the pid exists, trust it
    if fields[0] in ("Z", "X"):  # a zombie has exited, its parent just has not reaped it
        return False
    return not started or fields[19] == started


class Heartbeat:
    """A daemon thread refreshing every lease `owner` holds in `store` every `every_s` seconds.

    Use as a context manager around the driver's loop; on exit it stops and releases whatever
    the owner still holds (a step interrupted by an error is free for the next run at once).
    """

    def __init__(self, store, owner: Owner, every_s: float, log: Callable[[str], None] = print):
        self.store, self.owner, self.every_s, self.log = store, owner, every_s, log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-lease-heartbeat", daemon=True)
        self._warned = False

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.store.heartbeat(self.owner)
            except Exception as exc:  # a busy or full disk: say so once, keep trying
                if not self._warned:
                    self.log(f"warning: could not refresh leases in {self.store.path}: {exc}")
                    self._warned = True

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self.store.release_leases(self.owner)
        except Exception:  # the store may be the thing that failed; dead leases expire anyway
            pass
