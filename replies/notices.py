"""Mail written by staff or for them, not judged: an answer to a question, a notice to the office.

An answer is a person's reply, so it carries no `Auto-Submitted`; it is in the asker's thread.
A notice (the daily digest) goes to the office's own addresses only, never to a sender.
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from campaigns.schema import Profile
from core.times import beijing
from ingest.types import Message
from replies.compose import original_subject, threaded


def _signature(profile: Profile, now: datetime) -> str:
    local = beijing(now)
    return f"{profile.replies.sender_name}\n{local.year}年{local.month}月{local.day}日"


def compose_answer(question: Message, text: str, profile: Profile, *, from_addr: str, now: datetime) -> EmailMessage:
    """Staff's plain answer to a question, in its thread, signed by the campaign's office."""
    subject = "回复：" + (original_subject(question.subject or "") or f"{profile.title}咨询")
    email = threaded(question, profile, from_addr=from_addr, now=now, subject=subject)
    email["Content-Language"] = "zh-CN"
    email.set_content(f"{text.strip()}\n\n{_signature(profile, now)}\n", charset="utf-8", cte="base64")
    return email


def compose_notice(profile: Profile, *, to: str, subject: str, body: str, from_addr: str, now: datetime) -> EmailMessage:
    """A notice to the office (the daily digest): plain text, from the campaign's address."""
    email = EmailMessage(policy=SMTP)
    email["From"] = Address(profile.replies.sender_name, addr_spec=from_addr)
    email["To"] = to
    email["Subject"] = subject
    email["Date"] = format_datetime(beijing(now))
    domain = from_addr.rsplit("@", 1)[1] if "@" in from_addr else "localhost"
    email["Message-ID"] = make_msgid(idstring="intake-notice", domain=domain)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: made by the service, answer with care
    email["Content-Language"] = "zh-CN"
    email.set_content(body, charset="utf-8", cte="base64")
    return email
