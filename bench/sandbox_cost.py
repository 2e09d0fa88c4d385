"""What judging a message in its sandboxed child costs beyond judging it in the process itself.

    .venv/bin/python -m bench.sandbox_cost [--messages 120] [--kinds docx,pdf]

Judges messages without video of the intake bench's mailbox (bench/synthetic_mailbox.py; by
default its typed forms, .docx and text PDF, four photos each; `--kinds docx,pdf,docx+scan,scan`
for the whole mix) one after the other in this process, twice:
(a) as a judging worker does: the message's documents, photos and seal material in one kept child
    forked for it (core/children.py `one_child`), its scans read by a warm OCR process
    (parsers/ocr_worker.py, started before the count as in a worker that has read scans before,
    and stopped at the end so that its CPU is counted);
(b) with every piece, OCR included, run in this process instead, no child at all (patched here).
Each message is read from the cache as it is judged, so this process stays the size of a worker
(a fork copies the page tables of all the parent maps). Prints CPU (user and system, of this process
and of its children) and minor page faults per message, and the sum for all messages.
"""

from __future__ import annotations

import argparse
import os
import resource
from dataclasses import dataclass

from bench.proctree import process_stat
from bench.synthetic_mailbox import _cache, _cached, form_of, has_video

TYPED = ("docx", "pdf")


@dataclass(frozen=True)
class Usage:
    cpu: float
    system: float
    faults: int

    @staticmethod
    def now() -> "Usage":
        own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        return Usage(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
                     own.ru_stime + children.ru_stime, own.ru_minflt + children.ru_minflt)

    def __sub__(self, other: "Usage") -> "Usage":
        return Usage(self.cpu - other.cpu, self.system - other.system, self.faults - other.faults)

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(self.cpu + other.cpu, self.system + other.system, self.faults + other.faults)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=120, help="messages judged each way")
    parser.add_argument("--kinds", default=",".join(TYPED), help="forms of the mailbox to judge (synthetic_mailbox FORM_OF_SLOT)")
    args = parser.parse_args()
    from campaigns import load
    from parsers import ocr_worker

    profile = load("chongqing-bayu-2017")
    indexes = _indexes(args.messages, tuple(args.kinds.split(",")))
    ocr_worker.keep_warm(profile.limits)
    sandboxed = _judged(indexes, profile, finish=ocr_worker.stop_warm)  # its CPU is counted once it is reaped
    _without_children()
    in_process = _judged(indexes, profile)
    print(f"{len(indexes)} messages without video ({args.kinds}); per message:")
    print(f"{'':28} {'CPU ms':>8} {'system ms':>10} {'page faults':>12} {'CPU s, all':>11}")
    for name, usage in (("in its sandboxed child", sandboxed), ("in this process", in_process),
                        ("the sandbox's cost", sandboxed - in_process)):
        print(f"{name:28} {usage.cpu * 1000 / len(indexes):8.1f} {usage.system * 1000 / len(indexes):10.1f} "
              f"{usage.faults / len(indexes):12.0f} {usage.cpu:11.1f}")


def _indexes(count: int, kinds: tuple[str, ...]) -> list[int]:
    found: list[int] = []
    index = 0
    while len(found) < count:
        if not has_video(index) and form_of(index) in kinds:
            found.append(index)
        index += 1
    return found


def _judged(indexes: list[int], profile, finish=lambda: None) -> Usage:
    """What judging these messages cost, the warm OCR process's part included (counted from its
    /proc figures at the start, and from this process's reaped children once `finish` stops it)."""
    from service.judge import judge

    folder = _cache()
    for index in indexes:
        _cached(folder, index)  # a message missing from the cache is built here, not while measured
    first_of_each = {form_of(index): index for index in reversed(indexes)}
    for index in first_of_each.values():  # imports, the OCR engine's start, first-use caches: not counted
        judge(_cached(folder, index).raw, profile)
    before = Usage.now() + _warm_ocr_so_far()
    for index in indexes:
        mail = _cached(folder, index)
        judge(mail.raw, profile, mail.arrival)
    finish()
    return Usage.now() - before


def _warm_ocr_so_far() -> Usage:
    from parsers import ocr_worker

    kept = ocr_worker._kept
    fields = process_stat(kept.pid) if kept is not None and kept.pid is not None else []
    if not fields:
        return Usage(0.0, 0.0, 0)
    ticks = os.sysconf("SC_CLK_TCK")
    return Usage((int(fields[11]) + int(fields[12])) / ticks, int(fields[12]) / ticks, int(fields[7]))


def _without_children() -> None:
    import core.children as children

    def in_process(func, work, seconds, memory_bytes, fresh):
        outcomes = []
        for args in work:
            try:
                outcomes.append(children.Outcome(value=func(*args)))
            except Exception as exc:  # noqa: BLE001 - as the child hands it back
                outcomes.append(children.Outcome(error=exc))
        return outcomes

    children._in_one_child = in_process


if __name__ == "__main__":
    main()
