"""Work in a child process under a time and memory limit: a hostile file costs a finding, not the process.

Both ways of starting the child (forked, and a fresh interpreter) keep the same promises, and a
caller with threads gets its child from the fork server.
"""

import os
import tempfile
import threading
import time

import pytest

from core.children import ChildCrashed, LimitExceeded, alive, one_child, run, run_each

MB = 1_000_000
MODES = [pytest.param(False, id="forked"), pytest.param(True, id="fresh")]


@pytest.fixture
def another_thread():
    """The caller is threaded, as the running service (scheduler, IDLE, web console) is."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()

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


def _leave_a_file() -> str:
    with open(os.path.join(tempfile.gettempdir(), "left-behind.ses"), "w") as handle:
        handle.write("x")
    return tempfile.gettempdir()


@pytest.mark.parametrize("fresh", MODES)
def test_result_comes_back(fresh):
    assert run(_add, 2, 3, seconds=30, memory_bytes=2000 * MB, fresh=fresh) == 5


def test_large_result_comes_back_whole():
    data = run(bytes, 30 * MB, seconds=10, memory_bytes=500 * MB)
    assert len(data) == 30 * MB


def test_a_large_argument_reaches_a_fresh_child():
    """Arguments over the pipe's 64 KB would block the start of a child that dies early."""
    assert run(len, b"x" * (5 * MB), seconds=30, memory_bytes=2000 * MB, fresh=True) == 5 * MB


@pytest.mark.parametrize("fresh", MODES)
def test_time_limit_kills_the_child_quickly(fresh):
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as caught:
        run(_sleep_forever, seconds=0.5 if not fresh else 5, memory_bytes=2000 * MB, fresh=fresh)
    assert caught.value.kind == "timeout"
    assert time.monotonic() - started < (3 if not fresh else 8)


def test_a_forked_child_has_its_limit_on_top_of_what_it_inherits():
    """A parent that maps a lot (a long test run, a service with big caches) still gives its
    children their room: the limit bounds what the work adds."""
    ballast = bytearray(800 * MB)  # noqa: F841 - held while the child runs
    assert run(bytes, 100 * MB, seconds=20, memory_bytes=300 * MB) == bytes(100 * MB)


def test_memory_limit_stops_a_runaway_allocation():
    with pytest.raises(LimitExceeded) as caught:
        run(_eat_memory, seconds=20, memory_bytes=600 * MB)
    assert caught.value.kind == "memory"


@pytest.mark.parametrize("fresh", MODES)
def test_the_childs_exception_is_raised_in_the_parent(fresh):
    with pytest.raises(ValueError, match="bad input"):
        run(_refuse, seconds=30, memory_bytes=2000 * MB, fresh=fresh)


@pytest.mark.parametrize("fresh", MODES)
def test_a_child_that_dies_is_reported(fresh):
    with pytest.raises(ChildCrashed):
        run(_die, seconds=30, memory_bytes=2000 * MB, fresh=fresh)


def test_a_fresh_childs_temporary_files_go_with_it():
    scratch = run(_leave_a_file, seconds=30, memory_bytes=2000 * MB, fresh=True)
    assert scratch != tempfile.gettempdir()
    assert not os.path.exists(scratch)


