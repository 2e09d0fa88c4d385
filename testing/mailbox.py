"""One user of a test Dovecot: mail put in over IMAP or straight on disk, and what the server received."""

from __future__ import annotations

import grp
import os
import pwd
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from imapclient import IMAPClient, imap_utf7

from ingest.sources import ImapConfig

if TYPE_CHECKING:
    from testing.dovecot import Dovecot

PASSWORD = "secret"
MAIL_OWNER = "nobody"  # the recipe's userdb uid/gid
MAIL_GROUP = "nogroup"


@dataclass
class Mailbox:
    """One user on a `Dovecot`: helpers that work over IMAP (their own connection) or on disk."""

    server: "Dovecot"
    user: str
    password_file: Path

    def config(self, **overrides) -> ImapConfig:
        """A plain-IMAP `ImapConfig` for this user (pass security/port/ca_file for TLS)."""
        values = dict(kind="imap", host=self.server.host, port=self.server.port, security="plain",
                      username=self.user, password_file=self.password_file, timeout_seconds=5.0)
        return ImapConfig(**(values | overrides))

    @contextmanager
    def connect(self) -> Iterator[IMAPClient]:
        client = IMAPClient(self.server.host, self.server.port, ssl=False, timeout=10)
        client.normalise_times = False
        try:
            client.login(self.user, PASSWORD)
            yield client
        finally:
            try:
                client.logout()
            except Exception:  # noqa: BLE001 - the server may be down in a restart test
                client.shutdown()

    def append(self, raw: bytes, folder: str = "INBOX", *, internaldate: datetime | None = None,
               flags: Iterable[bytes] = ()) -> int:
        """APPEND one message (with that INTERNALDATE, if given); its UID."""
        with self.connect() as client:
            answer = client.append(folder, raw, flags=tuple(flags), msg_time=internaldate)
        return int(re.search(rb"APPENDUID \d+ (\d+)", answer)[1])

    def create_folder(self, name: str) -> None:
        with self.connect() as client:
            client.create_folder(name)

    def delete_folder(self, name: str) -> None:
        with self.connect() as client:
            client.delete_folder(name)

    def folders(self) -> list[str]:
        with self.connect() as client:
            return [name for _flags, _sep, name in client.list_folders()]

    def messages(self, folder: str = "INBOX") -> dict[int, tuple[tuple[bytes, ...], bytes]]:
        """UID → (flags, raw bytes) of every message in `folder`, read without marking anything."""
        with self.connect() as client:
            client.select_folder(folder, readonly=True)
            data = client.fetch(client.search("ALL"), ["FLAGS", "BODY.PEEK[]"])
        return {uid: (item[b"FLAGS"], item[b"BODY[]"]) for uid, item in data.items()}

    def fill(self, messages: Iterable[bytes], folder: str = "INBOX") -> int:
        """Write messages straight into the Maildir (fast: no IMAP); Dovecot numbers them on the
        next SELECT. Returns how many were written."""
        with self.connect() as client:  # makes the user's Maildir, and the folder
            if folder != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            client.select_folder(folder, readonly=True)
        directory = self._maildir(folder) / "cur"
        owner, group = pwd.getpwnam(MAIL_OWNER).pw_uid, grp.getgrnam(MAIL_GROUP).gr_gid
        stamp, count = int(time.time()) - 60, 0
        for count, raw in enumerate(messages, 1):
            path = directory / f"{stamp}.M{count}P{os.getpid()}.intake-test:2,"
            path.write_bytes(raw)
            os.chown(path, owner, group)
        return count

    def set_uidvalidity(self, folder: str, value: int) -> None:
        """Renumber `folder` as a server would after losing its index (doveadm)."""
        self.server.doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(value), folder)

    def status(self, folder: str = "INBOX") -> dict[str, int]:
        line = self.server.doveadm("mailbox", "status", "-u", self.user, "messages uidnext uidvalidity", folder)
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}

    # --- what the server received --------------------------------------------------------

    def mark(self) -> dict[Path, int]:
        """Where the rawlogs of this user's sessions end now: pass to `commands(since=…)`."""
        return {path: path.stat().st_size for path in self._rawlogs()}

    def commands(self, since: dict[Path, int] | None = None) -> list[str]:
        """Every IMAP command line the server received from this user (after login) since `since`."""
        since = since or {}
        found: list[str] = []
        for path in self._rawlogs():
            with open(path, "rb") as handle:
                handle.seek(since.get(path, 0))
                found += rawlog_commands(handle.read())
        return found

    def _rawlogs(self) -> list[Path]:
        return sorted((self.server.root / "rawlog" / self.user).glob("*.in"))

    def _maildir(self, folder: str) -> Path:
        home = self.server.root / "mail" / self.user
        if folder == "INBOX":
            return home
        return home / ("." + imap_utf7.encode(folder).decode("ascii").replace("/", "."))


_STAMP = re.compile(rb"^\d+\.\d+ ", re.M)  # rawlog's timestamp at the start of each line


_LITERAL = re.compile(rb"\{(\d+)\+?\}$")


_COMMAND = re.compile(rb"^[A-Za-z0-9.]+ [A-Za-z]")  # tag, then the command name


def rawlog_commands(data: bytes) -> list[str]:
    """The command lines in a rawlog `.in` file, literals (APPEND's message) skipped."""
    stream, commands, position = _STAMP.sub(b"", data), [], 0
    while position < len(stream):
        line, position = _line(stream, position)
        if _COMMAND.match(line):
            commands.append(line.decode("utf-8", "replace"))
        while literal := _LITERAL.search(line):
            line, position = _line(stream, position + int(literal[1]))
    return commands


def _line(stream: bytes, position: int) -> tuple[bytes, int]:
    end = stream.find(b"\n", position)
    end = len(stream) if end < 0 else end
    return stream[position:end].rstrip(b"\r"), end + 1
