"""`intake run` judges on every core without forking itself, and leaves no process behind when killed.

The running service has threads (the scheduler's, IMAP IDLE), and a fork copies whatever
locks they hold: its judging workers, and the sandboxes they fork per document, must come
from Python's fork server, never from the service. Watched here from the outside, in /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from testing.service import ARRIVED, nomination, records, write_config

MESSAGES = 8


@dataclass(frozen=True)
class Seen:
    pid: int
    ppid: int
    cmdline: str


def _process(pid: int) -> Seen | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    return Seen(pid, int(stat.rsplit(")", 1)[1].split()[1]), cmdline.strip())


def _descendants(root: int) -> list[Seen]:
    every = [seen for entry in os.listdir("/proc") if entry.isdigit() and (seen := _process(int(entry)))]
    children: dict[int, list[Seen]] = {}
    for seen in every:
        children.setdefault(seen.ppid, []).append(seen)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child.pid)
    return found


def _filed(config: Path) -> int:
    try:
        return sum(1 for message in records(config)[0] if message.state == "filed")
    except Exception:  # noqa: BLE001 - the database may not exist yet
        return 0


def _run_watching(config: Path, until) -> tuple[subprocess.Popen, dict[int, Seen]]:
    service = subprocess.Popen([sys.executable, "-m", "cli", "run", "--config", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: dict[int, Seen] = {}
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not until(seen):
        seen.update((process.pid, process) for process in _descendants(service.pid))
        time.sleep(0.02)
    return service, seen


def test_the_running_service_judges_in_workers_of_the_fork_server_never_in_a_fork_of_itself(
        tmp_path, mailbox, smtp_server):
    for n in range(MESSAGES):
        mailbox.append(nomination(n), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    service, seen = _run_watching(config, lambda seen: _filed(config) == MESSAGES)
    own = _process(service.pid).cmdline
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=60) == 0
    assert _filed(config) == MESSAGES

    servers = [p for p in seen.values() if "forkserver" in p.cmdline and p.ppid == service.pid]
    assert len(servers) == 1  # its workers and their sandboxes carry its command line too
    workers = [p for p in seen.values() if p.ppid == servers[0].pid]
    assert len(workers) >= 2  # both cores
    forks_of_the_service = [p for p in seen.values() if p.cmdline == own]
    assert forks_of_the_service == []  # neither a worker nor a document's sandbox
    sandboxes = [p for p in seen.values() if p.ppid in {w.pid for w in workers}]
    assert sandboxes  # the documents were read in children of the workers


def test_a_killed_service_leaves_no_worker_behind(tmp_path, mailbox, smtp_server):
    for n in range(MESSAGES):
        mailbox.append(nomination(n), internaldate=ARRIVED)
    config = write_config(tmp_path, mailbox, smtp_server)
    service, seen = _run_watching(config, lambda seen: any(p for p in seen.values() if "forkserver" in p.cmdline)
                                  and len(seen) >= 3)
    service.kill()
    service.wait(timeout=30)
    # a helper being started at the kill (a warm OCR process: a fresh interpreter) notices its parent
    # gone and ends once its start-up reaches our code, which on a machine under load takes seconds;
    # until then it holds multiprocessing's resource tracker open (seen once at load 7 on 2 cores)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in seen):
        time.sleep(0.1)
    left = [p for p in seen.values() if _alive(p.pid)]
    # where one is left, the message names who holds its pipes open: what it waits for
    assert seen and not left, [(p, _holders(p.pid)) for p in left]


def test_a_worker_forked_as_the_service_was_killed_ends_when_its_fork_server_is_gone_already():
    """Its fork server killed before the worker asked to die with it: left running, it took the
    work queued before the kill and blocked for ever writing a verdict nobody reads."""
    code = ("import os; from core import children; from service import judging; children.FORK_SERVER_PID = -1; "
            "judging._die_with(os.getppid()); print('went on')")  # its parent here is alive, its server not
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "went on" not in done.stdout


def test_a_killed_service_not_yet_reaped_is_gone_to_its_workers():
    from core.children import alive

    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _process_state(pid) != "Z":
            time.sleep(0.01)
        assert _process_state(pid) == "Z" and not alive(pid)
    finally:
        os.waitpid(pid, 0)


def _process_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _pipes(pid: int) -> set[str]:
    """The pipes a process holds open, as /proc names them ("pipe:[inode]")."""
    names = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return names
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("pipe:"):
            names.add(target)
    return names


def _holders(pid: int) -> list[Seen]:
    """The other processes that hold one of `pid`'s pipes open (why it waits on, for the failure's message)."""
    pipes = _pipes(pid)
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != pid and pipes & _pipes(int(entry)):
            found.append(_process(int(entry)))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
