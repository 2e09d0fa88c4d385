"""A throwaway PostgreSQL cluster for the tests, started from Debian's binaries in a tmp folder.

Under CI=true a missing PostgreSQL is a failure, not a skip: CI installs it (`./dev test`).
Elsewhere the tests that need it skip, saying why.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from testing.programs import missing


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unavailable(reason: str):
    missing(f"PostgreSQL: {reason}")


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    # initdb refuses to run as root: run it as the Debian package's postgres user
    return ["runuser", "-u", owner, "--", *command] if owner else command


@pytest.fixture(scope="session")
def postgres_url():
    binaries = _binaries()
    if binaries is None:
        _unavailable("no PostgreSQL server binaries (apt-get install postgresql)")
    owner = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no postgres user to run the server as")
        owner = "postgres"
    folder = Path(tempfile.mkdtemp(prefix="intake-pg-"))
    data = folder / "data"
    if owner:
        shutil.chown(folder, owner)
    port = _free_port()
    subprocess.run(_as_owner([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                              "--encoding=UTF8", "--no-locale"], owner), check=True, capture_output=True)
    start = [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "start",
             "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"]
    subprocess.run(_as_owner(start, owner), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], owner),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
