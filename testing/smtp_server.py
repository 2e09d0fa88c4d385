"""Real SMTP servers for tests, in-process on loopback: aiosmtpd, and a few raw sockets that misbehave.

Import the fixtures into a test module (`from testing.smtp_server import smtp_server, …`) or use
the context managers directly:

- `SmtpServer()`: a plain server that records every message it accepts (`.messages`);
- `SmtpServer(script={"RCPT": ["451 4.7.1 Try later"]})`: answers MAIL, RCPT or DATA from a
  script, one reply per command, then normally (421/451/550 …);
- `SmtpServer(refuse={"a@x.cn": "550 5.1.1 no such user"})`: refuses those recipients every time;
- `SmtpServer(starttls=ca.server_context())` / `SmtpServer(implicit_tls=…)`: STARTTLS or TLS
  from the first byte, with a certificate made at test time by `openssl` (`TestCA`);
- `SmtpServer(users={"name": "password"}, …)`: AUTH LOGIN/PLAIN;
- `raw_server(behaviour)`: a socket that closes at once, greets with a code, says nothing,
  or cuts the TLS handshake; `unused_port()` for a refused connection.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from testing.programs import missing

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes  # as it arrived, dot-stuffing undone
    authenticated_as: str | None = None
    tls: bool = False
    at: float = field(default_factory=time.monotonic)  # to tell which side of a kill a copy arrived on


@dataclass
class RecordingHandler:
    """Accepts and records every message, except where the script says otherwise."""

    script: dict[str, deque[str | None]] = field(default_factory=dict)
    refuse: dict[str, str] = field(default_factory=dict)
    messages: list[Received] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)  # every scripted or refusing answer given

    def _scripted(self, stage: str) -> str | None:
        self.commands.append(stage)
        replies = self.script.get(stage)
        reply = replies.popleft() if replies else None
        if reply:
            self.answered.append(reply)
        return reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if reply := self._scripted("MAIL"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reply := self._scripted("RCPT"):
            return reply
        if reply := self.refuse.get(address):
            self.answered.append(reply)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if reply := self._scripted("DATA"):
            return reply
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content, login,
                                      session.ssl is not None))
        return "250 2.0.0 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's Controller on a free port chosen by the kernel (port 0)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 for the length of a `with` block."""

    def __init__(self, *, script: dict[str, list[str | None]] | None = None, starttls: ssl.SSLContext | None = None,
                 implicit_tls: ssl.SSLContext | None = None, users: dict[str, str] | None = None,
                 auth_require_tls: bool = True, host: str = HOST, refuse: dict[str, str] | None = None):
        self.handler = RecordingHandler({stage: deque(replies) for stage, replies in (script or {}).items()},
                                        dict(refuse or {}))
        self.users = users
        parameters: dict = {"server_hostname": "mx.test.invalid", "ssl_context": implicit_tls}
        if starttls is not None:
            parameters["tls_context"] = starttls
        if users is not None:
            parameters["authenticator"] = self._authenticate
            parameters["auth_require_tls"] = auth_require_tls
        self.controller = _Controller(self.handler, hostname=host, port=0, **parameters)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.users is None:
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if self.users.get(login) == password:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535

    @property
    def host(self) -> str:
        return self.controller.hostname

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


# --- certificates made at test time ---------------------------------------------------------


@dataclass(frozen=True)
class TestCA:
    """A CA and a server certificate for 127.0.0.1/localhost signed by it, plus an unrelated CA."""

    __test__ = False  # not a test class, whatever its name says

    ca_file: Path
    other_ca_file: Path
    server_cert: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_cert, self.server_key)
        return context


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _make_ca(folder: Path, name: str, common_name: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={common_name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=folder)


def make_test_ca(folder: Path) -> TestCA:
    """Run `openssl` to make the CAs and the server certificate in `folder`."""
    if shutil.which("openssl") is None:
        missing("the openssl command is not installed (Debian package openssl)")
    _make_ca(folder, "ca", "Intake Test CA")
    _make_ca(folder, "other-ca", "Unrelated Test CA")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/CN=localhost", cwd=folder)
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=folder)
    return TestCA(folder / "ca.pem", folder / "other-ca.pem", folder / "server.pem", folder / "server.key")


# --- sockets that misbehave -----------------------------------------------------------------


def unused_port() -> int:
    """A loopback port nobody listens on (connecting to it is refused)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def raw_server(behaviour: str, greeting: bytes = b"") -> Iterator[int]:
    """A one-trick TCP server on loopback; yields its port.

    `close`: accept and close at once; `greet`: send `greeting` (e.g. b"421 busy\\r\\n") and
    close; `silent`: accept and say nothing; `cut_tls`: read the TLS ClientHello, then close.
    """
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            if behaviour == "close":
                connection.close()
            elif behaviour == "greet":
                connection.sendall(greeting)
                connection.close()
            elif behaviour == "cut_tls":
                connection.settimeout(5)
                try:
                    connection.recv(4096)
                except OSError:
                    pass
                connection.close()
            else:  # silent
                held.append(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for connection in held:
            connection.close()


# --- pytest fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> TestCA:
    return make_test_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain aiosmtpd server that accepts and records everything."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def starttls_server(test_ca) -> Iterator[SmtpServer]:
    with SmtpServer(starttls=test_ca.server_context()) as server:
        yield server


@pytest.fixture
def implicit_tls_server(test_ca) -> Iterator[SmtpServer]:
    with SmtpServer(implicit_tls=test_ca.server_context()) as server:
        yield server


@pytest.fixture
def auth_server(test_ca) -> Iterator[SmtpServer]:
    """STARTTLS, and AUTH LOGIN/PLAIN for `intake` / `s3cret-pass` once TLS is up."""
    with SmtpServer(starttls=test_ca.server_context(), users={"intake": "s3cret-pass"}) as server:
        yield server
