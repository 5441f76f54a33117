"""Named moments at which the kill soak SIGKILLs a run from the inside.

Some moments a run must survive last microseconds (between renaming the previous checkpoint
away and moving the new one in; between a store write's statements and its commit): a kill sent
from outside at a random time almost never lands there. So the code marks them with
`reached(name)`, and a run started with ``BENCH_KILL_AT=<name>:<n>`` sends itself a real SIGKILL
the n-th time it reaches that point. Without the variable `reached` does nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "BENCH_KILL_AT"
POINTS = ("checkpoint-write", "store-write")
_hits: dict[str, int] = {}


def reached(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, count = spec.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
