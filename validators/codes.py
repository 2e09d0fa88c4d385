"""Every finding code of CONTRACT §3 with its level and usual severity, in one table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["message", "nominee"]
Severity = Literal["ignore", "reject", "review", "info"]


@dataclass(frozen=True)
class Code:
    name: str
    level: Level
    severity: Severity


CODES: dict[str, Code] = {
    c.name: c
    for c in (
        Code("AUTO_REPLY", "message", "ignore"),
        Code("NOT_SUBMISSION", "message", "ignore"),
        Code("DUPLICATE_MESSAGE", "message", "ignore"),
        Code("LATE", "message", "reject"),
        Code("FORM_MISSING", "message", "reject"),
        Code("FORM_UNREADABLE", "nominee", "reject"),
        Code("ATTACHMENT_UNSAFE", "message", "reject"),
        Code("ATTACHMENT_UNSUPPORTED", "message", "info"),
        Code("LINK_ATTACHMENT", "nominee", "review"),
        Code("ASSIGNMENT_AMBIGUOUS", "message", "review"),
        Code("FIELD_MISSING", "nominee", "reject"),
        Code("ID_NUMBER_INVALID", "nominee", "reject"),
        Code("PHONE_INVALID", "nominee", "reject"),
        Code("MEDIA_MISSING", "nominee", "reject"),
        Code("PHOTO_COUNT", "nominee", "reject"),
        Code("VIDEO_FORMAT", "nominee", "reject"),
        Code("VIDEO_DURATION", "nominee", "reject"),
        Code("MEDIA_CORRUPT", "nominee", "reject"),
        Code("WRITEUP_MISSING", "nominee", "reject"),
        Code("WRITEUP_TOO_LONG", "nominee", "reject"),
        Code("SEAL_MISSING", "nominee", "reject"),
        Code("SEAL_UNCERTAIN", "nominee", "review"),
        Code("RESUBMISSION", "nominee", "info"),
    )
}

# worst first: a nominee's or message's status is the first severity it has in this order
SEVERITY_ORDER: tuple[Severity, ...] = ("ignore", "reject", "review", "info")
