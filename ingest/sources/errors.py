"""What a mail source raises, each saying in plain words what went wrong and what to do."""

from __future__ import annotations


class SourceError(Exception):
    """A mail source could not do what was asked; the message says why. Base of the others.

    Raised as such when the server refused a command (a folder that does not exist, a
    message whose folder was renumbered since it was fetched): retrying as is will not help.
    """


class SourceUnavailable(SourceError):
    """The mailbox cannot be reached now: connection refused or lost, no answer in time, TLS
    failed. Nothing was changed; the next call connects again, so the caller retries later."""


class SourceAuthFailed(SourceError):
    """The server refused the user name or password. Retrying will not help until the
    password (or app authorization code) in the secret, or the user name, is fixed."""


class SourceMisconfigured(SourceError):
    """The config asks for something unsafe or impossible, such as an unencrypted IMAP
    connection to another machine. Raised when the source is opened, before any network use."""
