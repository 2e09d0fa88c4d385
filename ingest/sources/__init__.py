"""Where mail comes from: `open_source(config)` picks the source for `mailbox.kind` from one table."""

from __future__ import annotations

from typing import Callable

from ingest.sources.base import Batch, Cursor, FetchedMail, MailSource
from ingest.sources.errors import SourceAuthFailed, SourceError, SourceMisconfigured, SourceUnavailable
from ingest.sources.imap import ImapSource
from ingest.sources.maildir import MaildirSource
from intake.config import MailboxConfig

# mailbox.kind → the source that reads it; adding a source is adding a module and a line here
SOURCES: dict[str, Callable[[MailboxConfig], MailSource]] = {
    "maildir": MaildirSource,
    "imap": ImapSource,
}


def open_source(config: MailboxConfig) -> MailSource:
    """The source for `config` (IMAP connects on first use, so this does no network I/O)."""
    try:
        make = SOURCES[config.kind]
    except KeyError:
        raise SourceMisconfigured(f"mailbox.kind = {config.kind!r}: not one of {', '.join(SOURCES)}") from None
    return make(config)


__all__ = [
    "Batch", "Cursor", "FetchedMail", "ImapSource", "MailSource", "MaildirSource", "SOURCES",
    "SourceAuthFailed", "SourceError", "SourceMisconfigured", "SourceUnavailable", "open_source",
]
