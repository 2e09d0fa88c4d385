"""Where mail comes from: `open_source(config)` picks the source for `mailbox.kind` from one table.

Each source defines its own `[mailbox]` section (`MaildirConfig`, `ImapConfig`); `MailboxConfig`
is either, told apart by `kind` (a Maildir when the config does not say).
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Union

from pydantic import BeforeValidator, Field

from ingest.sources.base import Batch, Cursor, FetchedMail, MailSource, StoredMail
from ingest.sources.errors import SourceAuthFailed, SourceError, SourceMisconfigured, SourceUnavailable
from ingest.sources.imap import ImapSource
from ingest.sources.imap_config import ImapConfig
from ingest.sources.maildir import MaildirConfig, MaildirSource


def _maildir_unless_said(value: Any) -> Any:
    if isinstance(value, dict) and "kind" not in value:
        return {**value, "kind": "maildir"}
    return value


MailboxConfig = Annotated[Union[MaildirConfig, ImapConfig], Field(discriminator="kind"),
                          BeforeValidator(_maildir_unless_said)]

# mailbox.kind → the source that reads it; adding a source is adding a module and a line here
SOURCES: dict[str, Callable[[Any], MailSource]] = {
    "maildir": MaildirSource,
    "imap": ImapSource,
}


def open_source(config: MaildirConfig | ImapConfig) -> MailSource:
    """The source for `config` (IMAP connects on first use, so this does no network I/O)."""
    try:
        make = SOURCES[config.kind]
    except KeyError:
        raise SourceMisconfigured(f"mailbox.kind = {config.kind!r}: not one of {', '.join(SOURCES)}") from None
    return make(config)


__all__ = [
    "Batch", "Cursor", "FetchedMail", "ImapConfig", "ImapSource", "MailSource", "MailboxConfig", "MaildirConfig",
    "MaildirSource", "SOURCES", "SourceAuthFailed", "StoredMail", "SourceError", "SourceMisconfigured", "SourceUnavailable",
    "open_source",
]
