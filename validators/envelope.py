"""Rules about the e-mail itself: automatic mail, and when it arrived."""

from __future__ import annotations

import re

from campaigns.schema import Profile
from ingest.types import Message
from validators.findings import Finding, finding

# RFC 3834 and what real autoresponders send instead of it
_AUTOMATIC_HEADERS = ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autoreply-from", "x-mail-autoreply")
_BULK_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)@", re.I)
_AUTOMATIC_SUBJECT = re.compile(
    r"^\s*(自动回复|自動回覆|自动答复|系统退信|退信|Auto(matic)?[ -]?(reply|response)|Out of (the )?Office"
    r"|Undeliver(able|ed)|Delivery Status Notification|Returned mail|Mail delivery failed)",
    re.I,
)


def _automatic_reason(message: Message) -> str | None:
    auto_submitted = (message.header("Auto-Submitted") or "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    if message.content_type == "multipart/report":
        return "multipart/report"
    if message.from_addr and _BOUNCE_SENDERS.match(message.from_addr):
        return f"from {message.from_addr}"
    if (message.header("Return-Path") or "").strip() == "<>":
        return "Return-Path: <>"
    precedence = (message.header("Precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _AUTOMATIC_HEADERS:
        if message.header(name) is not None:
            return name
    if message.header("List-Id") or message.header("List-Unsubscribe"):
        return "mailing list"
    if _AUTOMATIC_SUBJECT.match(message.subject or ""):
        return "subject"
    return None


def auto_reply(message: Message, profile: Profile) -> list[Finding]:
    """Auto-replies, bounces and list mail are never judged and never answered."""
    reason = _automatic_reason(message)
    return [finding("AUTO_REPLY", detail={"reason": reason})] if reason else []


def late(message: Message, profile: Profile) -> list[Finding]:
    """Received at or after the deadline instant, by the mail server's clock."""
    if message.received_at < profile.deadline:
        return []
    shown = message.received_at.astimezone(profile.deadline.tzinfo).strftime("%Y年%m月%d日%H:%M")
    return [finding("LATE", received_at=shown, deadline_text=profile.deadline_text)]
