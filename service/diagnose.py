"""What went wrong between us and a mail server, said for the office's IT person: what, and what to change.

The mail sources and the SMTP transport raise their own errors with the library's exception as
the cause; this walks that chain and names the case: a host that does not exist, a port where
nothing listens, TLS spoken to a plain port (OpenSSL's WRONG_VERSION_NUMBER), plain spoken to a
TLS port (no greeting ever comes: `doctor` then tries a TLS handshake on that port to be sure),
a login refused (the 授权码), a certificate that does not verify. Each names the config key.
"""

from __future__ import annotations

import difflib
import smtplib
import socket
import ssl

from core.settings import ConfigError

# the providers' servers (README, "Mail providers"), for "did you mean" on a misspelt host
KNOWN_HOSTS = ("imap.qq.com", "smtp.qq.com", "imap.163.com", "smtp.163.com", "imap.126.com", "smtp.126.com",
               "imap.exmail.qq.com", "smtp.exmail.qq.com", "imap.qiye.aliyun.com", "smtp.qiye.aliyun.com")
# OpenSSL's reasons when what answered is not TLS at all
_NOT_TLS = ("WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG",
            "RECORD_LAYER_FAILURE", "UNEXPECTED_RECORD", "WRONG_SSL_VERSION", "TLSV1_ALERT_PROTOCOL_VERSION")


def _chain(exc: BaseException) -> list[BaseException]:
    found = []
    while exc is not None and exc not in found:
        found.append(exc)
        exc = exc.__cause__ or exc.__context__
    return found


def _first(chain: list[BaseException], kind) -> BaseException | None:
    return next((e for e in chain if isinstance(e, kind)), None)


def explain(exc: BaseException, job: str, config, probe: bool = False) -> str:
    """`job` "poll" (the mailbox) or "send" (SMTP); with `probe`, a silent port is tried for TLS."""
    from ingest.sources.errors import SourceAuthFailed, SourceMisconfigured

    chain = _chain(exc)
    section = "mailbox" if job == "poll" else "smtp"
    settings = config.mailbox if job == "poll" else config.smtp
    host, port = getattr(settings, "host", ""), getattr(settings, "port", 0)
    security = getattr(settings, "security", "")
    protocol = "IMAP" if job == "poll" else "SMTP"
    if isinstance(exc, (ConfigError, SourceMisconfigured)):
        return str(exc)
    if _first(chain, SourceAuthFailed) or _first(chain, smtplib.SMTPAuthenticationError) or _login_refused(exc):
        return _login(section, settings, exc)
    if (gai := _first(chain, socket.gaierror)) is not None:
        return _no_such_host(section, host, gai)
    if (cert := _first(chain, ssl.SSLCertVerificationError)) is not None:
        return (f"{host} 的服务器证书验证失败（{cert.verify_message or cert}）：请确认 {section}.host 写的是证书上的名称；"
                f"单位自建的邮件服务器请在 {section}.ca_file 写其 CA 证书")
    if (tls := _first(chain, ssl.SSLError)) is not None and _not_tls(tls):
        return (f"用 SSL 连接 {host}:{port}，对方却没有说 SSL（{tls.reason or tls}）：{port} 是不加密的端口。"
                f"请把 {section}.port 改为 {_tls_port(job)}，或把 {section}.security 改为 \"starttls\"")
    if _first(chain, ConnectionRefusedError) is not None:
        return (f"{host}:{port} 拒绝连接：这个端口上没有 {protocol} 服务。请检查 {section}.port"
                f"（{_ports(job)}），以及邮箱是否已在网页设置中开启 IMAP/SMTP 服务")
    if _first(chain, TimeoutError) is not None or _first(chain, socket.timeout) is not None:
        return _silent(section, job, host, port, security, probe, settings)
    return _plain(exc)


def _login_refused(exc: BaseException) -> bool:
    return any("refused the login" in str(each) for each in _chain(exc))


def _login(section: str, settings, exc: BaseException) -> str:
    where = (f"环境变量 {settings.password_env}" if settings.password_env
             else f"密码文件 {settings.password_file}" if settings.password_file else "password_file")
    said = _server_words(exc)
    return (f"{settings.host} 拒绝了 {settings.username or '（未写用户名）'} 的登录：用户名或密码不对。"
            f"QQ、163、126 邮箱和企业邮箱在客户端中要用授权码（或客户端专用密码），不是网页登录密码："
            f"请在邮箱网页设置中生成授权码，写入{where}（{section}.username 为完整邮箱地址）。服务器说：{said}")


def _server_words(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("The server said: ", "refused the login (check smtp.username and the password): "):
        if marker in text:
            return text.split(marker, 1)[1]
    return text


def _no_such_host(section: str, host: str, error: socket.gaierror) -> str:
    close = difflib.get_close_matches(host, KNOWN_HOSTS, n=1, cutoff=0.75)
    hint = f"，您是不是想写 {close[0]}？" if close and close[0] != host else "：请检查拼写"
    if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
        return f"找不到服务器 {host}（{section}.host）{hint}"
    return f"现在查不到服务器 {host} 的地址（{error.strerror}）：请检查本机的网络和 DNS 设置（{section}.host）"


def _not_tls(error: ssl.SSLError) -> bool:
    reason = (error.reason or "").upper()
    return any(mark in reason for mark in _NOT_TLS) or "wrong version number" in str(error).lower()


def _tls_port(job: str) -> str:
    return "993" if job == "poll" else "465"


def _ports(job: str) -> str:
    return "IMAP：993 为 SSL，143 为 STARTTLS" if job == "poll" else "SMTP：465 为 SSL，587 为 STARTTLS"


def _silent(section: str, job: str, host: str, port: int, security: str, probe: bool, settings) -> str:
    waited = getattr(settings, "timeout_seconds", 0)
    if security in ("plain", "starttls") and probe and speaks_tls(host, port):
        return (f"{host}:{port} 没有应答（等了 {waited:g} 秒）：这是 SSL 端口，而 {section}.security = "
                f"\"{security}\"。请把 {section}.security 改为 \"ssl\"（或把 {section}.port 改为"
                f" {'143' if job == 'poll' else '587'} 用 STARTTLS）")
    hint = f"；若 {port} 是 SSL 端口，请把 {section}.security 改为 \"ssl\"（intake doctor 可判断）" \
        if security in ("plain", "starttls") and not probe else ""
    return (f"{host}:{port} 在 {waited:g} 秒内没有应答：请检查网络、防火墙和 {section}.port（{_ports(job)}）；"
            f"服务器较慢（或因多次登录失败而放慢）时可加大 {section}.timeout_seconds{hint}")


def speaks_tls(host: str, port: int, seconds: float = 5.0) -> bool:
    """Whether a TLS handshake succeeds on this port (certificates not checked: only the protocol)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=seconds) as raw:
            with context.wrap_socket(raw, server_hostname=host):
                return True
    except (OSError, ssl.SSLError):
        return False


def _plain(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__
