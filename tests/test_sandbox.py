"""One file's parsing runs under a time and memory limit: a hostile file costs a finding, not the process."""

import os
import time

import pytest

from ingest.sandbox import ChildCrashed, LimitExceeded, run_limited

MB = 1_000_000


def _add(a, b):
    return a + b


def _sleep_forever():
    time.sleep(60)


def _eat_memory():
    hoard = []
    while True:
        hoard.append(bytearray(50 * MB))


def _refuse():
    raise ValueError("bad input")


def _die():
    os._exit(3)


def test_result_comes_back():
    assert run_limited(_add, 2, 3, seconds=5, memory_bytes=500 * MB) == 5


def test_large_result_comes_back_whole():
    data = run_limited(bytes, 30 * MB, seconds=10, memory_bytes=1000 * MB)
    assert len(data) == 30 * MB


def test_time_limit_kills_the_child_quickly():
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as caught:
        run_limited(_sleep_forever, seconds=0.5, memory_bytes=500 * MB)
    assert caught.value.kind == "timeout"
    assert time.monotonic() - started < 3


def test_memory_limit_stops_a_runaway_allocation():
    with pytest.raises(LimitExceeded) as caught:
        run_limited(_eat_memory, seconds=20, memory_bytes=600 * MB)
    assert caught.value.kind == "memory"


def test_the_childs_exception_is_raised_in_the_parent():
    with pytest.raises(ValueError, match="bad input"):
        run_limited(_refuse, seconds=5, memory_bytes=500 * MB)


def test_a_child_that_dies_is_reported():
    with pytest.raises(ChildCrashed):
        run_limited(_die, seconds=5, memory_bytes=500 * MB)
