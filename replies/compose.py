"""The one reply to a judged message: a plain-text Chinese e-mail built from the templates.

All wording lives in `replies/templates/<set>/` and `validators/findings.zh.toml`; this module
only gathers what the templates show (a view of the verdict, with personal data masked) and
puts the headers on. It is pure: the same verdict, profile, numbers and clock give the same
text (only the fresh Message-ID differs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from campaigns.schema import Profile
from core import inert
from core.times import beijing
from ingest.types import Attachment, Message
from nominees.masking import mask_numbers_in, masked_line
from replies.addressing import addressing
from validators.evaluate import Verdict
from validators.findings import Finding
from validators.wording import field_label, finding_fix

TEMPLATES = Path(__file__).parent / "templates"
_SET_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
# our own status tags and the reply prefixes mailers add, taken off the original subject so
# that answering our reply does not grow 【需补正】回复：【需补正】…
_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|回复|答复|转发)\s*[:：]\s*|【(?:已受理|需补正|未受理|待人工审核)】\s*)+", re.I)
MAX_REFERENCES = 20  # RFC 5322 §3.6.4 lets a long thread's References be trimmed; keep the first and the latest


# --- the view the templates see -------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One finding as the reply shows it: what we found and what to do about it."""

    code: str
    message: str
    fix: str  # "" where there is nothing to do


@dataclass(frozen=True)
class FileLine:
    path: str  # where the sender put it: 材料.zip/张三/推荐表.docx
    role: str  # form, form_scan, photo, video, writeup, other, unsupported, unassigned
    size: str  # 36 KB
    kept: bool = False  # it came in an earlier mail: a follow-up was judged together with it


@dataclass(frozen=True)
class NomineeView:
    position: int  # 1-based, as the reply numbers them
    label: str  # the name, or 第2位被推荐人 where none was read
    employer: str
    status: str  # accepted, rejected, needs_review
    intake_number: str | None
    problems: tuple[Problem, ...]  # reject findings
    checks: tuple[Problem, ...]  # review findings: what staff will look at
    notes: tuple[Problem, ...]  # info findings
    files: tuple[FileLine, ...]


@dataclass(frozen=True)
class ReplyView:
    status: str
    campaign_title: str
    subject: str  # the original subject, masked, without Re:/our tags
    received_at: str  # 2017年4月10日 09:59, Beijing time
    sent_on: str  # 2017年4月10日
    late: bool  # a LATE finding: nothing can be resent
    closed: bool  # late, or answered after the deadline: a rejection can no longer be put right
    message_problems: tuple[Problem, ...]
    message_checks: tuple[Problem, ...]
    message_notes: tuple[Problem, ...]
    nominees: tuple[NomineeView, ...]
    other_files: tuple[FileLine, ...]  # received, but belonging to no nominee
    deadline_text: str
    mailbox: str
    office_name: str
    office_contacts: tuple[str, ...]
    office_phones: tuple[str, ...]
    office_address: str
    paper_copy: str  # the reminder sentence, "" where the campaign asks for no paper copy
    sender_name: str

    def labels(self, status: str) -> list[str]:
        return [n.label for n in self.nominees if n.status == status]


# --- building the view ----------------------------------------------------------------------


def _shown_time(moment: datetime) -> str:
    local = beijing(moment)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _shown_date(moment: datetime) -> str:
    local = beijing(moment)
    return f"{local.year}年{local.month}月{local.day}日"


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} 字节"
    if count < 1024 * 1024:
        return f"{max(1, round(count / 1024))} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _wording_values(item: Finding, profile: Profile) -> dict[str, Any]:
    """What a finding's `fix` template may name: the campaign's requirements, then its detail."""
    return {
        "form_title": profile.form.title,
        "deadline_text": profile.deadline_text,
        "max_chars": profile.writeup.max_chars,
        "photos_min": profile.media.photos_min,
        "photos_max": profile.media.photos_max,
        "video_min": profile.media.video_min_seconds,
        "video_max": profile.media.video_max_seconds,
        **item.detail,
    }


def problem(item: Finding, profile: Profile) -> Problem:
    """A finding worded for the sender, personal numbers masked (file names carry them too), and
    inert: its sentences quote file names and field values from the mail."""
    fix = finding_fix(item.code, _wording_values(item, profile))
    return Problem(item.code, mask_numbers_in(inert.text(item.message)), mask_numbers_in(inert.text(fix)))


