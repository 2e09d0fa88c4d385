"""Replies over SMTP (smtplib): implicit TLS, STARTTLS with a verified certificate, or plain on loopback only."""

from __future__ import annotations

import smtplib
import socket
import ssl

from core.net import is_loopback
from core.settings import ConfigError
from replies.settings import SmtpConfig
from replies.transport import PermanentSendError, SendConfigurationError, SendError, TransientSendError

# login refused for good: wrong user or password, mechanism too weak, auth required first
_LOGIN_REFUSED = {530, 534, 535, 538}


def _by_code(code: int, text: str) -> SendError:
    if 400 <= code < 500:
        return TransientSendError(text, code)
    if 500 <= code < 600:
        return PermanentSendError(text, code)
    # not an SMTP reply at all (smtplib's -1 for a garbled line): the connection is unwell
    return TransientSendError(text, code if code > 0 else None)


def _reply_text(response: bytes | str) -> str:
    return response.decode("utf-8", "replace") if isinstance(response, bytes) else str(response)


def _refused(recipients: dict) -> dict[str, tuple[int, str]]:
    return {address: (code, _reply_text(text)) for address, (code, text) in recipients.items()}


def _recipients_error(refused: dict[str, tuple[int, str]], delivered: bool) -> SendError:
    described = "; ".join(f"{address}: {code} {text}" for address, (code, text) in refused.items())
    worst = max(code for code, _text in refused.values())
    if delivered:
        # some got it: sending again would give them a second copy
        return PermanentSendError(f"recipients refused (the others accepted the reply): {described}", worst, refused)
    if all(500 <= code < 600 for code, _text in refused.values()):
        return PermanentSendError(f"recipients refused: {described}", worst, refused)
    return TransientSendError(f"recipients refused for now: {described}", min(code for code, _ in refused.values()))


def classify(error: BaseException, host: str) -> SendError:
    """The SendError an exception from smtplib, ssl or the socket means for the send job."""
    where = f"SMTP server {host}"
    if isinstance(error, SendError):
        return error
    if isinstance(error, ConfigError):
        return SendConfigurationError(str(error))
    if isinstance(error, smtplib.SMTPAuthenticationError):
        text = _reply_text(error.smtp_error)
        if error.smtp_code in _LOGIN_REFUSED:
            return SendConfigurationError(f"{where} refused the login (check smtp.username and the password): "
                                          f"{error.smtp_code} {text}", error.smtp_code)
        return _by_code(error.smtp_code, f"{where} could not log in: {error.smtp_code} {text}")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return _recipients_error(_refused(error.recipients), delivered=False)
    if isinstance(error, smtplib.SMTPResponseException):  # sender refused, DATA refused, greeting, HELO
        return _by_code(error.smtp_code, f"{where} answered {error.smtp_code} {_reply_text(error.smtp_error)}")
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return SendConfigurationError(f"{where}: {error} (check smtp.security and smtp.username)")
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return TransientSendError(f"{where} closed the connection: {error}")
    if isinstance(error, smtplib.SMTPException):
        # "No suitable authentication method found" and kin: nothing a retry would change
        return SendConfigurationError(f"{where}: {error}")
    if isinstance(error, ssl.SSLCertVerificationError):
        return SendConfigurationError(f"the certificate of {where} does not verify: {error.verify_message or error}"
                                      " (check smtp.host and smtp.ca_file)")
    if isinstance(error, ssl.SSLError):
        return TransientSendError(f"TLS with {where} failed: {error}")
    if isinstance(error, socket.gaierror):
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return SendConfigurationError(f"{host} is not a known host name (check smtp.host): {error}")
        return TransientSendError(f"cannot look up {host}: {error}")
    if isinstance(error, ConnectionRefusedError):
        return TransientSendError(f"{where} refused the connection: {error}")
    if isinstance(error, TimeoutError):
        return TransientSendError(f"{where} did not answer in time: {error}")
    if isinstance(error, FileNotFoundError):  # the CA file
        return SendConfigurationError(f"{error.filename or 'a file'} is missing (check smtp.ca_file): {error.strerror}")
    if isinstance(error, OSError):  # reset, unreachable, broken pipe
        return TransientSendError(f"connection to {where} failed: {error}")
    raise error


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


class SmtpTransport:
    """One connection per reply: connect, (STARTTLS), (AUTH), MAIL/RCPT/DATA, QUIT.

    `security`: `ssl` is implicit TLS (port 465), `starttls` upgrades a plain connection
    (port 587/25) and fails when the server does not offer it, `plain` is refused unless the
    host is loopback (a local relay). The certificate is always verified, against the
    system's CAs or, when `ca_file` is set, against that file only (a private CA).
    AUTH (LOGIN/PLAIN, as the server offers) when `username` is set, with `password()`.
    """

    def __init__(self, config: SmtpConfig, *, local_hostname: str | None = None):
        if not config.host:
            raise ValueError("smtp.host is empty")
        if config.security == "plain" and not is_loopback(config.host):
            raise ValueError(f"smtp.security = plain is only allowed to a loopback host, not {config.host}; "
                             "use ssl or starttls")
        self.config = config
        self.local_hostname = local_hostname  # the name given in EHLO; smtplib's default is this host's FQDN

    def tls_context(self) -> ssl.SSLContext:
        ca_file = str(self.config.ca_file) if self.config.ca_file else None
        context = ssl.create_default_context(cafile=ca_file)  # verifies the chain and the host name
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        if config.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, local_hostname=self.local_hostname,
                                                    timeout=config.timeout_seconds, context=self.tls_context())
        else:
            client = smtplib.SMTP(config.host, config.port, local_hostname=self.local_hostname,
                                  timeout=config.timeout_seconds)
        try:
            client.ehlo()
            if config.security == "starttls":
                if not client.has_extn("starttls"):
                    raise SendConfigurationError(f"SMTP server {config.host} does not offer STARTTLS "
                                                 "(check smtp.security and smtp.port)")
                client.starttls(context=self.tls_context())
                client.ehlo()
            if config.username:
                client.login(config.username, config.password())
        except BaseException:
            _close(client)
            raise
        return client

    def _mail_options(self, client: smtplib.SMTP, sender: str, recipients: list[str]) -> list[str]:
        if all(address.isascii() for address in (sender, *recipients)):
            return []
        if not client.has_extn("smtputf8"):
            raise PermanentSendError(f"an address is not ASCII and SMTP server {self.config.host} does not offer SMTPUTF8")
        return ["SMTPUTF8"]

    def check(self) -> None:
        """Connect, upgrade to TLS and log in as a send would, then leave; raise what a send would raise.

        For `intake doctor`: a wrong certificate, host, port or password shows here, not at the
        first reply.
        """
        try:
            client = self._connect()
            _close(client)
        except Exception as error:  # noqa: BLE001
            raise classify(error, self.config.host) from error

    def send(self, raw: bytes, sender: str, recipients: list[str]) -> None:
        if not recipients:
            raise PermanentSendError("no recipients")
        try:
            client = self._connect()
            try:
                refused = client.sendmail(sender, recipients, raw, mail_options=self._mail_options(client, sender, recipients))
            finally:
                _close(client)
        except Exception as error:  # noqa: BLE001 - every failure becomes one of our three errors
            raise classify(error, self.config.host) from error
        if refused:
            raise _recipients_error(_refused(refused), delivered=True)
