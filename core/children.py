"""Run one piece of work in a child process under a time and memory limit.

A hostile or broken attachment (a PDF that loops, an archive that explodes, an image that
claims gigapixels) must cost one finding, never the service. Two ways to start the child:

- forked (the default): it starts in milliseconds with every module already imported. Only
  safe from a process with one thread: a fork copies whatever locks other threads hold at
  that instant, and a child could wait on one for ever. So where the caller has threads (the
  running service's filing, the web console's corrections), the child is forked from Python's
  fork server instead, a single-threaded process started fresh that has the judging code
  imported (service/forkserver.py ties it to the service's life): tens of milliseconds, not a
  second.
- fresh (`fresh=True`): a spawned interpreter, about a second of imports. Needed where a
  library's threads do not survive a fork (ONNX Runtime for OCR), where the parent's native
  state may be what crashed a forked child, and from threaded processes. It gets a temporary
  folder of its own as TMPDIR, removed when it ends (libraries leave files there and a killed
  child cleans up nothing); its arguments travel through a file in that folder, not the
  start-up pipe, because a child that dies before reading a pipe of more than 64 KB would
  leave `Process.start()` blocked for ever, before any time limit applies.

The child's address space is capped with RLIMIT_AS: a fresh child at the limit given, a forked
one at what it inherited plus the limit (a forked child starts with all its parent maps, and
a long-running or well-fed parent must not leave its children no room); it is killed when its
time is up.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import pickle
import tempfile
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

PR_SET_PDEATHSIG = 1  # prctl(2)
# set in the fork server alone (service/forkserver.py): what the processes forked from it have as
# their parent, inherited by them, so that one forked as the server ended can tell and end too
FORK_SERVER_PID: int | None = None
# the child that forked work goes to inside `one_child` (None: a child for each call)
_SHARED: "_KeptChild | None" = None
# the pieces' limits a kept child's address space may reach together (each has its own on top of
# what the child maps as it starts it): glibc keeps what a piece freed, and a photo batch's threads
# leave arenas mapped
KEPT_CHILD_PIECES = 3
# bytes the caller names as there before the kept child forks (a message's attachments) go to it as
# their id from this size on: pickled, each piece's megabytes were copied twice more, into pages
# fresh to both processes (a page fault each 4 KB)
INHERITED_MIN_BYTES = 64 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


class ChildFailed(Exception):
    """The child gave no result: it ran out of time or memory, or died."""


class LimitExceeded(ChildFailed):
    """The work needed more time or memory than allowed. `kind` is "timeout" or "memory"."""

    def __init__(self, kind: str, limit: float):
        super().__init__(f"{kind} limit {limit:g} exceeded")
        self.kind = kind
        self.limit = limit


class ChildCrashed(ChildFailed):
    """The child died without an answer (a segfault in a C library, a kill from outside), or
    raised something that cannot be handed back; the text holds its traceback where there was one."""


@dataclass(frozen=True)
class _Failure:
    exception: BaseException | None
    text: str


@dataclass(frozen=True)
class Outcome:
    """One piece of work's result, or what stopped it (its exception, LimitExceeded, ChildCrashed)."""

    value: Any = None
    error: BaseException | None = None

    def get(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


def run(func: Callable, *args: Any, seconds: float, memory_bytes: int, fresh: bool = False) -> Any:
    """`func(*args)` in a child; its result, or the exception it raised, re-raised here.

    Raises LimitExceeded when the child runs out of time or memory, ChildCrashed when it dies
    without answering. `func`, its arguments and its result must pickle; with `fresh`, `func`
    must also be importable by name.
    """
    return _in_one_child(func, [args], seconds, memory_bytes, fresh)[0].get()


def run_each(func: Callable, work: list[tuple], *, seconds: float, memory_bytes: int) -> list[Outcome]:
    """`func(*args)` for each `args` of `work`, one after the other in one child while they go well
    (a message's documents: one fork, not one each), each under its own limits: the child that
    runs out of time or memory, or dies, on one piece is ended, that piece fails as it would
    alone, and the rest go on in a new child. One Outcome per piece, in order."""
    outcomes: list[Outcome] = []
    while len(outcomes) < len(work):
        outcomes += _in_one_child(func, work[len(outcomes):], seconds, memory_bytes, fresh=False)
    return outcomes


def _in_one_child(func: Callable, work: list[tuple], seconds: float, memory_bytes: int,
                  fresh: bool) -> list[Outcome]:
    """The outcomes of a child that takes `work` in order, up to and including the first that ends it."""
    if fresh or threading.active_count() > 1:
        with tempfile.TemporaryDirectory(prefix="intake-child-") as scratch:
            return _run("spawn" if fresh else "forkserver", func, work, seconds, memory_bytes, scratch)
    if _SHARED is not None and _SHARED.memory_bytes == memory_bytes:
        return _SHARED.run(func, work, seconds)
    return _run("fork", func, work, seconds, memory_bytes, None)


@contextlib.contextmanager
def one_child(memory_bytes: int, inherited: Iterable[bytes] = ()) -> Iterator[None]:
    """Inside the block, the forked work under `memory_bytes` goes to one child that stays (see
    `_KeptChild`): a message's documents, photos and seal material, one fork where there were three.

    A fork costs its caller and the child page faults on the memory they share (about 20 ms of
    CPU a fork on a judging worker, two thirds of it in the kernel): a third of the work beyond
    reading on a typical nomination. Work given in a threaded caller, spawned, or under other
    limits starts its own child, as outside the block (a caller threaded as it enters installs none:
    the block's child is one thread's).

    `inherited`: bytes the caller holds before the block (a message's attachments). The child has
    them from the fork, so a piece's arguments name them instead of carrying a copy."""
    global _SHARED
    if threading.active_count() > 1:
        yield
        return
    kept, outer = _KeptChild(memory_bytes, inherited), _SHARED
    _SHARED = kept
    try:
        yield
    finally:
        _SHARED = outer
        kept.close()


class _KeptChild:
    """A forked child that takes pieces of work one after another, as they come (each sent to it
    pickled, the bytes it inherited named by id), each under its own time limit; forked on the first
    piece, from the caller's one thread.

    A child that runs out of time or memory, or dies, is ended with the piece it was on, and the
    next piece goes to a new one. Each piece has its own memory limit on top of what the child maps
    as it starts it, under a ceiling for them all (`_keep_taking`), so a piece that ran out of
    memory, or crashed, in a child that had done other work first is tried once more in a new
    child of its own: it fails only where it would fail alone."""

    def __init__(self, memory_bytes: int, inherited: Iterable[bytes] = ()):
        self.memory_bytes = memory_bytes
        # held here until the block ends, so that each id stays the object's
        self._inherited = {id(data): data for data in inherited
                           if type(data) is bytes and len(data) >= INHERITED_MIN_BYTES}
        self._process: Any = None
        self._connection: Any = None
        self._taken = 0  # pieces the present child has taken

    def run(self, func: Callable, work: list[tuple], seconds: float) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for args in work:
            try:
                request = _pickled((func, args), self._inherited)
            except Exception:  # noqa: BLE001 - work that does not pickle goes to a fork of its own, as outside the block
                return outcomes + _run("fork", func, work[len(outcomes):], seconds, self.memory_bytes, None)
            outcomes.append(self._one(request, seconds))
            if isinstance(outcomes[-1].error, ChildFailed):
                break
        return outcomes

    def close(self) -> None:
        """The child reads the end of its pipe and ends by itself; one that does not in a few seconds is killed."""
        if self._process is not None:
            self._stop(wait=5)

    def _one(self, request: bytes, seconds: float) -> Outcome:
        outcome = self._ask(request, seconds)
        after_other_work = self._taken > 1
        if after_other_work and _worth_alone(outcome.error):
            outcome = self._ask(request, seconds)
        return outcome

    def _ask(self, request: bytes, seconds: float) -> Outcome:
        if self._process is None:
            self._start()
        try:
            self._connection.send_bytes(request)
        except OSError:  # the child ended between two pieces (killed from outside): a new one takes it
            self._stop()
            self._start()
            try:
                self._connection.send_bytes(request)
            except OSError as error:
                self._stop()
                return Outcome(error=ChildCrashed(f"the child took no work: {error}"))
        self._taken += 1
        try:
            outcome = _next_outcome(self._connection, self._process, seconds, self.memory_bytes)
        except OSError as error:  # it died half way through its answer
            outcome = Outcome(error=ChildCrashed(f"the answer broke off: {error}"))
        if isinstance(outcome.error, ChildFailed):
            self._stop()
        return outcome

    def _start(self) -> None:
        context = multiprocessing.get_context("fork")
        mine, its = context.Pipe(duplex=True)
        process = context.Process(target=_keep_taking, args=(its, mine, self.memory_bytes, os.getpid(), self._inherited),
                                  daemon=True)
        process.start()
        its.close()
        self._process, self._connection, self._taken = process, mine, 0

    def _stop(self, wait: float = 0) -> None:
        self._connection.close()
        if wait:
            self._process.join(wait)
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._process = self._connection = None


def _worth_alone(error: BaseException | None) -> bool:
    return isinstance(error, ChildCrashed) or (isinstance(error, LimitExceeded) and error.kind == "memory")


def _keep_taking(connection, callers_end, memory_bytes: int, caller: int, inherited: dict[int, bytes]) -> None:
    """The kept child: piece after piece until the caller closes the pipe, or one runs out of memory.

    Each piece may map `memory_bytes` on top of what the child maps as it starts it, as in a child
    of its own; all of them together no more than KEPT_CHILD_PIECES times that."""
    global _SHARED
    import resource

    die_with_parent(caller)
    callers_end.close()  # inherited with the fork: held open here, the caller's closing would never reach us
    _SHARED = None  # the caller's, inherited: work this child gives out goes to children of its own
    try:
        ceiling = _mapped() + KEPT_CHILD_PIECES * memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        while _took_one(connection, memory_bytes, ceiling, inherited):
            give_back_memory()  # what a piece freed is not held while the caller waits (on OCR)
        connection.close()
    except MemoryError:
        _send(connection, pickle.dumps(("memory", None)))
    finally:
        os._exit(0)  # a forked child skips the atexit handlers and buffers it inherited


def _took_one(connection, memory_bytes: int, ceiling: int, inherited: dict[int, bytes]) -> bool:
    """Whether the child goes on after this piece (not after running out of memory, nor without a caller)."""
    import resource

    try:
        request = connection.recv_bytes()
    except (EOFError, OSError):
        return False
    try:
        func, args = _unpickled(request, inherited)
    except MemoryError:
        _send(connection, pickle.dumps(("memory", None)))
        return False
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        return _send(connection, _failure(exc))
    del request
    room = min(_mapped() + memory_bytes, ceiling)
    resource.setrlimit(resource.RLIMIT_AS, (room, ceiling))
    status, payload = _done(func, args)
    return _send(connection, payload) and status != "memory"


class _ByReference(pickle.Pickler):
    """Pickles the bytes the kept child inherited as their id: the child has them already."""

    def __init__(self, file, inherited: dict[int, bytes]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._inherited = inherited

    def persistent_id(self, obj: Any) -> int | None:
        if type(obj) is bytes and self._inherited.get(id(obj)) is obj:
            return id(obj)
        return None


class _Inheriting(pickle.Unpickler):
    def __init__(self, file, inherited: dict[int, bytes]):
        super().__init__(file)
        self._inherited = inherited

    def persistent_load(self, pid: Any) -> bytes:
        return self._inherited[pid]


def _pickled(work: Any, inherited: dict[int, bytes]) -> bytes:
    if not inherited:
        return pickle.dumps(work, protocol=pickle.HIGHEST_PROTOCOL)
    buffer = io.BytesIO()
    _ByReference(buffer, inherited).dump(work)
    return buffer.getvalue()


def _unpickled(request: bytes, inherited: dict[int, bytes]) -> Any:
    return _Inheriting(io.BytesIO(request), inherited).load()


def give_back_memory() -> None:
    """Hand the memory freed so far back to the system (glibc's malloc_trim): glibc keeps freed heap
    for reuse, and a long-lived process (a kept child, the warm OCR process) would hold its peak."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc: its allocator keeps it
        ctypes.CDLL(None).malloc_trim(0)


def large_blocks_apart(threshold: int) -> None:
    """From now on, glibc gives allocations of `threshold` bytes and more pages of their own,
    returned when freed (mallopt M_MMAP_THRESHOLD). Its own threshold climbs to the size of a large
    block freed (up to 32 MB), and from then on a process that handles megabytes at a time keeps
    them in its heaps after use."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc: its own allocator, as it is
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, threshold)


def _run(method: str, func: Callable, work: list[tuple], seconds: float, memory_bytes: int,
         scratch: str | None) -> list[Outcome]:
    context = multiprocessing.get_context(method)
    given: Any = (func, work)
    if scratch is not None:
        given = os.path.join(scratch, "arguments.pickle")
        with open(given, "wb") as handle:
            pickle.dump((func, work), handle, protocol=pickle.HIGHEST_PROTOCOL)
    receiver, sender = context.Pipe(duplex=False)
    # the child's parent: the caller where it forks or spawns it; the fork server's child has the server
    # (FORK_SERVER_PID, which that child inherits)
    caller = os.getpid() if method != "forkserver" else None
    process = context.Process(target=_child, args=(sender, given, memory_bytes, scratch, method != "spawn", caller),
                              daemon=True)
    process.start()
    sender.close()
    outcomes: list[Outcome] = []
    try:
        while len(outcomes) < len(work):
            outcomes.append(_next_outcome(receiver, process, seconds, memory_bytes))
            if outcomes[-1].error is not None and isinstance(outcomes[-1].error, ChildFailed):
                break
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    return outcomes


def _next_outcome(receiver, process, seconds: float, memory_bytes: int) -> Outcome:
    """The next piece's outcome, waited for at most `seconds` (each piece has its own time)."""
    if not receiver.poll(seconds):
        return Outcome(error=LimitExceeded("timeout", seconds))
    try:
        status, value = pickle.loads(receiver.recv_bytes())
    except EOFError:
        process.join(1)  # its exit code, where it has one
        return Outcome(error=ChildCrashed(f"exit code {process.exitcode}"))
    if status == "ok":
        return Outcome(value)
    if status == "memory":
        return Outcome(error=LimitExceeded("memory", memory_bytes))
    return Outcome(error=value.exception if value.exception is not None else ChildCrashed(value.text))


def _child(sender, given: Any, memory_bytes: int, scratch: str | None, inherits_maps: bool,
           caller: int | None = None) -> None:
    """`inherits_maps`: forked (from the caller or the fork server), the child starts with its
    parent's mappings, which count against RLIMIT_AS; a spawned one starts empty."""
    import resource

    global _SHARED
    _SHARED = None  # a forked child inherits the caller's kept child: work it gives out gets children of its own
    # a child whose caller was killed has no one to give its answer to; one whose caller was gone
    # before this line would go on reading for nobody, past its time limit (the caller keeps it), and
    # a forked one would block for ever on an answer larger than the pipe holds (it inherited the
    # pipe's reading end too, so the write never fails)
    die_with_parent(caller if caller is not None else FORK_SERVER_PID)
    if scratch is not None:
        os.environ.update(TMPDIR=scratch, TEMP=scratch, TMP=scratch)
        tempfile.tempdir = scratch
    try:
        room = _mapped() + memory_bytes if inherits_maps else memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (room, room))
        if scratch is not None:
            with open(given, "rb") as handle:
                given = pickle.load(handle)
        func, work = given
    except MemoryError:
        _send(sender, pickle.dumps(("memory", None)))
        work = []
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        _send(sender, _failure(exc))
        work = []
    for args in work:
        status, payload = _done(func, args)
        if not _send(sender, payload) or status == "memory":
            break  # out of memory: what the child holds now is not to be trusted with the next piece
    sender.close()
    if scratch is None:
        os._exit(0)  # a forked child skips the atexit handlers and buffers it inherited


