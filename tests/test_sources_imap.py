"""ImapSource against a real Dovecot: what a poll offers, setting aside, IDLE, failures, cost."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from ingest.sources import ImapConfig, ImapSource, open_source
from ingest.sources.base import Batch, Cursor, FetchedMail
from ingest.sources.errors import SourceAuthFailed, SourceError, SourceMisconfigured, SourceUnavailable

SHANGHAI = timezone(timedelta(hours=8))
PROCESSED = "已处理"
# Dovecot's own list without MOVE, and one without MOVE, UIDPLUS and IDLE (old servers)
WITHOUT_MOVE = "imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE UIDPLUS UNSELECT NAMESPACE CHILDREN"
BARE = "imap_capability = IMAP4rev1 LITERAL+ ID"


def message(number: int, subject: str = "巴渝工匠推荐材料") -> bytes:
    """A small submission as a Chinese client sends it: 8-bit UTF-8 body, CRLF."""
    return (f"From: =?UTF-8?B?5bel5Lya?= <district{number}@example.cn>\r\n"
            f"To: intake@example.org\r\nSubject: =?UTF-8?B?5o6o6I2Q?= {number}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@example.cn>\r\nDate: Wed, 03 May 2017 09:30:00 +0800\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{subject} 第{number}份\r\n").encode("utf-8")


def taken(source, cursor: Cursor) -> tuple[Batch, list[FetchedMail]]:
    batch = source.poll(cursor)
    return batch, list(batch.mails)


def after(batch: Batch, mails: list[FetchedMail], folder: str = "INBOX") -> Cursor:
    """The cursor the service would store after filing `mails`."""
    return Cursor(folder, batch.uidvalidity, max((mail.uid for mail in mails), default=0))


def verbs(commands: list[str]) -> list[str]:
    """`UID SEARCH UID 3:*` of `A7 UID SEARCH UID 3:*`: commands without their tags."""
    return [command.split(" ", 1)[1] for command in commands]


# --- what a poll offers ----------------------------------------------------------------------


def test_a_poll_gives_the_exact_bytes_and_the_aware_internaldate_and_marks_nothing_seen(mailbox):
    raw = message(1)
    arrived = datetime(2017, 5, 3, 9, 30, 15, tzinfo=SHANGHAI)
    uid = mailbox.append(raw, internaldate=arrived)
    with ImapSource(mailbox.config()) as source:
        batch, mails = taken(source, Cursor("INBOX"))
    assert [mail.uid for mail in mails] == [uid]
    mail = mails[0]
    assert mail.raw == raw
    assert mail.internaldate == arrived and mail.internaldate.tzinfo is not None
    assert (mail.account, mail.folder) == (source.account, "INBOX")
    assert mail.uidvalidity == batch.uidvalidity == mailbox.status()["uidvalidity"]
    assert not batch.resynchronising  # a first poll is not a resynchronisation
    flags, _ = mailbox.messages()[uid]
    assert b"\\Seen" not in flags


def test_the_id_command_goes_before_select(mailbox):
    mailbox.append(message(1))
    with ImapSource(mailbox.config()) as source:
        taken(source, Cursor("INBOX"))
    sent = verbs(mailbox.commands())
    ident = next(i for i, command in enumerate(sent) if command.startswith("ID ("))
    assert '"name" "craftsman-intake"' in sent[ident]
    assert ident < sent.index('SELECT "INBOX"')


def test_the_cursor_offers_each_message_once_oldest_first(mailbox):
    uids = [mailbox.append(message(n)) for n in range(3)]
    with ImapSource(mailbox.config()) as source:
        batch, mails = taken(source, Cursor("INBOX"))
        assert [mail.uid for mail in mails] == uids
        cursor = after(batch, mails)
        # `UID SEARCH UID 4:*` still answers 3, the highest UID: it must not come back
        assert taken(source, cursor)[1] == []
        newer = mailbox.append(message(9))
        batch, mails = taken(source, cursor)
        assert [mail.uid for mail in mails] == [newer] and not batch.resynchronising
        assert taken(source, after(batch, mails))[1] == []


@pytest.mark.parametrize("renumber", ["doveadm", "delete-and-create"])
def test_a_new_uidvalidity_offers_everything_again(mailbox, renumber):
    folder = "申报"
    mailbox.create_folder(folder)
    for n in range(2):
        mailbox.append(message(n), folder)
    with ImapSource(mailbox.config(folder=folder)) as source:
        batch, mails = taken(source, Cursor(folder))
        cursor = after(batch, mails, folder)
        if renumber == "doveadm":
            mailbox.set_uidvalidity(folder, batch.uidvalidity + 1000)
        else:
            mailbox.delete_folder(folder)
            mailbox.create_folder(folder)
            for n in range(2):
                mailbox.append(message(n), folder)
        batch, mails = taken(source, cursor)
    assert batch.resynchronising
    assert batch.uidvalidity == mailbox.status(folder)["uidvalidity"] != cursor.uidvalidity
    assert len(mails) == 2 and all(mail.uidvalidity == batch.uidvalidity for mail in mails)


def test_mail_is_fetched_in_chunks_and_setting_aside_while_iterating_works(mailbox):
    uids = [mailbox.append(message(n)) for n in range(5)]
    with ImapSource(mailbox.config(), chunk_messages=2) as source:
        mark = mailbox.mark()
        offered = []
        for mail in source.poll(Cursor("INBOX")).mails:  # as the service does: file, then set aside
            offered.append(mail.uid)
            source.set_aside(mail)
    fetches = [command for command in verbs(mailbox.commands(mark)) if command.startswith("UID FETCH")]
    assert offered == uids
    assert mailbox.messages() == {}
    assert len(mailbox.messages(PROCESSED)) == 5
    assert sum("BODY.PEEK[]" in command for command in fetches) == 3  # 2 + 2 + 1


# --- setting aside ---------------------------------------------------------------------------


@pytest.mark.parametrize("capabilities, way", [("", "UID MOVE"), (WITHOUT_MOVE, "UID EXPUNGE")])
def test_set_aside_moves_that_message_alone(make_dovecot, capabilities, way):
    mailbox = make_dovecot(extra_config=capabilities).add_user()
    first, second = mailbox.append(message(1)), mailbox.append(message(2))
    theirs = mailbox.append(message(3), flags=[b"\\Deleted"])  # someone else's, not expunged yet
    with ImapSource(mailbox.config()) as source:
        mails = taken(source, Cursor("INBOX"))[1]
        mark = mailbox.mark()
        source.set_aside(mails[1])
        source.set_aside(mails[1])  # twice (a crash before the ledger noted it): harmless
    left = mailbox.messages()
    assert set(left) == {first, theirs} and b"\\Deleted" in left[theirs][0]
    moved = list(mailbox.messages(PROCESSED).values())
    assert [raw for _flags, raw in moved] == [mails[1].raw]
    assert b"\\Seen" not in moved[0][0]
    sent = verbs(mailbox.commands(mark))
    assert any(command.startswith(way) for command in sent) and "EXPUNGE" not in sent
    assert second not in left


def test_flag_mode_leaves_the_message_in_place_flagged(mailbox):
    uid = mailbox.append(message(1))
    with ImapSource(mailbox.config(processed_action="flag")) as source:
        batch, mails = taken(source, Cursor("INBOX"))
        source.set_aside(mails[0])
        assert taken(source, after(batch, mails))[1] == []
    flags, raw = mailbox.messages()[uid]
    assert raw == mails[0].raw
    assert {b"\\Flagged", b"$Filed"} <= set(flags) and b"\\Seen" not in flags
    assert PROCESSED not in mailbox.folders()


def test_without_move_or_uidplus_mail_is_flagged_and_there_is_no_idle(make_dovecot):
    mailbox = make_dovecot(extra_config=BARE).add_user()
    uid = mailbox.append(message(1))
    with ImapSource(mailbox.config()) as source:
        source.set_aside(taken(source, Cursor("INBOX"))[1][0])
        started = time.monotonic()
        assert source.wait_for_mail(5) is False
        assert time.monotonic() - started < 1
    assert b"\\Flagged" in mailbox.messages()[uid][0]


def test_set_aside_refuses_a_message_from_before_a_renumbering(mailbox):
    uid = mailbox.append(message(1))
    with ImapSource(mailbox.config()) as source:
        mail = taken(source, Cursor("INBOX"))[1][0]
        mailbox.set_uidvalidity("INBOX", mail.uidvalidity + 7)
        with pytest.raises(SourceError, match="renumbered"):
            source.set_aside(mail)
    assert list(mailbox.messages()) == [uid]


# --- IDLE ------------------------------------------------------------------------------------


@pytest.mark.parametrize("security", ["plain", "ssl"])
def test_idle_wakes_when_mail_is_appended_from_another_connection(request, security):
    server = request.getfixturevalue("dovecot" if security == "plain" else "dovecot_tls")
    mailbox = server.add_user()
    config = mailbox.config() if security == "plain" else mailbox.config(
        security="ssl", port=server.imaps_port, ca_file=server.ca_file)
    with ImapSource(config) as source:
        batch, mails = taken(source, Cursor("INBOX"))
        appender = threading.Timer(0.5, mailbox.append, [message(1)])
        appender.start()
        started = time.monotonic()
        try:
            assert source.wait_for_mail(20) is True
        finally:
            appender.join()
        assert time.monotonic() - started < 3
        assert len(taken(source, after(batch, mails))[1]) == 1


def test_idle_ends_false_when_time_is_up_and_true_at_once_for_mail_since_the_poll(mailbox):
    with ImapSource(mailbox.config()) as source:
        taken(source, Cursor("INBOX"))
        started = time.monotonic()
        assert source.wait_for_mail(0.6) is False
        assert 0.5 < time.monotonic() - started < 2
        mailbox.append(message(1))  # arrives between the poll and the wait
        started = time.monotonic()
        assert source.wait_for_mail(20) is True
        assert time.monotonic() - started < 1
    with ImapSource(mailbox.config(idle=False)) as source:
        assert source.wait_for_mail(5) is False


def test_idle_is_renewed_and_still_wakes(mailbox):
    with ImapSource(mailbox.config(), idle_renewal_seconds=0.3) as source:
        taken(source, Cursor("INBOX"))
        mark = mailbox.mark()
        assert source.wait_for_mail(1.0) is False
        assert verbs(mailbox.commands(mark)).count("IDLE") >= 3
        appender = threading.Timer(0.7, mailbox.append, [message(1)])
        appender.start()
        try:
            assert source.wait_for_mail(10) is True
        finally:
            appender.join()


def test_idle_gives_up_at_once_when_the_server_goes_away(make_dovecot):
    server = make_dovecot()
    mailbox = server.add_user()
    with ImapSource(mailbox.config()) as source:
        taken(source, Cursor("INBOX"))
        stopper = threading.Timer(0.5, server.stop)
        stopper.start()
        started = time.monotonic()
        try:
            with pytest.raises(SourceUnavailable):
                source.wait_for_mail(20)
        finally:
            stopper.join()
        assert time.monotonic() - started < 3


# --- failures --------------------------------------------------------------------------------


def test_a_restart_between_polls_is_survived(make_dovecot):
    server = make_dovecot()
    mailbox = server.add_user()
    mailbox.append(message(1))
    with ImapSource(mailbox.config()) as source:
        batch, mails = taken(source, Cursor("INBOX"))
        server.restart()
        newer = mailbox.append(message(2))
        assert [mail.uid for mail in taken(source, after(batch, mails))[1]] == [newer]


def test_a_poll_while_the_server_is_down_fails_fast_then_works(make_dovecot):
    server = make_dovecot()
    mailbox = server.add_user()
    mailbox.append(message(1))
    with ImapSource(mailbox.config()) as source:
        taken(source, Cursor("INBOX"))
        server.stop()
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match="connection refused"):
            source.poll(Cursor("INBOX"))
        assert time.monotonic() - started < 2
        server.start()
        assert len(taken(source, Cursor("INBOX"))[1]) == 1


def test_a_restart_in_the_middle_of_a_poll_fails_that_poll_and_the_next_carries_on(make_dovecot):
    server = make_dovecot()
    mailbox = server.add_user()
    uids = [mailbox.append(message(n)) for n in range(3)]
    with ImapSource(mailbox.config(), chunk_messages=1) as source:
        batch = source.poll(Cursor("INBOX"))
        mails = iter(batch.mails)
        first = next(mails)
        server.stop()
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match="connection"):
            next(mails)
        assert time.monotonic() - started < 2
        server.start()
        rest = taken(source, Cursor("INBOX", batch.uidvalidity, first.uid))[1]
    assert [first.uid] + [mail.uid for mail in rest] == uids


def test_a_server_that_does_not_answer_times_out_instead_of_hanging():
    with socket.socket() as silent:  # connections queue in the backlog; no greeting ever comes
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        config = ImapConfig(host="127.0.0.1", port=silent.getsockname()[1], security="plain",
                               username="u", password_env="UNUSED", timeout_seconds=0.5)
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match="no answer within 0.5 s"):
            ImapSource(config).poll(Cursor("INBOX"))
        assert time.monotonic() - started < 2


def test_a_wrong_password_says_so(mailbox, tmp_path):
    wrong = tmp_path / "password"
    wrong.write_text("not-the-password")
    with pytest.raises(SourceAuthFailed, match="wrong user name or password") as failure:
        ImapSource(mailbox.config(password_file=wrong)).poll(Cursor("INBOX"))
    assert mailbox.user in str(failure.value)


@pytest.mark.parametrize("host", ["imap.163.com", "192.168.1.10", "10.0.0.1"])
def test_plain_imap_to_another_machine_is_refused(host):
    config = ImapConfig(host=host, port=143, security="plain", username="gh@163.com",
                           password_env="UNUSED")
    with pytest.raises(SourceMisconfigured, match="不加密地发给"):
        open_source(config)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2", "::1", "[::1]"])
def test_plain_imap_on_this_machine_is_allowed(host):
    config = ImapConfig(host=host, port=143, security="plain", username="u", password_env="UNUSED")
    assert isinstance(open_source(config), ImapSource)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_checks_the_certificate(dovecot_tls, security):
    mailbox = dovecot_tls.add_user()
    uid = mailbox.append(message(1))
    port = dovecot_tls.imaps_port if security == "ssl" else dovecot_tls.port
    good = mailbox.config(security=security, port=port, ca_file=dovecot_tls.ca_file)
    with ImapSource(good) as source:
        assert [mail.uid for mail in taken(source, Cursor("INBOX"))[1]] == [uid]
    for ca_file in (dovecot_tls.wrong_ca_file, None):  # another CA, or the system's CAs
        with pytest.raises(SourceUnavailable, match="certificate was not accepted"):
            ImapSource(good.model_copy(update={"ca_file": ca_file})).poll(Cursor("INBOX"))


# --- cost ------------------------------------------------------------------------------------


def test_an_empty_poll_costs_the_same_commands_for_10_and_2000_filed_messages(dovecot):
    sent = {}
    for size in (10, 2000):
        mailbox = dovecot.add_user(prefix=f"filed{size}-")
        mailbox.fill(message(n) for n in range(size))
        with ImapSource(mailbox.config()) as source:
            batch, mails = taken(source, Cursor("INBOX"))
            assert len(mails) == size
            cursor = after(batch, mails)
            mark = mailbox.mark()
            assert taken(source, cursor)[1] == []
            sent[size] = verbs(mailbox.commands(mark))
    assert sent[10] == ['SELECT "INBOX"', "UID SEARCH UID 11:*"]
    assert sent[2000] == ['SELECT "INBOX"', "UID SEARCH UID 2001:*"]


def test_poll_check_says_what_it_found(mailbox):
    mailbox.append(message(1))
    with ImapSource(mailbox.config()) as source:
        found = source.poll_check()
    assert "有 1 封邮件；" in found and "移入文件夹 已处理（首次使用时建立）" in found


def test_a_missing_folder_is_named_in_the_error(mailbox):
    with ImapSource(mailbox.config(folder="收件箱")) as source:
        with pytest.raises(SourceError, match="收件箱") as failure:
            source.poll(Cursor("收件箱"))
    assert not isinstance(failure.value, SourceUnavailable)
