"""How a composed reply leaves: the transport protocol, its errors, and the table of transports.

The send job calls `send(raw, sender, recipients)` and reads the outcome from what it raises:

- nothing: the reply was handed over (to the SMTP server, or written to the folder);
- `TransientSendError`: try again later (4xx, connection refused/reset/timed out, TLS cut off);
- `PermanentSendError`: this reply will never go as it is (5xx, a recipient refused with 5xx);
- `SendConfigurationError` (a `TransientSendError`): our side is set up wrongly (the server's
  certificate does not verify, login refused, STARTTLS or AUTH not offered, no password):
  the reply itself is fine and no reply can go until staff fix the config. Best handled by
  pausing the whole outbox and telling staff, without counting attempts; a caller that does
  not know this class retries it as transient, so a reply is never dropped for our mistake.
"""

from __future__ import annotations

from typing import Callable, Protocol

from replies.settings import SmtpConfig


class SendError(Exception):
    """A reply could not be handed over. `code` is the server's SMTP code where there was one;
    the text says what happened in words staff can act on, with the server's own answer."""

    def __init__(self, text: str, code: int | None = None):
        super().__init__(text)
        self.code = code
        self.text = text


class TransientSendError(SendError):
    """Worth trying again later: 4xx answers, refused/reset/timed-out connections, TLS cut off."""


class PermanentSendError(SendError):
    """This reply will never go as it is: 5xx answers, a recipient refused with 5xx.

    `refused` maps each refused recipient to (code, text) where the server named them.
    """

    def __init__(self, text: str, code: int | None = None, refused: dict[str, tuple[int, str]] | None = None):
        super().__init__(text, code)
        self.refused = refused or {}


class SendConfigurationError(TransientSendError):
    """Our SMTP settings are wrong (certificate, login, missing STARTTLS/AUTH): staff must fix them."""


class Transport(Protocol):
    def send(self, raw: bytes, sender: str, recipients: list[str]) -> None:
        """Hand one reply over; raise a SendError subclass when it could not be."""

    def check(self) -> None:
        """Prove the transport could send (log in, reach the folder) without sending; raise as send would."""


def _folder(config: SmtpConfig) -> Transport:
    from replies.folder import FolderTransport

    return FolderTransport(config.outbox_path)


def _smtp(config: SmtpConfig) -> Transport:
    from replies.smtp import SmtpTransport

    return SmtpTransport(config, local_hostname=config.helo_name or None)


# smtp.kind → the transport it names; adding a transport is adding a module and a line here
TRANSPORTS: dict[str, Callable[[SmtpConfig], Transport]] = {
    "folder": _folder,
    "smtp": _smtp,
}


def open_transport(config: SmtpConfig) -> Transport:
    """The transport `config.kind` names. Refuses a config that could never work (ValueError)."""
    try:
        make = TRANSPORTS[config.kind]
    except KeyError:
        raise ValueError(f"unknown smtp.kind {config.kind!r}; known: {', '.join(TRANSPORTS)}") from None
    return make(config)