def _done(func: Callable, args: tuple) -> tuple[str, bytes]:
    try:
        return "ok", pickle.dumps(("ok", func(*args)), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        return "memory", pickle.dumps(("memory", None))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        return "error", _failure(exc)


def _send(sender, payload: bytes) -> bool:
    """Hand one outcome over; False where sending it ran out of memory (the parent is told so)."""
    try:
        sender.send_bytes(payload)
    except MemoryError:
        sender.send_bytes(pickle.dumps(("memory", None)))
        return False
    return True


def _mapped() -> int:
    """The address space this process maps now (VmSize), in bytes; 0 where /proc cannot tell."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    except (OSError, StopIteration, ValueError):
        return 0


def _failure(exc: BaseException) -> bytes:
    try:
        return pickle.dumps(("error", _Failure(exc, traceback.format_exc())))
    except Exception:  # noqa: BLE001 - the exception itself would not pickle
        return pickle.dumps(("error", _Failure(None, traceback.format_exc())))


def alive(pid: int) -> bool:
    """Whether a process is there and not a zombie (one killed and not yet reaped by its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it is there, under another user
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc to ask: os.kill's answer stands


def die_with_parent(parent: int | None = None) -> None:
    """Have the kernel SIGKILL this process when its parent ends (Linux's PR_SET_PDEATHSIG), so a
    long-lived helper (a judging worker, the fork server, a warm OCR process) never outlives
    its owner. `parent`: the pid that started it, where the starter passed it: a parent that ended
    before this call (a helper still starting when its owner was killed) is noticed too, and this
    process ends at once."""
    import ctypes
    import signal

    expected = parent if parent is not None else os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != expected:  # it ended before the line above took effect
        os._exit(1)
