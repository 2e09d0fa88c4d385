"""Run a reader in a fresh interpreter (spawned, not forked) under a time and address-space limit.

ingest/sandbox.py forks: cheap, every module already loaded. Two readers need a clean process
instead: OCR, because the ONNX runtime's threads do not survive a fork (a process that ran
it once hands a broken runtime to every forked child); and the seal detector when a forked
child crashed, since a native library's state inherited from the parent may be what crashed
it. A spawned child costs about a second of imports.

The child gets a temporary folder of its own as TMPDIR, removed when it ends: libraries
leave files there (ONNX Runtime its telemetry session file `.ses`) and a child that is
killed cleans up nothing. The arguments (a scan of megabytes) travel through a file in that
folder, not the start-up pipe: a child that dies before it has read a pipe of more than
64 KB would leave `Process.start()` blocked for ever, before any time limit applies.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
from typing import Any, Callable


class SpawnedFailure(Exception):
    """The spawned child raised, ran out of time, or died; the message says which."""


def run_spawned(func: Callable, args: tuple, *, seconds: float, memory_bytes: int) -> Any:
    """`func(*args)` in a fresh interpreter; its result, or SpawnedFailure. `func` must be importable."""
    with tempfile.TemporaryDirectory(prefix="intake-child-") as scratch:
        return _run(func, args, seconds, memory_bytes, scratch)


def _run(func: Callable, args: tuple, seconds: float, memory_bytes: int, scratch: str) -> Any:
    arguments = os.path.join(scratch, "arguments.pickle")
    with open(arguments, "wb") as handle:
        pickle.dump((func, args), handle, protocol=pickle.HIGHEST_PROTOCOL)
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, arguments, memory_bytes, scratch), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise SpawnedFailure(f"took longer than {seconds:g} s")
        try:
            status, value = receiver.recv()
        except EOFError:
            raise SpawnedFailure(f"the child died (exit code {process.exitcode})") from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if status != "ok":
        raise SpawnedFailure(value)
    return value


def _child(sender, arguments: str, memory_bytes: int, scratch: str) -> None:
    import resource

    os.environ.update(TMPDIR=scratch, TEMP=scratch, TMP=scratch)
    tempfile.tempdir = scratch
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        with open(arguments, "rb") as handle:
            func, args = pickle.load(handle)
        sender.send(("ok", func(*args)))
    except BaseException as failure:  # noqa: BLE001 - reported to the parent as text
        sender.send(("error", f"{type(failure).__name__}: {failure}"[:500]))
    finally:
        sender.close()
