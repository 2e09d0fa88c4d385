"""Run a command and measure its whole process tree: wall time, CPU, per-core busy, peak memory.

CPU is user+sys of the command and every descendant it waited for (os.wait4's rusage),
over wall time: 2.0 means both cores busy the whole time. Per-core busy comes from
/proc/stat deltas, so it counts the whole machine (Dovecot, and anything else running).
Peak memory: VmHWM of the command and of its largest descendant, sampled from /proc every
20 ms. Not ru_maxrss: Linux hands a process that execs the high-water mark of the process
it was forked from, so the command would be charged with this benchmark's own memory, and
every ffprobe with the service's. A forked child's figure counts the pages it still
shares with the service.

`run_until` is for a command that does not end by itself (`intake run`): it is measured from
its start until `done` says the work is over, then stopped with SIGTERM. Its CPU at that
moment is read from /proc (the service's own and that of the children it has reaped, plus any
descendant still running), since rusage only comes at the exit; the time it then takes to stop
is reported apart, not counted in the wall time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

SAMPLE_SECONDS = 0.02


@dataclass(frozen=True)
class TreeUsage:
    wall: float
    cpu: float  # user+sys seconds of the tree
    core_busy: tuple[float, ...]  # fraction of each core busy during the run (whole machine)
    main_peak_mb: float
    child_peak_mb: float
    returncode: int
    child_peak_what: str = ""  # the command line of the largest child seen (a fork shows its parent's)

    @property
    def cores_used(self) -> float:
        return self.cpu / self.wall if self.wall else 0.0


def run_measured(command: list[str], env: dict[str, str] | None = None, output: Path | None = None) -> TreeUsage:
    before = core_times()
    started = time.perf_counter()
    with open(output or os.devnull, "wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    sampler = _Sampler(process.pid)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    sampler.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return TreeUsage(wall, cpu, busy_since(before), sampler.main_peak_kb / 1024, sampler.child_peak_kb / 1024,
                     process.returncode, sampler.child_peak_what)


@dataclass(frozen=True)
class StoppedUsage(TreeUsage):
    """A long-running command's figures up to `done` (see `run_until`), and its stop."""

    stop_seconds: float = 0.0  # from SIGTERM to the exit
    cpu_to_exit: float = 0.0  # user+sys of the tree over its whole life, shutdown included (rusage)


def run_until(command: list[str], done: Callable[[float], bool], *, timeout: float, env: dict[str, str] | None = None,
              output: Path | None = None, check_seconds: float = 0.05, stop_timeout: float = 120) -> StoppedUsage:
    """Start `command`, ask `done(seconds since the start)` every `check_seconds`, and when it says
    yes take the figures and stop the command with SIGTERM (SIGKILL after `stop_timeout`). `wall`
    is from the start until `done` first said yes. TimeoutError if the command exits before, or
    `timeout` passes."""
    before = core_times()
    started = time.perf_counter()
    with open(output or os.devnull, "wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    sampler = _Sampler(process.pid)
    sampler.start()
    finished, ended = False, None
    try:
        while not (finished := done(time.perf_counter() - started)):
            if (ended := _exited(process.pid)) or time.perf_counter() - started > timeout:
                break
            time.sleep(check_seconds)
        wall = time.perf_counter() - started
        busy, cpu = busy_since(before), _tree_cpu(process.pid)
    finally:
        stopping, exited_early = time.perf_counter(), ended is not None
        if ended is None:
            process.send_signal(signal.SIGTERM)
            ended = _reap(process.pid, stop_timeout)
        stop_seconds = time.perf_counter() - stopping
        sampler.stop()
    status, usage = ended
    process.returncode = status
    if not finished:
        raise TimeoutError(f"{' '.join(command)}: " + (f"exited with {status} before it was done" if exited_early
                                                         else f"not done after {timeout:.0f} s"))
    return StoppedUsage(wall, cpu, busy, sampler.main_peak_kb / 1024, sampler.child_peak_kb / 1024, status,
                        sampler.child_peak_what, stop_seconds, usage.ru_utime + usage.ru_stime)


def _exited(pid: int):
    """(exit code, rusage) if the process has ended (and is now reaped), else None."""
    reaped, status, usage = os.wait4(pid, os.WNOHANG)
    return (os.waitstatus_to_exitcode(status), usage) if reaped else None


def _reap(pid: int, timeout: float):
    """Wait for the exit, SIGKILL after `timeout`: (exit code, rusage)."""
    deadline = time.monotonic() + timeout
    while (ended := _exited(pid)) is None:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.02)
    return ended


def _tree_cpu(root: int) -> float:
    """CPU seconds so far of `root` with the children it reaped, and of its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(_cpu_ticks(pid) for pid in (root, *_descendants(root))) / ticks


def process_stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat from the state on (after the command, which may hold spaces):
    [1] ppid, [7] minor faults, [11] utime, [12] stime, [13] cutime, [14] cstime (in clock ticks).
    Empty once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return []


def _cpu_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime: its own CPU and that of the children it waited for."""
    return sum(int(value) for value in process_stat(pid)[11:15])


def core_times() -> list[tuple[int, int]]:
    """(busy, total) jiffies of each core since boot."""
    cores = []
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3].isdigit():
            values = [int(v) for v in line.split()[1:]]
            idle = values[3] + values[4]  # idle + iowait
            cores.append((sum(values) - idle, sum(values)))
    return cores


def busy_since(before: list[tuple[int, int]]) -> tuple[float, ...]:
    after = core_times()
    return tuple((b1 - b0) / max(1, t1 - t0) for (b0, t0), (b1, t1) in zip(before, after))


class _Sampler(threading.Thread):
    """Reads VmHWM of the process and its descendants until stopped."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.main_peak_kb = 0
        self.child_peak_kb = 0
        self.child_peak_what = ""
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.join()

    def run(self) -> None:
        while not self._stopping.is_set():
            self.main_peak_kb = max(self.main_peak_kb, _high_water_kb(self.root))
            for child in _descendants(self.root):
                peak = _high_water_kb(child)
                if peak > self.child_peak_kb:
                    self.child_peak_kb, self.child_peak_what = peak, _command_of(child)
            self._stopping.wait(SAMPLE_SECONDS)


def _high_water_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
    except OSError:
        return "?"


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for folder in Path("/proc").glob("[0-9]*"):
        if folder.name.isdigit() and (fields := process_stat(int(folder.name))):
            parents[int(folder.name)] = int(fields[1])
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found
