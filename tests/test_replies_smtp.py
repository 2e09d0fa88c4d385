"""Replies over SMTP to real aiosmtpd servers on loopback: delivery, the three kinds of failure, TLS, AUTH."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from email.policy import default
from zoneinfo import ZoneInfo

import pytest

import campaigns
from replies.compose import compose_reply
from replies.folder import FolderTransport
from replies.settings import SmtpConfig
from replies.smtp import SmtpTransport
from replies.transport import PermanentSendError, SendConfigurationError, TransientSendError, open_transport
from service.judge import judge
from testing.builders.forms import FormValues, bayu_form_docx, writeup_docx
from testing.builders.submission import nomination_mail, photo_jpeg
from testing.idcards import id_number
from testing.smtp_server import SmtpServer, raw_server, unused_port

BAYU = campaigns.load("chongqing-bayu-2017")
FROM = "bygj@cqgh.org"
TO = "gonghui@example.cn"


@pytest.fixture(scope="module")
def reply() -> bytes:
    """A real reply: a rejected two-nominee message, composed as the service would."""
    files = [("张三-推荐表.docx", bayu_form_docx(FormValues(id_number=id_number()))),
             ("张三-事迹材料.docx", writeup_docx(800))] + [(f"张三-照片{i}.jpg", photo_jpeg(i)) for i in range(4)]
    files += [("李四-推荐表.docx", bayu_form_docx(FormValues(name="李四", phone="123", id_number=id_number(sequence="456"))))]
    verdict = judge(nomination_mail(files), BAYU)
    email = compose_reply(verdict, BAYU, intake_numbers=["BYGJ-2017-0001", None], from_addr=FROM,
                          now=datetime(2017, 4, 10, 10, 5, tzinfo=ZoneInfo("Asia/Shanghai")))
    return email.as_bytes()


def config(port: int, **changes) -> SmtpConfig:
    values = dict(kind="smtp", host="127.0.0.1", port=port, security="plain", timeout_seconds=5)
    values.update(changes)
    return SmtpConfig(**values)


def body_of(raw: bytes) -> str:
    return message_from_bytes(raw, policy=default).get_body(("plain",)).get_content()


# --- delivery -------------------------------------------------------------------------------


def test_a_reply_arrives_byte_for_byte(smtp_server, reply):
    SmtpTransport(config(smtp_server.port)).send(reply, FROM, [TO])
    [received] = smtp_server.messages
    assert received.mail_from == FROM and received.rcpt_tos == (TO,)
    assert received.content == reply
    assert body_of(received.content) == body_of(reply)
    assert "请仅就李四" in body_of(received.content)


def test_the_factory_opens_the_transport_the_config_names(smtp_server, reply, tmp_path):
    transport = open_transport(config(smtp_server.port))
    assert isinstance(transport, SmtpTransport)
    transport.send(reply, FROM, [TO])
    assert len(smtp_server.messages) == 1
    assert isinstance(open_transport(SmtpConfig(outbox_path=tmp_path / "out")), FolderTransport)


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("stage, answer, code", [
    ("RCPT", "451 4.7.1 Greylisted, try again later", 451),
    ("MAIL", "451 4.3.0 Temporary local problem", 451),
    ("DATA", "451 4.3.0 Queue full", 451),
    ("RCPT", "421 4.7.0 Too many connections, closing", 421),
    ("DATA", "421 4.3.2 Service shutting down", 421),
])
def test_4xx_is_transient(stage, answer, code, reply):
    with SmtpServer(script={stage: [answer]}) as server:
        with pytest.raises(TransientSendError) as caught:
            SmtpTransport(config(server.port)).send(reply, FROM, [TO])
        assert caught.value.code == code
        assert answer in str(caught.value)  # the server's code and text, for staff
        assert not isinstance(caught.value, SendConfigurationError)
        # the script is used up: the next attempt goes through
        SmtpTransport(config(server.port)).send(reply, FROM, [TO])
        assert len(server.messages) == 1


@pytest.mark.parametrize("stage, answer", [
    ("RCPT", "550 5.1.1 <gonghui@example.cn>: Recipient address rejected: User unknown"),
    ("MAIL", "553 5.7.1 Sender address rejected: not owned by user"),
    ("DATA", "554 5.7.1 Message rejected as spam"),
])
def test_5xx_is_permanent(stage, answer, reply):
    with SmtpServer(script={stage: [answer]}) as server:
        with pytest.raises(PermanentSendError) as caught:
            SmtpTransport(config(server.port)).send(reply, FROM, [TO])
        assert caught.value.code == int(answer[:3])
        assert answer in str(caught.value)
        assert not server.messages


def test_a_refused_recipient_is_named(reply):
    with SmtpServer(script={"RCPT": ["550 5.1.1 User unknown"]}) as server:
        with pytest.raises(PermanentSendError) as caught:
            SmtpTransport(config(server.port)).send(reply, FROM, [TO])
    assert caught.value.refused == {TO: (550, "5.1.1 User unknown")}
    assert TO in str(caught.value)


def test_one_of_two_recipients_refused_is_permanent_so_the_other_gets_no_second_copy(reply):
    with SmtpServer(script={"RCPT": [None, "450 4.2.0 Mailbox busy"]}) as server:
        with pytest.raises(PermanentSendError) as caught:
            SmtpTransport(config(server.port)).send(reply, FROM, [TO, "other@example.cn"])
        assert len(server.messages) == 1
    assert "other@example.cn" in caught.value.refused


def test_connection_refused_is_transient(reply):
    with pytest.raises(TransientSendError) as caught:
        SmtpTransport(config(unused_port())).send(reply, FROM, [TO])
    assert "refused" in str(caught.value)


@pytest.mark.parametrize("behaviour", ["close", "silent"])
def test_connection_closed_or_silent_is_transient(behaviour, reply):
    with raw_server(behaviour) as port:
        with pytest.raises(TransientSendError):
            SmtpTransport(config(port, timeout_seconds=0.5)).send(reply, FROM, [TO])


@pytest.mark.parametrize("greeting, kind", [(b"421 4.3.2 busy, try later\r\n", TransientSendError),
                                            (b"554 5.7.1 no service for you\r\n", PermanentSendError)])
def test_the_greeting_code_decides(greeting, kind, reply):
    with raw_server("greet", greeting) as port:
        with pytest.raises(kind) as caught:
            SmtpTransport(config(port)).send(reply, FROM, [TO])
    assert greeting[4:].decode().strip() in str(caught.value)


def test_tls_handshake_cut_off_is_transient(test_ca, reply):
    with raw_server("cut_tls") as port:
        with pytest.raises(TransientSendError) as caught:
            SmtpTransport(config(port, security="ssl", ca_file=test_ca.ca_file)).send(reply, FROM, [TO])
    assert not isinstance(caught.value, SendConfigurationError)


# --- TLS ------------------------------------------------------------------------------------


def test_starttls_with_the_test_ca(starttls_server, test_ca, reply):
    SmtpTransport(config(starttls_server.port, security="starttls", ca_file=test_ca.ca_file)).send(reply, FROM, [TO])
    [received] = starttls_server.messages
    assert received.tls and received.content == reply


def test_implicit_tls_with_the_test_ca(implicit_tls_server, test_ca, reply):
    SmtpTransport(config(implicit_tls_server.port, security="ssl", ca_file=test_ca.ca_file)).send(reply, FROM, [TO])
    assert implicit_tls_server.messages[0].content == reply


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_certificate_that_does_not_verify_is_a_configuration_error(security, test_ca, reply):
    kind = {"starttls": dict(starttls=test_ca.server_context()), "ssl": dict(implicit_tls=test_ca.server_context())}
    with SmtpServer(**kind[security]) as server:
        for ca_file in (test_ca.other_ca_file, None):  # an unrelated CA; the system's CAs
            with pytest.raises(SendConfigurationError) as caught:
                SmtpTransport(config(server.port, security=security, ca_file=ca_file)).send(reply, FROM, [TO])
            assert "certificate" in str(caught.value) and "smtp.ca_file" in str(caught.value)
            # still a TransientSendError: a caller that knows only two kinds retries, never drops
            assert isinstance(caught.value, TransientSendError)
        assert not server.messages


def test_the_host_name_is_checked_too(test_ca, reply):
    # the certificate, signed by the right CA, names 127.0.0.1 and localhost, not 127.0.0.2
    with SmtpServer(starttls=test_ca.server_context(), host="127.0.0.2") as server:
        with pytest.raises(SendConfigurationError) as caught:
            SmtpTransport(config(server.port, host="127.0.0.2", security="starttls", ca_file=test_ca.ca_file)).send(
                reply, FROM, [TO])
        assert "127.0.0.2" in str(caught.value)
        assert not server.messages


def test_starttls_demanded_but_not_offered_is_a_configuration_error(smtp_server, reply):
    with pytest.raises(SendConfigurationError) as caught:
        SmtpTransport(config(smtp_server.port, security="starttls")).send(reply, FROM, [TO])
    assert "STARTTLS" in str(caught.value)
    assert not smtp_server.messages


def test_a_missing_ca_file_is_a_configuration_error(starttls_server, tmp_path, reply):
    with pytest.raises(SendConfigurationError):
        SmtpTransport(config(starttls_server.port, security="starttls", ca_file=tmp_path / "nope.pem")).send(
            reply, FROM, [TO])


# --- AUTH -----------------------------------------------------------------------------------


def test_auth_with_the_right_password(auth_server, test_ca, reply, monkeypatch):
    monkeypatch.setenv("INTAKE_TEST_SMTP_PASSWORD", "s3cret-pass")
    settings = config(auth_server.port, security="starttls", ca_file=test_ca.ca_file, username="intake",
                      password_env="INTAKE_TEST_SMTP_PASSWORD")
    SmtpTransport(settings).send(reply, FROM, [TO])
    [received] = auth_server.messages
    assert received.authenticated_as == "intake" and received.content == reply


def test_auth_password_from_a_file(auth_server, test_ca, reply, tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret-pass\n")
    settings = config(auth_server.port, security="starttls", ca_file=test_ca.ca_file, username="intake",
                      password_file=secret)
    SmtpTransport(settings).send(reply, FROM, [TO])
    assert len(auth_server.messages) == 1


def test_auth_with_the_wrong_password_is_a_clear_configuration_error(auth_server, test_ca, reply, monkeypatch):
    monkeypatch.setenv("INTAKE_TEST_SMTP_PASSWORD", "wrong")
    settings = config(auth_server.port, security="starttls", ca_file=test_ca.ca_file, username="intake",
                      password_env="INTAKE_TEST_SMTP_PASSWORD")
    with pytest.raises(SendConfigurationError) as caught:
        SmtpTransport(settings).send(reply, FROM, [TO])
    assert caught.value.code == 535
    assert "refused the login" in str(caught.value) and "smtp.username" in str(caught.value)
    assert "wrong" not in str(caught.value)  # the password is never echoed
    assert not auth_server.messages


def test_auth_without_a_password_set_is_a_configuration_error(auth_server, test_ca, reply, monkeypatch):
    monkeypatch.delenv("INTAKE_TEST_SMTP_PASSWORD", raising=False)
    settings = config(auth_server.port, security="starttls", ca_file=test_ca.ca_file, username="intake",
                      password_env="INTAKE_TEST_SMTP_PASSWORD")
    with pytest.raises(SendConfigurationError) as caught:
        SmtpTransport(settings).send(reply, FROM, [TO])
    assert "password" in str(caught.value)


def test_auth_not_offered_is_a_configuration_error(smtp_server, reply, monkeypatch):
    monkeypatch.setenv("INTAKE_TEST_SMTP_PASSWORD", "s3cret-pass")
    settings = config(smtp_server.port, username="intake", password_env="INTAKE_TEST_SMTP_PASSWORD")
    with pytest.raises(SendConfigurationError) as caught:
        SmtpTransport(settings).send(reply, FROM, [TO])
    assert "AUTH" in str(caught.value)


# --- plain text only on loopback -------------------------------------------------------------


@pytest.mark.parametrize("host", ["smtp.qq.com", "192.168.1.10", "10.0.0.1", "::2"])
def test_plain_to_a_non_loopback_host_is_refused(host):
    with pytest.raises(ValueError, match="loopback"):
        SmtpTransport(config(25, host=host))
    with pytest.raises(ValueError, match="loopback"):
        open_transport(config(25, host=host))


# --- the doctor's check ---------------------------------------------------------------------


def test_check_logs_in_without_sending(auth_server, test_ca, monkeypatch):
    monkeypatch.setenv("INTAKE_TEST_SMTP_PASSWORD", "s3cret-pass")
    settings = config(auth_server.port, security="starttls", ca_file=test_ca.ca_file, username="intake",
                      password_env="INTAKE_TEST_SMTP_PASSWORD")
    SmtpTransport(settings).check()
    assert not auth_server.messages and "MAIL" not in auth_server.handler.commands
    monkeypatch.setenv("INTAKE_TEST_SMTP_PASSWORD", "wrong")
    with pytest.raises(SendConfigurationError):
        SmtpTransport(settings).check()
    with pytest.raises(SendConfigurationError):
        SmtpTransport(config(auth_server.port, security="starttls", ca_file=test_ca.other_ca_file)).check()
    with pytest.raises(TransientSendError):
        SmtpTransport(config(unused_port())).check()
