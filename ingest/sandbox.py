"""Run one file's parsing in a child process under a time and memory limit.

A hostile or broken attachment (a PDF that loops, an archive that explodes, an image that
claims gigapixels) must cost one finding, never the service. The child is forked, so it
starts with every module already imported and costs a few milliseconds; its address space
is capped with RLIMIT_AS and it is killed when its time is up.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import resource
import traceback
from dataclasses import dataclass
from typing import Any, Callable

_FORK = multiprocessing.get_context("fork")


class LimitExceeded(Exception):
    """The work needed more time or memory than allowed. `kind` is "timeout" or "memory"."""

    def __init__(self, kind: str, limit: float):
        super().__init__(f"{kind} limit {limit} exceeded")
        self.kind = kind
        self.limit = limit


class ChildCrashed(Exception):
    """The child died without an answer (a segfault in a C library, a kill from outside)."""


@dataclass(frozen=True)
class _Failure:
    exception: BaseException | None
    text: str


def _child(conn, func: Callable, args: tuple, memory_bytes: int) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        result: Any = func(*args)
        payload = pickle.dumps(("ok", result), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        payload = pickle.dumps(("memory", None))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        try:
            payload = pickle.dumps(("error", _Failure(exc, traceback.format_exc())))
        except Exception:  # the exception itself would not pickle
            payload = pickle.dumps(("error", _Failure(None, traceback.format_exc())))
    try:
        conn.send_bytes(payload)
    except MemoryError:
        conn.send_bytes(pickle.dumps(("memory", None)))
    finally:
        conn.close()
        os._exit(0)  # skip atexit handlers and buffers inherited from the parent


def run_limited(func: Callable, *args: Any, seconds: float, memory_bytes: int) -> Any:
    """Call `func(*args)` in a forked child; return its result or re-raise its exception.

    Raises LimitExceeded when the child runs out of time or memory, ChildCrashed when it
    dies without answering. `func`, its arguments and its result must pickle.
    """
    receiver, sender = _FORK.Pipe(duplex=False)
    process = _FORK.Process(target=_child, args=(sender, func, args, memory_bytes), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise LimitExceeded("timeout", seconds)
        try:
            status, value = pickle.loads(receiver.recv_bytes())
        except EOFError:
            raise ChildCrashed(f"exit code {process.exitcode}") from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if status == "ok":
        return value
    if status == "memory":
        raise LimitExceeded("memory", memory_bytes)
    if value.exception is not None:
        raise value.exception
    raise ChildCrashed(value.text)