def _by_severity(findings: tuple[Finding, ...], severity: str, profile: Profile) -> tuple[Problem, ...]:
    return tuple(problem(f, profile) for f in findings if f.severity == severity)


def _file_line(attachment: Attachment, role: str) -> FileLine:
    # one line, no control or bidi character: "照片\u202egpj.exe" must not read as "照片exe.jpg"
    return FileLine(_echoed(attachment.path), role, _size(attachment.size), attachment.kept_from is not None)


_echoed = masked_line  # text from the mail as a reply repeats it


def _other_files(verdict: Verdict, claimed: set[int]) -> tuple[FileLine, ...]:
    """Every attachment no nominee holds, so that the sender sees everything that arrived.

    Pictures inline in an HTML body (signature logos) are left out: the sender did not
    attach them.
    """
    submission = verdict.submission
    lines: list[FileLine] = []
    for item in submission.shared:
        claimed.add(id(item.attachment))
        lines.append(_file_line(item.attachment, item.role))
    for item in submission.unassigned:
        claimed.add(id(item.attachment))
        # beside nominees it fits none of them; with no nominee at all it is just what it is
        lines.append(_file_line(item.attachment, "unassigned" if submission.nominees else item.role))
    for attachment in submission.unsupported:
        claimed.add(id(attachment))
        lines.append(_file_line(attachment, "unsupported"))
    for attachment in verdict.message.attachments:
        if id(attachment) in claimed or (attachment.inline and attachment.content_id):
            continue
        claimed.add(id(attachment))
        lines.append(_file_line(attachment, "other"))
    return tuple(lines)


def _nominee_views(verdict: Verdict, intake_numbers: list[str | None], profile: Profile,
                   claimed: set[int]) -> tuple[NomineeView, ...]:
    views = []
    for position, (judged, number) in enumerate(zip(verdict.nominees, intake_numbers), 1):
        nominee = judged.nominee
        for item in nominee.files:
            claimed.add(id(item.attachment))
        views.append(NomineeView(
            position=position,
            label=_echoed(nominee.name) or f"第{position}位被推荐人",
            employer=_echoed(nominee.fields.get("employer", "")),
            status=judged.status,
            intake_number=number,
            # a nominee kept from `rejected` (a worse resubmission of an accepted one goes to
            # staff) still shows its reject findings, as things staff will weigh
            problems=_by_severity(judged.findings, "reject", profile) if judged.status == "rejected" else (),
            checks=_by_severity(judged.findings, "review", profile)
            + (() if judged.status == "rejected" else _by_severity(judged.findings, "reject", profile)),
            notes=_by_severity(judged.findings, "info", profile),
            files=tuple(_file_line(f.attachment, f.role) for f in nominee.files),
        ))
    return tuple(views)


def original_subject(subject: str) -> str:
    """The sender's subject without Re:/回复: prefixes, on one line, controls gone, numbers masked."""
    return _echoed(_SUBJECT_PREFIX.sub("", inert.one_line(subject)))


def reply_view(verdict: Verdict, profile: Profile, intake_numbers: list[str | None], now: datetime) -> ReplyView:
    """What the templates show, built from the verdict: no wording here, only facts."""
    if len(intake_numbers) != len(verdict.nominees):
        raise ValueError(f"{len(intake_numbers)} intake numbers for {len(verdict.nominees)} nominees")
    for judged, number in zip(verdict.nominees, intake_numbers):
        if judged.status == "accepted" and not number:
            raise ValueError(f"accepted nominee {judged.nominee.index} has no intake number")
    claimed: set[int] = set()
    nominees = _nominee_views(verdict, intake_numbers, profile, claimed)
    late = any(f.code == "LATE" for f in verdict.findings)
    return ReplyView(
        status=verdict.status,
        campaign_title=profile.title,
        subject=original_subject(verdict.message.subject),
        received_at=_shown_time(verdict.message.received_at),
        sent_on=_shown_date(now),
        late=late,
        closed=late or now >= profile.deadline,
        message_problems=_by_severity(verdict.findings, "reject", profile),
        message_checks=_by_severity(verdict.findings, "review", profile),
        message_notes=_by_severity(verdict.findings, "info", profile),
        nominees=nominees,
        other_files=_other_files(verdict, claimed),
        deadline_text=profile.deadline_text,
        mailbox=profile.mailbox,
        office_name=profile.office.name,
        office_contacts=profile.office.contacts,
        office_phones=profile.office.phones,
        office_address=profile.office.address,
        paper_copy=profile.paper_copy.instructions if profile.paper_copy.required else "",
        sender_name=profile.replies.sender_name,
    )


