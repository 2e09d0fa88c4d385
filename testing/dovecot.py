"""A real throwaway Dovecot IMAP server for tests and benchmarks, on a free loopback port.

Made from the recipe ../shared/recipes/dovecot-test.conf (copied below, so a checkout needs
only Debian's dovecot-imapd, which `./dev test` installs; it runs as root like the recipe) plus:
- a rawlog of every IMAP session per user (`rawlog_dir`): `Mailbox.commands()` counts what
  the *server* received, not what the client thinks it sent;
- optionally TLS: a CA and a certificate for 127.0.0.1/localhost made by `openssl` at start,
  STARTTLS on `port` and implicit TLS on `imaps_port`, and a second CA that must be refused;
- `extra_config` lines, e.g. an `imap_capability` list without MOVE.
Each test takes its own user, so its own empty mailbox, on a shared server (`mailbox` fixture).

Fixtures: `dovecot` and `dovecot_tls` (one per session), `make_dovecot` (a factory for
servers of one test, stopped at its end), `mailbox` (a fresh user on `dovecot`).
"""

from __future__ import annotations

import ctypes
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Callable, Iterator

import pytest

from core.children import alive
from testing.mailbox import MAIL_GROUP, MAIL_OWNER, PASSWORD, Mailbox
from testing.programs import missing

