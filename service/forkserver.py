"""The fork server that judging workers come from under `intake run`, tied to the service's life
(and the sandboxes of any judging a threaded process does itself: core/children.py).

Python's fork server is started fresh (not forked) by the service, imports the judging code
once, and forks a worker whenever the service asks for one (service/judging.py says why the
service itself must not fork). Left to itself it outlives a killed service: it ends when every
holder of its "alive" pipe has closed it, and each worker holds a copy. So it is tied to the
service the way the workers are tied to it, with PR_SET_PDEATHSIG: this module is among the
modules the server imports as it starts, and there (and only there: its parent is the pid the
service wrote into INTAKE_FORK_SERVER_PARENT) it asks the kernel for SIGKILL when the service
ends. The service dies, the server is killed, the workers and their sandboxes with it.

PR_SET_PDEATHSIG fires when the parent *thread* ends, so the server is started from the
service's main thread, before the scheduler's threads exist (cli/service.py `run`).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import multiprocessing.util
import os
import tempfile

from core import children
from core.children import die_with_parent

PARENT_VARIABLE = "INTAKE_FORK_SERVER_PARENT"
SOCKET_FOLDER_MAX = 60  # + "/pymp-xxxxxxxx/listener-xxxxxxxx" stays under the 107 bytes of a socket path
PRELOAD = ["service.forkserver", "service.judge", "service.stagetimes", "storage.blobs"]


def context() -> multiprocessing.context.BaseContext:
    """The fork server's context, the server configured (it starts on first use if `start` was not called)."""
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(PRELOAD)
    os.environ[PARENT_VARIABLE] = str(os.getpid())
    _socket_folder_short_enough()
    return forkserver


def start() -> None:
    """Start the fork server now, from the calling (main) thread."""
    context()
    multiprocessing.forkserver.ensure_running()


def _socket_folder_short_enough() -> None:
    """The fork server listens on a Unix socket in multiprocessing's temporary folder, and a socket's
    path may not pass 107 bytes: under a deep data folder (service/scratch.py) that folder is
    chosen in /tmp instead. It holds the socket alone, never a nominee's material."""
    if len(tempfile.gettempdir()) <= SOCKET_FOLDER_MAX:
        return
    saved, tempfile.tempdir = tempfile.tempdir, "/tmp"
    try:
        multiprocessing.util.get_temp_dir()  # chosen once per process, and kept
    finally:
        tempfile.tempdir = saved


def _in_the_fork_server() -> bool:
    return os.environ.get(PARENT_VARIABLE) == str(os.getppid())


if _in_the_fork_server():
    # what a worker or sandbox forked from here inherits, to end at once where the server was gone
    # before it could ask to die with it (service/judging.py, core/children.py)
    children.FORK_SERVER_PID = os.getpid()
    die_with_parent(int(os.environ[PARENT_VARIABLE]))