# --- templates ------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def environment(template_set: str) -> Environment:
    """The Jinja2 environment of one template set: plain text, so no autoescape; strict."""
    if not _SET_NAME.match(template_set) or not (TEMPLATES / template_set).is_dir():
        raise ValueError(f"no reply template set {template_set!r} in {TEMPLATES}")
    env = Environment(
        loader=FileSystemLoader(TEMPLATES / template_set),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["field_label"] = field_label
    return env


def render(view: ReplyView, template_set: str) -> tuple[str, str]:
    """(subject, body) of the reply for this view."""
    env = environment(template_set)
    subject = " ".join(env.get_template("subject.j2").render(reply=view).split())
    body = env.get_template(f"{view.status}.j2").render(reply=view)
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    return subject, body


# --- the e-mail -----------------------------------------------------------------------------


def _message_ids(value: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def _references(original_references: str | None, message_id: str | None) -> list[str]:
    chain = _message_ids(original_references)
    if message_id and message_id not in chain:
        chain.append(message_id)
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1):]
    return chain


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[1] if "@" in address else "localhost"


def threaded(original: Message, profile: Profile, *, from_addr: str, now: datetime, subject: str) -> EmailMessage:
    """A new e-mail in answer to `original`: addressed to its sender, in its thread (In-Reply-To,
    References), from the campaign with its mailbox as Reply-To; the caller adds the body."""
    to = addressing(original)
    if to.recipient is None:
        raise ValueError("the message has no address to reply to (ask policy.should_never_reply first)")
    email = EmailMessage(policy=SMTP)
    email["From"] = Address(profile.replies.sender_name, addr_spec=from_addr)
    email["To"] = Address(to.name, addr_spec=to.recipient)
    if profile.mailbox.lower() != from_addr.lower():
        # answers to our reply (补发材料) belong in the campaign's mailbox, whatever sends replies
        email["Reply-To"] = Address(profile.replies.sender_name, addr_spec=profile.mailbox)
    email["Subject"] = subject
    email["Date"] = format_datetime(beijing(now))
    email["Message-ID"] = make_msgid(idstring="intake-reply", domain=_domain(from_addr))
    if original.message_id and _message_ids(original.message_id):
        email["In-Reply-To"] = _message_ids(original.message_id)[0]
    references = _references(original.header("References"), (_message_ids(original.message_id) or [None])[0])
    if references:
        email["References"] = " ".join(references)
    return email


def compose_reply(verdict: Verdict, profile: Profile, *, intake_numbers: list[str | None], from_addr: str,
                  now: datetime) -> EmailMessage | None:
    """The one reply to a judged message, or None for an `ignored` one.

    `intake_numbers` runs parallel to `verdict.nominees` (None where a nominee has none);
    every accepted nominee must have one. `now` (timezone-aware) is the Date: of the reply.
    The reply goes to `addressing.addressing` (the envelope sender, Reply-To within its
    organisation); the caller has asked
    `policy.should_never_reply` first, and a message without any usable sender address
    raises ValueError here.

    The e-mail uses the SMTP policy (CRLF line ends), so `as_bytes()` is what goes on the
    wire unchanged; headers are RFC 2047-encoded, the body is UTF-8 in base64, so the bytes
    are pure ASCII and need no 8BITMIME/SMTPUTF8 from the server.
    """
    if verdict.status == "ignored":
        return None
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    view = reply_view(verdict, profile, intake_numbers, now)
    subject, body = render(view, profile.replies.template_set)
    email = threaded(verdict.message, profile, from_addr=from_addr, now=now, subject=subject)
    email["Auto-Submitted"] = "auto-replied"  # RFC 3834: no auto-reply may answer this one
    email["X-Auto-Response-Suppress"] = "All"  # the same, in Exchange's words
    email["Content-Language"] = "zh-CN"
    email.set_content(body, charset="utf-8", cte="base64")
    return email

