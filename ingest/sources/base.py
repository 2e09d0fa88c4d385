"""What every mail source offers the service: new mail since a cursor, a way to set it aside, and
(for purge, after a campaign) a way to remove it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator, Protocol, Sequence


@dataclass(frozen=True)
class Cursor:
    """Where the last poll of one folder stopped: mail with a UID above `last_uid` is new.

    A UIDVALIDITY other than the cursor's means the server renumbered the folder: the
    source then offers every message again and the service recognises what it has filed
    by Message-ID and content hash, so nothing is filed twice.
    """

    folder: str
    uidvalidity: int = 0
    last_uid: int = 0


@dataclass(frozen=True)
class FetchedMail:
    """One message as the source delivered it, with the key the ledger files it under."""

    account: str
    folder: str
    uidvalidity: int
    uid: int
    raw: bytes = field(repr=False)
    internaldate: datetime | None  # the server's arrival time, timezone-aware; None for files


@dataclass(frozen=True)
class StoredMail:
    """A message the service filed, as its ledger knows it: enough to find its copies again
    wherever it was moved (a UID changes with a move, the bytes do not)."""

    sha256: str
    size: int
    message_id: str | None = None


@dataclass(frozen=True)
class Batch:
    """The outcome of one poll of one folder."""

    uidvalidity: int
    resynchronising: bool  # the UIDVALIDITY changed: everything is offered again
    mails: Iterator[FetchedMail]


class MailSource(Protocol):
    """A mailbox the service reads. Implementations: `imap.ImapSource`, `maildir.MaildirSource`."""

    account: str

    def poll(self, cursor: Cursor) -> Batch:
        """Mail newer than the cursor, oldest first, fetched without marking anything read."""

    def set_aside(self, mail: FetchedMail) -> None:
        """After the message is filed: move it to the processed folder, or flag it. Never delete."""

    def wait_for_mail(self, seconds: float) -> bool:
        """Block until new mail may be there (IMAP IDLE) or the time is up; False if unsupported."""

    def delete(self, mails: Sequence[StoredMail]) -> list[str]:
        """`intake purge` only: remove every copy of these messages (the same bytes) from the folder
        and the processed folder; where each removed copy was, for staff."""

    def close(self) -> None: ...
