"""The seal stage of the judge per message, on bench/intake_speed.py's mailbox: CPU, wall, children.

    .venv/bin/python -m bench.seal_stage [--messages 100] [--repeat 2]

Judges the first N messages of bench/synthetic_mailbox.py in this process (as a judging worker
does) and adds up what `service.judge.with_seals` costs (the stage service/stagetimes.py calls
"seal"), and what the seal reads of the second look cost (counted under "ocr" there): wall time,
this process's CPU, and the CPU of the seal children (RUSAGE_CHILDREN: reaped when they end, so
a child's CPU counts where it ran); the number of child processes started and of files read in
them. The load average is printed: the CPU figures are what a busy machine distorts least.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections import Counter


def _cpu() -> tuple[float, float]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


class _Meter:
    """Wall and CPU of the wrapped calls, the outermost only; child starts made inside them."""

    def __init__(self):
        self.totals: Counter = Counter()
        self.inside = 0

    def wrap(self, function, name: str):
        def measured(*args, **kwargs):
            if self.inside:
                return function(*args, **kwargs)
            self.inside += 1
            wall, (own, children) = time.perf_counter(), _cpu()
            try:
                return function(*args, **kwargs)
            finally:
                own_after, children_after = _cpu()
                self.totals[f"{name} wall"] += time.perf_counter() - wall
                self.totals[f"{name} cpu"] += own_after - own
                self.totals[f"{name} children cpu"] += children_after - children
                self.inside -= 1
        return measured

    def count_children(self, function):
        def counted(func, work, *args, **kwargs):
            if self.inside:
                self.totals["seal child starts"] += 1
                self.totals["files read in them"] += len(work)
            return function(func, work, *args, **kwargs)
        return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import campaigns
    import core.children
    import service.judge as judge_module
    from bench.synthetic_mailbox import mailbox

    profile = campaigns.load("chongqing-bayu-2017")
    mails = mailbox(args.messages)
    meter = _Meter()
    core.children._in_one_child = meter.count_children(core.children._in_one_child)
    judge_module.with_seals = meter.wrap(judge_module.with_seals, "with_seals")
    judge_module.SealReadings.of = meter.wrap(judge_module.SealReadings.of, "second look's seal reads")
    for round_number in range(1, args.repeat + 1):
        meter.totals.clear()
        load = os.getloadavg()
        started = time.perf_counter()
        for mail in mails:
            judge_module.judge(mail.raw, profile, mail.arrival)
        print(f"round {round_number}: {len(mails)} messages judged in {time.perf_counter() - started:.1f} s; "
              f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}")
        for key in sorted(meter.totals):
            value = meter.totals[key] / len(mails)
            shown = f"{value * 1000:8.1f} ms" if isinstance(meter.totals[key], float) else f"{value:8.2f}   "
            print(f"  {key:34s} {shown} a message")
        cpu = sum(meter.totals[f"with_seals {part}"] for part in ("cpu", "children cpu")) / len(mails)
        print(f"  {'with_seals CPU, own + children':34s} {cpu * 1000:8.1f} ms a message")


if __name__ == "__main__":
    main()
