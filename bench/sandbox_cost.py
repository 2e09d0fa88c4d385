"""What judging a message in its sandboxed child costs beyond judging it in the process itself.

    .venv/bin/python -m bench.sandbox_cost [--messages 120]

Judges the typed-form messages (the .docx and text-PDF forms, four photos each) of the intake
bench's mailbox (bench/synthetic_mailbox.py) one after the other in this process, twice:
(a) as a judging worker does: the message's documents, photos and seal material in one kept child
    forked for it (core/children.py `one_child`);
(b) with every piece run in this process instead, no child at all (patched here, for the figure).
Each message is read from the cache as it is judged, so this process stays the size of a worker
(a fork copies the page tables of all the parent maps). Prints CPU (user and system, of this process
and of its children) and minor page faults per message. Scans are left out: their OCR goes to a
warm process of its own either way.
"""

from __future__ import annotations

import argparse
import resource
from dataclasses import dataclass

from bench.synthetic_mailbox import _cache, _cached, form_of, has_video

KINDS = ("docx", "pdf")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=120, help="typed-form messages judged each way")
    args = parser.parse_args()
    from campaigns import load

    profile = load("chongqing-bayu-2017")
    indexes = _indexes(args.messages)
    sandboxed = _judged(indexes, profile)
    _without_children()
    in_process = _judged(indexes, profile)
    print(f"{len(indexes)} typed-form messages ({', '.join(KINDS)}), four photos each; per message:")
    print(f"{'':28} {'CPU ms':>8} {'system ms':>10} {'page faults':>12}")
    for name, usage in (("in its sandboxed child", sandboxed), ("in this process", in_process),
                        ("the sandbox's cost", sandboxed - in_process)):
        print(f"{name:28} {usage.cpu * 1000 / len(indexes):8.1f} {usage.system * 1000 / len(indexes):10.1f} "
              f"{usage.faults / len(indexes):12.0f}")


def _indexes(count: int) -> list[int]:
    found: list[int] = []
    index = 0
    while len(found) < count:
        if not has_video(index) and form_of(index) in KINDS:
            found.append(index)
        index += 1
    return found


def _judged(indexes: list[int], profile) -> Usage:
    from service.judge import judge

    folder = _cache()
    for index in indexes[:2]:  # imports and first-use caches, not counted
        judge(_cached(folder, index).raw, profile)
    before = Usage.now()
    for index in indexes:
        mail = _cached(folder, index)
        judge(mail.raw, profile, mail.arrival)
    return Usage.now() - before


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
