"""Where a poll's time goes, stage by stage: for bench/intake_speed.py, off unless asked for.

With INTAKE_STAGE_TIMES set to a file, each process adds up the wall time of its stages
(fetch, store, parse, documents, probe, ocr, seal, rules, file, reply, move) and the
service writes the totals there as JSON at the end of a poll. Unset, `stage()` costs one
attribute lookup, so the hooks stay in the product for good.

The stages inside the judge are timed by wrapping the functions `service.judge` calls,
from outside it, so that measuring never changes the judging code.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections import Counter
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

ENV = "INTAKE_STAGE_TIMES"

# service.judge's helpers → the stage they are; assemble and evaluate are grouped as the rules
JUDGE_STAGES = {
    "parse_message": "parse", "read_documents": "documents", "probe_media_files": "probe",
    "read_scans": "ocr", "second_look": "ocr", "with_seals": "seal", "assemble": "rules", "evaluate": "rules",
}

_totals: Counter[str] = Counter()
_enabled = bool(os.environ.get(ENV))
_NOTHING = nullcontext()


def enabled() -> bool:
    return _enabled


def stage(name: str):
    """A context manager adding its wall time to `name`; a shared no-op when timing is off."""
    return _timed(name) if _enabled else _NOTHING


@contextmanager
def _timed(name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        _totals[name] += time.perf_counter() - started


def add(totals: dict[str, float]) -> None:
    """Fold in the totals another process measured (a judging worker's)."""
    _totals.update(totals)


def taken() -> dict[str, float]:
    """The totals so far, and start again from zero (a worker hands them over per message)."""
    totals = dict(_totals)
    _totals.clear()
    return totals


def time_the_judge() -> None:
    """Wrap service.judge's helpers so that their time is counted; once per process, only when on."""
    if not _enabled:
        return
    import service.judge as judge_module

    for attribute, name in JUDGE_STAGES.items():
        original = getattr(judge_module, attribute)
        if not getattr(original, "_stage_timed", False):
            setattr(judge_module, attribute, _timing(original, name))


def _timing(function, name: str):
    @functools.wraps(function)
    def timed(*args, **kwargs):
        with _timed(name):
            return function(*args, **kwargs)

    timed._stage_timed = True
    return timed


def write() -> None:
    """Add this process's totals to the file named by INTAKE_STAGE_TIMES."""
    if not _enabled:
        return
    path = Path(os.environ[ENV])
    before = json.loads(path.read_text()) if path.exists() else {}
    merged = Counter(before)
    merged.update(taken())
    path.write_text(json.dumps(dict(merged), indent=1))
