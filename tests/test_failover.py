"""Two machines on one PostgreSQL for failover, as two real `intake run` processes with data folders of
their own: only one polls the mailbox at a time; when it is killed (SIGKILL, mid-poll, with a
message taken in and not yet filed) the other takes over within a minute, files that message from
the raw mail the first stored (in the database: the first machine's disk is gone with it), and
nothing is filed or answered twice; all with `idle_in_transaction_session_timeout` set, which
killed the old lock's connection. A config of another campaign on the same database sees only its
own mail in `status`."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import make_engine
from testing.faults import Service, brisk_config
from testing.service import ARRIVED, intake, nomination, records

MESSAGES = 10
TAKEOVER_LIMIT = 60.0


def _database(postgres_url: str, name: str) -> str:
    engine = make_engine(postgres_url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
        # any connection idle inside a transaction for 2 s is cut off by the server
        connection.execute(text(f"ALTER DATABASE {name} SET idle_in_transaction_session_timeout = '2s'"))
    engine.dispose()
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


def _machine(folder: Path, mailbox, smtp, url: str) -> Path:
    folder.mkdir()
    config = brisk_config(folder, mailbox, smtp, url)
    config.write_text(config.read_text(encoding="utf-8").replace("poll_seconds = 0.2", "poll_seconds = 1"),
                      encoding="utf-8")
    return config


@pytest.mark.slow
def test_the_second_machine_takes_over_within_a_minute_and_files_nothing_twice(tmp_path, postgres_url, mailbox,
                                                                               smtp_server):
    for n in range(MESSAGES):
        mailbox.append(nomination(n), internaldate=ARRIVED)
    url = _database(postgres_url, "failover")
    first = Service(_machine(tmp_path / "a", mailbox, smtp_server, url), tmp_path / "a.err")
    second = Service(_machine(tmp_path / "b", mailbox, smtp_server, url), tmp_path / "b.err")

    a = first.start(failpoint="after_ledger:5:pause")  # the fifth message taken in, then held there
    first.wait_for(lambda: len(_rows(url)) == 5, "machine A to take in five messages")
    b = second.start()
    try:
        second.wait_for(lambda: "本机待命" in second.log(), "machine B to stand by")
        filed_before = first.counts()[0]
        time.sleep(3)  # longer than idle_in_transaction_session_timeout: A's lock must outlive it
        states = [m.state for m in _rows(url)]
        assert len(states) == 5 and states[4] == "fetched"  # A holds the fifth, taken in and not filed
        # B has filed nothing while A holds the mailbox (the messages before the fifth may still be
        # with A's judging workers, which run ahead of the filing: B files them after the kill)
        assert first.counts()[0] == filed_before == states.count("filed")
        filed_by_a = {row.id for row in _rows(url) if row.state == "filed"}

        killed = Service.crash(a)  # SIGKILL: A's machine is gone, with its data folder's state
        second.wait_for(lambda: "已接手收取" in second.log(), "machine B to take over")
        took_over = time.monotonic() - killed
        second.wait_for(lambda: second.counts()[0] == MESSAGES and second.counts()[1] == MESSAGES,
                        "machine B to file and answer everything")
        print(f"\ntakeover after SIGKILL: {took_over:.2f} s (poll every 1 s; limit {TAKEOVER_LIMIT:.0f} s)")
        assert took_over < TAKEOVER_LIMIT
    finally:
        if a.poll() is None:  # a failed assertion before the kill: A must not outlive the test
            Service.crash(a)
        assert second.stop(b) == 0

    messages, nominees, replies = records(first.config)
    assert len(messages) == MESSAGES and {m.state for m in messages} == {"filed"}
    assert len({m.message_id for m in messages}) == MESSAGES
    assert len(nominees) == MESSAGES and len({n.intake_number for n in nominees}) == MESSAGES
    assert [r.state for r in replies] == ["sent"] * MESSAGES
    delivered = Counter(re.search(rb"In-Reply-To: (\S+)", r.content)[1] for r in smtp_server.messages)
    assert len(delivered) == MESSAGES and set(delivered.values()) == {1}  # each answered once
    assert mailbox.messages("INBOX") == {} and len(mailbox.messages("已处理")) == MESSAGES
    said = first.log() + second.log()
    assert "Traceback" not in said and "idle-in-transaction" not in said and "FileNotFoundError" not in said
    # the message A stored and never filed was filed by B from the database's copy
    assert not (tmp_path / "b" / "data" / "blobs").exists() or not any((tmp_path / "b" / "data" / "blobs").rglob("*.*"))
    b_filed = {int(n) for n in re.findall(r"已登记邮件 M(\d+)", second.log())}
    assert 5 in b_filed and not b_filed & filed_by_a


def _rows(url: str):
    from sqlmodel import select

    from storage.db import session as new_session
    from storage.models import MessageRow

    engine = make_engine(url)
    try:
        with new_session(engine) as session:
            return session.exec(select(MessageRow).order_by(MessageRow.id)).all()
    except Exception:  # noqa: BLE001 - the tables are not made yet
        return []
    finally:
        engine.dispose()


def test_another_campaign_on_the_same_database_sees_only_its_own(tmp_path, postgres_url, mailbox, smtp_server):
    url = _database(postgres_url, "shared")
    mailbox.append(nomination(0), internaldate=ARRIVED)
    chongqing = _machine(tmp_path / "cq", mailbox, smtp_server, url)
    intake(chongqing, "poll", "--once")
    wuhan = tmp_path / "wuhan.toml"
    wuhan.write_text(f'campaign = "wuhan-dacheng-2018"\ndata_path = "{tmp_path / "wh"}"\ndatabase_url = "{url}"\n'
                     f'[mailbox]\npath = "{tmp_path}"\n', encoding="utf-8")
    status = intake(wuhan, "status").stdout
    assert status.splitlines()[:2] == ["评选活动：wuhan-dacheng-2018（第二届武汉“大城工匠”选树）", "邮件：无"]
    assert "回复：无" in status and "imap:" not in status
    everything = intake(wuhan, "status", "--all").stdout
    assert "评选活动：chongqing-bayu-2017" in everything and "邮件：已登记 1" in everything


def test_a_poll_of_one_mailbox_never_blocks_another_mailbox_on_the_same_database(tmp_path, postgres_url, dovecot,
                                                                                  smtp_server):
    from service.lock import exclusive, poll_lock
    from service.runtime import open_runtime

    url = _database(postgres_url, "two_mailboxes")
    wuhan_box, chongqing_box = dovecot.add_user("wuhan"), dovecot.add_user("chongqing")
    chongqing_box.append(nomination(0), internaldate=ARRIVED)
    wuhan = _machine(tmp_path / "wh", wuhan_box, smtp_server, url)
    chongqing = _machine(tmp_path / "cq", chongqing_box, smtp_server, url)
    runtime = open_runtime(wuhan)
    held_by = tmp_path / "elsewhere"  # another machine: its own data folder, so only the database lock meets
    with exclusive(held_by, runtime.engine, poll_lock(runtime.config, runtime.source().account)):
        assert "登记 1 封" in intake(chongqing, "poll", "--once").stdout  # Wuhan's poll in hand stops nothing else
        busy = intake(wuhan, "poll", "--once", check=False)
        assert busy.returncode == 1 and "另一台机器（或另一个进程）上的 intake 正在执行 poll:imap:" in busy.stderr
    runtime.engine.dispose()
    assert "收取 0 封" in intake(wuhan, "poll", "--once").stdout
