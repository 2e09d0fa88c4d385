"""Mail handed over inside one installation: a district's forward to a city served by the same
config (forward/inside.py), taken in by the city's intake like any mail, without a mail server.

Each message comes with a number that only grows (the forward message's record number), which
serves as its UID, so the ledger keeps it once and the city's cursor moves past it; setting aside
has nothing to move. The account names the district (`installation:<campaign>`), so the city's
ledger says where it came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

from ingest.sources.base import Batch, Cursor, FetchedMail

UIDVALIDITY = 1  # the numbers never restart: forward message numbers are never reused


class InternalSource:
    """The given (number, raw bytes) of one sender inside the installation; see `base.MailSource`."""

    def __init__(self, sender: str, messages: list[tuple[int, bytes]], arrived: datetime):
        self.account = f"installation:{sender}"
        self._messages = sorted(messages)
        self._arrived = arrived

    def poll(self, cursor: Cursor) -> Batch:
        return Batch(UIDVALIDITY, cursor.uidvalidity not in (0, UIDVALIDITY), self._mails(cursor))

    def _mails(self, cursor: Cursor) -> Iterator[FetchedMail]:
        after = cursor.last_uid if cursor.uidvalidity == UIDVALIDITY else 0
        for number, raw in self._messages:
            if number > after:
                yield FetchedMail(self.account, cursor.folder, UIDVALIDITY, number, raw, self._arrived)

    def set_aside(self, mail: FetchedMail) -> None:
        """Nothing to move: the message never was in a mailbox."""

    def wait_for_mail(self, seconds: float) -> bool:
        return False

    def close(self) -> None:
        self._messages = []