DH_PARAMS = Path("/usr/share/dovecot/dh.pem")
PR_SET_PDEATHSIG = 1  # prctl(2)

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
rawlog_dir = {root}/rawlog/%u
{ssl}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd/%u
}}
userdb {{
  driver = static
  args = uid={owner} gid={group} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
{extra}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    """One Dovecot master in its own directory; `start()`, `restart()`, `stop()`, `cleanup()`."""

    host = "127.0.0.1"

    def __init__(self, *, tls: bool = False, extra_config: str = "", root: Path | None = None):
        self.root = Path(root or tempfile.mkdtemp(prefix="dovecot-test-"))
        self.root.chmod(0o755)  # the login and mail processes (dovenull, nobody) must get in
        self.port = free_port()
        self.imaps_port = free_port() if tls else 0
        self.tls = tls
        self.ca_file: Path | None = None
        self.wrong_ca_file: Path | None = None
        self._master: subprocess.Popen | None = None
        self._numbers = itertools.count(1)
        for name in ("run", "state", "mail", "home", "rawlog", "secrets", "passwd"):
            (self.root / name).mkdir(exist_ok=True)
        for name in ("mail", "home", "rawlog"):
            shutil.chown(self.root / name, MAIL_OWNER, MAIL_GROUP)
        ssl_lines = self._make_certificates() if tls else "ssl = no"
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(CONFIG.format(root=self.root, port=self.port, imaps_port=self.imaps_port, ssl=ssl_lines,
                                           owner=MAIL_OWNER, group=MAIL_GROUP, extra=extra_config))

    # --- the server ----------------------------------------------------------------------

    def start(self) -> None:
        """Run the master in the foreground as our child (so it is reaped), wait for the port."""
        with open(self.root / "dovecot.out", "ab") as output:
            self._master = subprocess.Popen(["dovecot", "-F", "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                            stdout=output, stderr=output, preexec_fn=_die_with_parent)

        def listening() -> bool:
            if self._master.poll() is not None:
                output = (self.root / "dovecot.out").read_text(errors="replace").strip()
                raise RuntimeError(f"dovecot exited with {self._master.returncode}: {output}\n{self.log_tail()}")
            return _accepts(self.host, self.port)

        _wait_for(listening, f"Dovecot to listen on port {self.port}", self)

    def stop(self) -> None:
        """Stop as `systemctl stop` does (SIGTERM to the master and all its processes at once), so
        clients are cut off now; a bare master SIGTERM leaves sessions running for ~10 s."""
        master, self._master = self._master, None
        if master is None or master.poll() is not None:
            return
        processes = [master.pid, *_children(master.pid)]
        for each in processes:
            with suppress(ProcessLookupError):
                os.kill(each, signal.SIGTERM)
        try:
            master.wait(timeout=10)
            _wait_for(lambda: not any(map(alive, processes)), "Dovecot's processes to stop", self, seconds=10)
        except (subprocess.TimeoutExpired, TimeoutError):
            for each in filter(alive, processes):
                with suppress(ProcessLookupError):
                    os.kill(each, signal.SIGKILL)
            master.wait(timeout=5)
        _wait_for(lambda: not _accepts(self.host, self.port), "the port to close", self)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join((self.root / "dovecot.log").read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no dovecot.log)"

    def doveadm(self, *args: str) -> str:
        done = subprocess.run(["doveadm", "-c", str(self.conf), *args], capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    # --- users ---------------------------------------------------------------------------

    def add_user(self, prefix: str = "intake") -> "Mailbox":
        """A new user with an empty mailbox (one passwd-file per user: Dovecot reads it at the login)."""
        user = f"{prefix}{next(self._numbers)}-{os.getpid()}@example.org"
        rawlog = self.root / "rawlog" / user
        rawlog.mkdir()
        shutil.chown(rawlog, MAIL_OWNER, MAIL_GROUP)
        secret = self.root / "secrets" / user
        secret.write_text(PASSWORD + "\n")
        (self.root / "passwd" / user).write_text(f"{user}:{{PLAIN}}{PASSWORD}\n")
        return Mailbox(self, user, secret)

    # --- TLS -----------------------------------------------------------------------------

    def _make_certificates(self) -> str:
        folder = self.root / "tls"
        folder.mkdir()
        _openssl_ca(folder, "ca", "Intake Test CA")
        _openssl_ca(folder, "wrong-ca", "Some Other CA")
        (folder / "server.ext").write_text(
            "subjectAltName = IP:127.0.0.1, DNS:localhost\nbasicConstraints = critical, CA:FALSE\n"
            "keyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n"
            "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n")
        _openssl(folder, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
        _openssl(folder, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem")
        self.ca_file, self.wrong_ca_file = folder / "ca.pem", folder / "wrong-ca.pem"
        dh = f"ssl_dh = <{DH_PARAMS}\n" if DH_PARAMS.exists() else ""
        return f"ssl = yes\nssl_cert = <{folder / 'server.pem'}\nssl_key = <{folder / 'server.key'}\n{dh}"


def _openssl(folder: Path, *args: str) -> None:
    done = subprocess.run(["openssl", *args], cwd=folder, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]}: {done.stderr.strip()}")


def _openssl_ca(folder: Path, name: str, subject: str) -> None:
    _openssl(folder, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={subject}",
             "-addext", "basicConstraints = critical, CA:TRUE", "-addext", "keyUsage = critical, keyCertSign, cRLSign",
             "-addext", "subjectKeyIdentifier = hash")


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends SIGTERM if the test run dies (Linux), so no
    Dovecot outlives a killed pytest."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _wait_for(condition: Callable[[], bool], what: str, server: Dovecot, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {seconds} s for {what}\n{server.log_tail()}")
        time.sleep(0.02)


# --- fixtures --------------------------------------------------------------------------------


def require_dovecot() -> None:
    """Skip (or, under CI=true, fail) when a throwaway Dovecot cannot run here, saying why."""
    if shutil.which("dovecot") is None or shutil.which("doveadm") is None:
        problem = "Dovecot is not installed (./dev test installs Debian's dovecot-imapd)"
    elif shutil.which("openssl") is None:
        problem = "openssl is not installed (Debian package openssl)"
    elif os.geteuid() != 0:
        problem = "the throwaway Dovecot runs as root (its login and mail users are switched to)"
    else:
        return
    missing(problem)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A plain-IMAP Dovecot shared by the session (take a `mailbox` on it per test)."""
    require_dovecot()
    server = Dovecot()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[Dovecot]:
    """A Dovecot with STARTTLS on `port`, TLS on `imaps_port`, certificates from `ca_file`."""
    require_dovecot()
    server = Dovecot(tls=True)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def make_dovecot() -> Iterator[Callable[..., Dovecot]]:
    """Start servers of this test's own (to restart them, or with `extra_config`)."""
    require_dovecot()
    servers: list[Dovecot] = []

    def make(**options) -> Dovecot:
        server = Dovecot(**options)
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.cleanup()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    """A fresh user, with an empty mailbox, on the session's Dovecot."""
    return dovecot.add_user()
