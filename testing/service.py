"""The service driven as staff run it: a config for a real Dovecot user and SMTP server, `intake` run
as a real process, and the records read back. Tests, benches and the fault runs share these."""

from __future__ import annotations

import email
import os
import subprocess
import sys
from datetime import datetime
from email import policy
from pathlib import Path

from sqlmodel import select

from service.config import load_config
from storage.db import make_engine
from storage.db import session as new_session
from storage.models import MessageRow, NomineeRow, ReplyRow
from testing.builders import forms
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number
from testing.smtp_server import SmtpServer

# the `intake` command, run from this checkout (a test must not depend on which copy is installed)
INTAKE = (sys.executable, "-m", "cli")

ARRIVED = datetime(2017, 4, 20, 10, 0, tzinfo=SHANGHAI)


def person(n: int) -> FormValues:
    return FormValues(name=["张三", "李四", "王五", "赵六", "孙七", "周八"][n % 6] + ("" if n < 6 else str(n)),
                      id_number=id_number(sequence=f"{100 + n:03d}"))


def nomination(n: int, **kwargs) -> bytes:
    files = [("推荐表.docx", forms.bayu_form_docx(person(n))), ("事迹材料.docx", forms.writeup_docx(900))]
    files += [(f"照片{i}.jpg", photo_jpeg(n * 10 + i, size=(96, 72))) for i in range(4)]
    return nomination_mail(files, message_id=f"<n{n}@unit.example.cn>", sender=f"单位{n} <unit{n}@example.cn>",
                           **kwargs)


def write_config(folder: Path, mailbox, smtp: SmtpServer, database_url: str = "", extra: str = "",
                 **replies) -> Path:
    """A config for a real Dovecot user and SMTP server; `extra` adds whole sections ([notify] …)."""
    config = mailbox.config()
    reply_lines = "".join(f"{key} = {value!r}\n" for key, value in replies.items())
    text = f"""
campaign = "chongqing-bayu-2017"
data_path = "{folder / 'data'}"
database_url = "{database_url}"

[mailbox]
kind = "imap"
host = "{config.host}"
port = {config.port}
security = "plain"
username = "{config.username}"
password_file = "{config.password_file}"
timeout_seconds = 5
idle = false

[smtp]
kind = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "plain"
timeout_seconds = 5

[replies]
from_addr = "bygj@cqgh.org"
first_retry_seconds = 0.01
{reply_lines}
[schedule]
first_retry_seconds = 0.01
"""
    path = folder / "intake.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def intake(config: Path, *args: str, failpoint: str | None = None, check: bool = True,
           answers: str = "", clock: str | None = None) -> subprocess.CompletedProcess:
    """`intake ARGS --config CONFIG` as staff run it; `answers` is what they type at its questions,
    `clock` the time it runs at (INTAKE_CLOCK)."""
    env = {k: v for k, v in os.environ.items() if k not in ("INTAKE_FAILPOINT", "INTAKE_CLOCK")}
    if failpoint:
        env["INTAKE_FAILPOINT"] = failpoint
    if clock:
        env["INTAKE_CLOCK"] = clock
    result = subprocess.run([*INTAKE, *args, "--config", str(config)], input=answers,
                            capture_output=True, text=True, timeout=300, env=env)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def poll_in_workers(config: Path, judging_kind=None):
    """One poll in this process, its messages judged in worker processes as the service has them
    (forked from here where this process has one thread, from the fork server where it has more);
    `judging_kind`: a stand-in for service.judging.Judging, made as it is. Returns the judging."""
    from service.intake import Intake
    from service.judging import Judging
    from service.runtime import open_runtime

    runtime = open_runtime(config, None)
    source = runtime.source()
    try:
        with (judging_kind or Judging)(runtime.blobs, runtime.profile) as judging:
            Intake(runtime.config, runtime.profile, runtime.engine, source, blobs=runtime.blobs,
                   judging=judging).poll_once()
    finally:
        source.close()
        runtime.engine.dispose()
    return judging


def records(config: Path):
    engine = make_engine(database_of(config))  # read only: the service itself migrates
    with new_session(engine) as session:
        messages = session.exec(select(MessageRow).order_by(MessageRow.id)).all()
        nominees = session.exec(select(NomineeRow).order_by(NomineeRow.id)).all()
        replies = session.exec(select(ReplyRow).order_by(ReplyRow.id)).all()
    engine.dispose()
    return messages, nominees, replies


def database_of(config: Path) -> str:
    return load_config(config).database


def reply_texts(smtp: SmtpServer) -> dict[str, str]:
    """In-Reply-To → the reply's plain text, for every reply the SMTP server accepted."""
    found = {}
    for received in smtp.messages:
        message = email.message_from_bytes(received.content, policy=policy.default)
        found[message["In-Reply-To"]] = message.get_body(("plain",)).get_content()
    return found


# --- the ordinary day ----------------------------------------------------------------------