def test_a_helper_whose_owner_is_gone_before_it_is_tied_to_it_ends_at_once():
    """A warm OCR process still starting when its worker was killed: its parent is no longer the pid
    that started it, and it must not go on loading models for nobody."""
    import subprocess
    import sys

    started_by = 1  # as a reparented orphan sees it: not the pid that started it
    done = subprocess.run([sys.executable, "-c", f"from core.children import die_with_parent; "
                           f"die_with_parent({started_by}); print('went on')"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "went on" not in done.stdout


def test_a_sandbox_whose_caller_is_gone_before_it_is_tied_to_it_ends_at_once():
    """Forked as its judging worker was killed: left running, it read the document for nobody and
    blocked for ever writing an answer larger than the pipe holds (it holds the reading end too)."""
    import subprocess
    import sys

    def child_with_caller(caller: str) -> subprocess.CompletedProcess:
        code = ("import multiprocessing, os; from core.children import _child; "
                "_, sender = multiprocessing.Pipe(duplex=False); "
                f"_child(sender, (print, [('went on',)]), 2**30, None, True, caller={caller})")
        # unbuffered: the child ends with os._exit, which flushes nothing
        return subprocess.run([sys.executable, "-u", "-c", code], capture_output=True, text=True, timeout=60)

    assert "went on" in child_with_caller("os.getppid()").stdout  # its caller there: it works
    gone = child_with_caller("-1")  # not the pid that forked it, whatever this machine's pids are
    assert gone.returncode == 1 and "went on" not in gone.stdout


def test_a_caller_with_threads_never_forks_itself(another_thread):
    """A fork copies whatever locks the other threads hold at that instant, and the child could wait
    on one for ever: the child comes from the single-threaded fork server instead."""
    assert run(os.getppid, seconds=30, memory_bytes=2000 * MB) != os.getpid()
    assert run(_add, 2, 3, seconds=30, memory_bytes=2000 * MB) == 5


def test_a_threaded_callers_child_keeps_its_limits(another_thread):
    with pytest.raises(LimitExceeded) as slow:
        run(_sleep_forever, seconds=2, memory_bytes=2000 * MB)
    with pytest.raises(LimitExceeded) as greedy:
        run(_eat_memory, seconds=20, memory_bytes=600 * MB)
    assert (slow.value.kind, greedy.value.kind) == ("timeout", "memory")
    with pytest.raises(ValueError, match="bad input"):
        run(_refuse, seconds=30, memory_bytes=2000 * MB)


def _call(func, *args):
    return func(*args)


def _kinds(outcomes) -> list:
    return [o.value if o.error is None else (type(o.error).__name__, getattr(o.error, "kind", "")) for o in outcomes]


def test_several_pieces_of_work_go_to_one_child():
    """A message's documents: one fork, not one each."""
    pids = run_each(os.getpid, [(), (), ()], seconds=30, memory_bytes=2000 * MB)
    assert len({o.value for o in pids}) == 1 and pids[0].value != os.getpid()


def test_a_piece_that_exhausts_its_limits_fails_alone_and_the_rest_go_on():
    work = [(_add, 1, 2), (_sleep_forever,), (_add, 3, 4), (_eat_memory,), (_die,), (_refuse,), (_add, 5, 6)]
    outcomes = run_each(_call, work, seconds=2, memory_bytes=600 * MB)
    assert _kinds(outcomes) == [3, ("LimitExceeded", "timeout"), 7, ("LimitExceeded", "memory"),
                                ("ChildCrashed", ""), ("ValueError", ""), 11]


def test_each_piece_has_its_own_time():
    """Three pieces of 0.8 s under a limit of 1.5 s: each within its time, though not all together."""
    outcomes = run_each(_call, [(time.sleep, 0.8)] * 3, seconds=1.5, memory_bytes=2000 * MB)
    assert [o.error for o in outcomes] == [None, None, None]


# ---------------------------------------------------------------- one child for a message's stages

_HOARD: list = []


def _hold(megabytes: int) -> int:
    """Leaves memory mapped in the child, as a reader's leftovers would (glibc keeps what it freed)."""
    _HOARD.append(bytearray(megabytes * MB))
    return os.getpid()


def _take(megabytes: int) -> int:
    block = bytearray(megabytes * MB)
    return os.getpid() + 0 * len(block)


def _where_and_size(data: bytes) -> tuple[int, int, int]:
    """The child's pid, where the bytes it was given sit in it, and their length."""
    return os.getpid(), id(data), len(data)


def _keeps_a_child_itself() -> tuple[int, bool]:
    """Whether work running in the kept child would give its own work to the caller's kept child."""
    import core.children

    return os.getpid(), core.children._SHARED is not None


def test_inside_one_child_every_call_goes_to_the_same_child_and_it_ends_with_the_block():
    """A message's documents, photos and seal material: one fork, where each stage forked its own."""
    with one_child(2000 * MB):
        pids = [run(os.getpid, seconds=30, memory_bytes=2000 * MB),
                *(o.value for o in run_each(os.getpid, [(), ()], seconds=30, memory_bytes=2000 * MB)),
                run(os.getpid, seconds=30, memory_bytes=2000 * MB)]
        elsewhere = run(os.getpid, seconds=30, memory_bytes=1000 * MB)  # other limits: a child of its own
    assert len(set(pids)) == 1 and pids[0] != os.getpid()
    assert elsewhere not in (pids[0], os.getpid())
    assert not alive(pids[0])  # gone with the block, not left for the next message
    assert run(os.getpid, seconds=30, memory_bytes=2000 * MB) != pids[0]


def test_inside_one_child_a_piece_that_exhausts_its_limits_fails_alone_and_the_rest_go_on():
    work = [(_add, 1, 2), (_sleep_forever,), (_add, 3, 4), (_eat_memory,), (_die,), (_refuse,), (_add, 5, 6)]
    with one_child(600 * MB):
        outcomes = run_each(_call, work, seconds=2, memory_bytes=600 * MB)
        after = run(_add, 7, 8, seconds=2, memory_bytes=600 * MB)
    assert _kinds(outcomes) == [3, ("LimitExceeded", "timeout"), 7, ("LimitExceeded", "memory"),
                                ("ChildCrashed", ""), ("ValueError", ""), 11]
    assert after == 15


def test_inside_one_child_each_piece_has_its_own_memory_on_top_of_what_came_before():
    """What an earlier piece left mapped does not count against the next one's limit."""
    with one_child(300 * MB):
        first = run(_hold, 250, seconds=30, memory_bytes=300 * MB)
        second = run(_take, 250, seconds=30, memory_bytes=300 * MB)
        with pytest.raises(LimitExceeded):  # nor is a piece given more than its own, though the child has room
            run(_take, 400, seconds=30, memory_bytes=300 * MB)
    assert second == first


def test_inside_one_child_a_piece_the_leftovers_leave_no_room_for_is_read_again_in_a_child_of_its_own():
    """The kept child's address space has a ceiling (KEPT_CHILD_PIECES pieces' limits): a piece that
    meets it fails only where it would fail alone, and its new child takes the rest."""
    with one_child(300 * MB):
        held = {run(_hold, 250, seconds=30, memory_bytes=300 * MB) for _ in range(3)}
        fourth = run(_take, 250, seconds=30, memory_bytes=300 * MB)
        fifth = run(os.getpid, seconds=30, memory_bytes=300 * MB)
    assert len(held) == 1 and fourth not in held and fifth == fourth


def test_inside_one_child_work_that_does_not_pickle_runs_in_a_fork_of_its_own():
    with one_child(300 * MB):
        unpickled = run(lambda: os.getpid(), seconds=30, memory_bytes=300 * MB)
        kept, inherited = run(_keeps_a_child_itself, seconds=30, memory_bytes=300 * MB)
        forked, inherited_too = run(lambda: _keeps_a_child_itself(), seconds=30, memory_bytes=300 * MB)
    assert unpickled not in (os.getpid(), kept) and forked not in (os.getpid(), kept)
    # the caller's kept child, inherited by the fork, is not the child's to use
    assert not inherited and not inherited_too


def test_inside_one_child_a_child_killed_between_pieces_is_replaced():
    with one_child(300 * MB):
        first = run(os.getpid, seconds=30, memory_bytes=300 * MB)
        os.kill(first, 9)
        os.waitid(os.P_PID, first, os.WEXITED | os.WNOWAIT)
        second, _, size = run(_where_and_size, b"x" * (4 * MB), seconds=30, memory_bytes=300 * MB)  # more than a pipe holds
    assert second != first and size == 4 * MB


def test_inside_one_child_a_threaded_caller_still_never_forks_itself(another_thread):
    with one_child(2000 * MB):
        first, second = (run(os.getppid, seconds=60, memory_bytes=2000 * MB) for _ in range(2))
    assert os.getpid() not in (first, second)


def test_inside_one_child_a_messages_bytes_are_read_where_the_child_inherited_them():
    """A message's attachments are in the caller before the kept child forks: the child reads the
    very bytes it inherited. Sent pickled, each piece's megabytes were copied twice more, into
    pages new to both processes, at a page fault each 4 KB (about 4 ms of a 90 ms nomination)."""
    attachment = b"x" * (20 * MB)
    with one_child(300 * MB, [attachment]):
        pid, where, size = run(_where_and_size, attachment, seconds=60, memory_bytes=300 * MB)
        os.kill(pid, 9)  # its replacement, forked from the caller again, inherits them too
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        again, where_again, size_again = run(_where_and_size, attachment, seconds=60, memory_bytes=300 * MB)
    assert again != pid and pid != os.getpid()
    assert where == where_again == id(attachment) and size == size_again == 20 * MB


def test_inside_one_child_bytes_not_named_as_inherited_still_reach_the_child_whole():
    """Only the very objects named go by reference: equal bytes made later, and small ones, by value."""
    attachment, small = b"y" * MB, b"z" * 100
    with one_child(300 * MB, [attachment, small]):
        later = bytes(bytearray(attachment))
        _, where_later, size_later = run(_where_and_size, later, seconds=30, memory_bytes=300 * MB)
        _, where_small, size_small = run(_where_and_size, small, seconds=30, memory_bytes=300 * MB)
    assert where_later not in (id(later), id(attachment)) and size_later == MB
    assert where_small != id(small) and size_small == 100


_MMAPPED_BLOCKS_AFTER = """
import ctypes, sys
from core.children import large_blocks_apart

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
if sys.argv[1] == "apart":
    large_blocks_apart(1 << 20)
big = bytearray(20 << 20)
del big  # glibc's own threshold climbs to 20 MB here (to at most 32 MB)
before = libc.mallinfo2().hblks
message = bytearray(3 << 20)
print(libc.mallinfo2().hblks - before)
"""


def test_a_message_sized_block_gets_pages_of_its_own_after_a_larger_one_was_freed():
    """The running service (`intake run`) sets this: each message's megabytes are returned when
    freed, not kept in the heap at its high-water mark."""
    import subprocess
    import sys

    def own_pages(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", _MMAPPED_BLOCKS_AFTER, mode], capture_output=True, text=True,
                              check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        return int(done.stdout)

    assert own_pages("apart") == 1
    assert own_pages("as glibc does") == 0
