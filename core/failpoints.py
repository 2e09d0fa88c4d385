"""Named points between the service's steps where a crash test can kill the process for real.

`INTAKE_FAILPOINT=after_filing` makes the process SIGKILL itself the first time it gets
there (`after_filing:3`: the third time); `after_ledger:1:pause` makes it wait there for two
minutes instead (a job in hand, for the signal tests). Unset, each point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import time

_ENV = "INTAKE_FAILPOINT"
_counts: dict[str, int] = {}

POINTS = ("after_ledger", "after_filing", "after_set_aside", "after_send")
PAUSE_SECONDS = 120


class InjectedFailure(RuntimeError):
    """Raised where a test asked judging to fail (`INTAKE_FAILPOINT=fail_judging`)."""


def fail_here(name: str) -> None:
    if os.environ.get(_ENV) == name:
        raise InjectedFailure(f"failure injected at {name}")


def reached(name: str) -> None:
    wanted = os.environ.get(_ENV)
    if not wanted:
        return
    point, _, rest = wanted.partition(":")
    if point != name:
        return
    nth, _, how = rest.partition(":")
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(nth or 1):
        if how == "pause":
            time.sleep(PAUSE_SECONDS)
            return
        os.kill(os.getpid(), signal.SIGKILL)
