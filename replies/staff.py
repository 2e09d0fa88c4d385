"""The reply to a staff decision: the usual reply's headers and lists, a body that says what staff decided."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from campaigns.schema import Profile
from replies.compose import compose_reply, environment, reply_view
from validators.evaluate import Verdict


@dataclass(frozen=True)
class StaffNote:
    """What staff decided about one nominee, for the reply (the wording is in the templates)."""

    label: str
    decision: str | None  # accepted, rejected, kept_earlier, kept_later; None: only corrected
    reason: str  # masked
    intake_number: str | None
    corrected_fields: tuple[str, ...] = ()  # field names staff corrected


def compose_staff_reply(verdict: Verdict, profile: Profile, *, intake_numbers: list[str | None], from_addr: str,
                        now: datetime, notes: list[StaffNote]) -> EmailMessage:
    """The reply to a staff decision: the headers of `compose_reply`, a body that says staff decided."""
    email = compose_reply(verdict, profile, intake_numbers=intake_numbers, from_addr=from_addr, now=now)
    view = reply_view(verdict, profile, intake_numbers, now)
    env = environment(profile.replies.template_set)
    subject = " ".join(env.get_template("subject.j2").render(reply=view).split())
    body = env.get_template(f"staff_{view.status}.j2").render(reply=view, staff=notes)
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    email.replace_header("Subject", subject)
    email.set_content(body, charset="utf-8", cte="base64")
    return email
