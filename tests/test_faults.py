"""Faults a user would notice, on real servers and a real small disk: the service killed at random
and at failpoints, Dovecot restarted, SMTP 421/451/550 (tests/faults.py, the CI size of
bench/fault_rounds.py); the blob store's disk full; the database's disk full; a damaged database;
a kill while the database is first made."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys

import pytest

from testing.builders import forms
from testing.builders.submission import nomination_mail, photo_jpeg
from testing.disks import DIE_AFTER_TABLES_ENV, MIGRATION_KILL_LAUNCHER, tmpfs
from testing.faults import Service, brisk_config, fault_rounds
from testing.service import ARRIVED, intake, nomination, person, records


def test_killed_in_every_round_it_files_each_message_once_and_answers_each(tmp_path, make_dovecot):
    outcome = fault_rounds(make_dovecot(), tmp_path, messages=40, rounds=4)
    print("\n" + outcome.table())
    assert outcome.failures == []


# --- disks that fill up ------------------------------------------------------------------------


def big_nomination() -> bytes:
    """About 2.4 MB: four full-size photos, more than the 1 MB disk has room for."""
    files = [("推荐表.docx", forms.bayu_form_docx(person(1))), ("事迹材料.docx", forms.writeup_docx(900))]
    files += [(f"照片{i}.jpg", photo_jpeg(50 + i, size=(1200, 900))) for i in range(4)]
    return nomination_mail(files, message_id="<big@unit.example.cn>", sender="单位1 <unit1@example.cn>")


def test_a_full_blob_disk_files_nothing_and_the_mail_is_taken_once_there_is_room(tmp_path, mailbox, smtp_server):
    for raw in (nomination(0), big_nomination(), nomination(2)):
        mailbox.append(raw, internaldate=ARRIVED)
    config = brisk_config(tmp_path, mailbox, smtp_server)
    service = Service(config, tmp_path / "service.out")
    blobs = tmp_path / "data" / "blobs"
    with tmpfs(blobs, "1m") as disk:
        room = None
        if not disk.mounted:  # not root, or no permission: the same ENOSPC, injected at the blob store's write
            print(f"\nmount -t tmpfs refused ({disk.why_not}): ENOSPC injected at the blob store's write instead")
            room = 1 << 20
        process = service.start(blob_free_bytes=room)
        try:
            service.wait_for(lambda: "磁盘已满" in service.log() and service.counts()[1] == 1,
                             "the service to file the first message and find the disk full")
        finally:
            assert service.stop(process) == 0
        # staff read it in the log, in words
        said = {line.split("：", 1)[-1] for line in service.log().splitlines() if "磁盘已满" in line}
        assert said == {f"数据目录 {blobs} 所在磁盘已满，邮件未登记，将在空间释放后重试"}
        assert all(" ERROR [chongqing-bayu-2017] 收取邮件失败" in line
                   for line in service.log().splitlines() if "磁盘已满" in line)
        assert "Traceback" not in service.log() + service.tail()
        assert f"上次收取中断：数据目录 {blobs} 所在磁盘已满" in intake(config, "status").stdout  # and in status
        # nothing recorded for it, and no half-written file left behind
        messages, nominees, replies = records(config)
        assert [m.message_id for m in messages] == ["<n0@unit.example.cn>"]
        assert len(nominees) == 1 and [r.state for r in replies] == ["sent"]
        assert [p.name for p in blobs.rglob("*") if p.is_file()] == [messages[0].raw_sha256]
        # the big one, and the one behind it, wait in the inbox
        waiting = [raw for _flags, raw in mailbox.messages("INBOX").values()]
        assert len(waiting) == 2 and b"<big@unit.example.cn>" in waiting[0]

        if disk.mounted:
            disk.resize("16m")
        intake(config, "poll", "--once")
        messages, nominees, replies = records(config)
        assert [f.name for f in (blobs).rglob("*") if f.is_file() and ".tmp" in f.name] == []
    assert [m.message_id for m in messages] == ["<n0@unit.example.cn>", "<big@unit.example.cn>", "<n2@unit.example.cn>"]
    assert [n.intake_number for n in nominees] == ["BYGJ-2017-0001", "BYGJ-2017-0002", "BYGJ-2017-0003"]
    assert [r.state for r in replies] == ["sent"] * 3 and len(smtp_server.messages) == 3
    assert mailbox.messages("INBOX") == {}
    assert "上次收取中断" not in intake(config, "status").stdout


@pytest.mark.parametrize("room", [0, 40_000, 100_000], ids=["at-start", "at-the-ledger", "at-filing"])
def test_a_full_database_disk_loses_no_mail_and_files_none_by_half(tmp_path, mailbox, smtp_server, room):
    """Where the full disk strikes depends on the room left (opening the WAL, committing the ledger
    row, committing the filing); wherever it does, the mail waits and is filed once later."""
    folder = tmp_path / "database"
    with tmpfs(folder, "2m") as disk:
        if not disk.mounted:
            pytest.skip(f"needs a small real filesystem for SQLite, and mount -t tmpfs was refused: {disk.why_not}")
        config = brisk_config(tmp_path, mailbox, smtp_server, database_url=f"sqlite:///{folder / 'intake.sqlite3'}")
        mailbox.append(nomination(0), internaldate=ARRIVED)
        intake(config, "poll", "--once")
        filler = folder / "filler"
        with open(filler, "wb", buffering=0) as handle:
            with pytest.raises(OSError):
                while True:
                    handle.write(b"\0" * 65536)
        os.truncate(filler, filler.stat().st_size - room)
        mailbox.append(nomination(1), internaldate=ARRIVED)

        full = intake(config, "poll", "--once", check=False)
        filler.unlink()
        told = full.stdout + full.stderr
        assert "磁盘已满" in told and "已损坏" not in told and "移走" not in told  # not sent to delete a sound database
        assert person(1).id_number not in told
        assert "Traceback" not in full.stderr  # `poll --once` says it in words
        messages, nominees, replies = records(config)
        assert [m.state for m in messages][:1] == ["filed"] and len(nominees) == len(replies) == 1
        assert all(m.state in ("fetched", "failed") for m in messages[1:])  # taken, not filed: retried
        assert len(mailbox.messages("INBOX")) == 1

        intake(config, "poll", "--once")
        messages, nominees, replies = records(config)
    assert [(m.state, m.message_id) for m in messages] == [("filed", "<n0@unit.example.cn>"),
                                                           ("filed", "<n1@unit.example.cn>")]
    assert [n.intake_number for n in nominees] == ["BYGJ-2017-0001", "BYGJ-2017-0002"]
    assert len(smtp_server.messages) == 2 and mailbox.messages("INBOX") == {}


# --- the database at start ---------------------------------------------------------------------


def test_killed_while_it_makes_its_database_it_starts_next_time(tmp_path, mailbox, smtp_server):
    mailbox.append(nomination(0), internaldate=ARRIVED)
    config = brisk_config(tmp_path, mailbox, smtp_server)
    env = {**os.environ, DIE_AFTER_TABLES_ENV: "3"}
    killed = subprocess.run([sys.executable, "-c", MIGRATION_KILL_LAUNCHER, "poll", "--once", "--config", str(config)],
                            capture_output=True, env=env, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert "登记 1 封" in intake(config, "poll", "--once").stdout
    assert [n.intake_number for n in records(config)[1]] == ["BYGJ-2017-0001"]


@pytest.mark.parametrize("damage", ["truncated", "middle pages overwritten"])
def test_a_damaged_database_is_refused_at_start_in_words_and_left_as_it_is(tmp_path, mailbox, smtp_server, damage):
    """tests/test_storage_filing.py covers every page scribbled and a file that is not SQLite at
    all, at the storage layer; here the two other common damages, as the commands show them."""
    for n in range(3):
        mailbox.append(nomination(n), internaldate=ARRIVED)
    config = brisk_config(tmp_path, mailbox, smtp_server)
    intake(config, "poll", "--once")
    path = tmp_path / "data" / "intake.sqlite3"
    data = bytearray(path.read_bytes())
    pages = len(data) // 4096
    if damage == "truncated":
        del data[len(data) // 2:]
    else:
        rng = random.Random(11)
        for page in range(pages // 3, 2 * pages // 3):
            data[page * 4096:(page + 1) * 4096] = rng.randbytes(4096)
    path.write_bytes(bytes(data))
    mailbox.append(nomination(3), internaldate=ARRIVED)
    for command in (["poll", "--once"], ["status"], ["run"]):
        refused = intake(config, *command, check=False)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert f"数据库文件已损坏（{path}）" in refused.stderr or f"数据库文件已损坏或不是数据库（{path}）" in refused.stderr
        assert "请从备份恢复" in refused.stderr
    assert path.read_bytes() == bytes(data)  # nothing written into it, so a recovery starts from what was there
    assert len(mailbox.messages("INBOX")) == 1  # the new mail waits
