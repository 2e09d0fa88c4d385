"""Follow-ups: a mail that completes an earlier, open nomination is judged together with that nominee's files.

Senders answer a rejection with only what was asked for (补发照片, 更正后的推荐表). Judged alone
such a mail would be FORM_MISSING; judged with the nominee's earlier files it is the
nomination as it now stands. A mail continues an earlier nominee only when it cannot be
someone else's:

- it carries a form of the same person (ID number; else name and employer) as an open nominee,
  and is not complete on its own (then it is a resubmission, filed as such);
- it carries no form and answers our reply to that nominee's mail (In-Reply-To/References),
  which had that one open nominee or names that one in this mail;
- it carries no form, its sender has exactly one open nominee, and its subject, body or file
  names name that person or say it is a 补充/补发.

A form for a different person is a new nominee, always. A mail that could continue more than
one nominee, or none it names, is judged alone and staff are told (ASSIGNMENT_AMBIGUOUS naming
the earlier nominees). Completing needs the same sender as the earlier mail, not failing our
server's checks where the earlier one passed them: otherwise it is judged alone, staff are told
and its reply is held (a spoofed From must not take over a unit's submission).

What the follow-up brings replaces the same kind of file among the nominee's files (a corrected
form the form, a write-up the write-up, a video the video, a full set of photos the photos);
everything else is kept, each file recorded against the mail it came in (storage/stored.py).
Time of receipt is the follow-up's: the nomination is complete only when its last piece arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel import Session, select

from campaigns.schema import Profile
from ingest.types import Attachment, Message
from storage.models import AttachmentRow, FindingRow, MessageRow, NomineeRow, ReplyRow
from storage.stored import Shelf
from validators.evaluate import Verdict
from validators.findings import finding
from validators.memory import identity_key
from validators.status import message_status

OPEN = ("rejected", "needs_review")
# what a sender writes when sending the rest of a nomination
SUPPLEMENT_WORDS = ("补充", "补发", "补交", "补传", "补正", "补齐", "更正", "重新发送", "重发")


class LinkChanged(Exception):
    """The nominee a follow-up completes changed between its judging and its filing (a staff
    decision in between): the message is filed on a later try."""


@dataclass(frozen=True)
class Together:
    """A follow-up judged with the files of the nominee it completes."""

    completes: int  # the nominee's record id
    verdict: Verdict


@dataclass(frozen=True)
class Link:
    """What this mail is to the earlier nominations."""

    completes: NomineeRow | None = None  # judged together with this nominee's files
    unclear: tuple[NomineeRow, ...] = ()  # it may complete one of these: judged alone, staff told
    other_sender: NomineeRow | None = None  # it would complete this one, but another sender sent it

    @property
    def doubtful(self) -> bool:
        return bool(self.unclear) or self.other_sender is not None


def link(session: Session, row: MessageRow, verdict: Verdict) -> Link:
    """How the mail filed as `row` relates to the campaign's open nominees (see the module's docstring)."""
    if verdict.status == "ignored":
        return Link()
    if verdict.nominees:
        return _by_form(session, row, verdict)
    answered = answered_message(session, verdict.message, row.campaign_id)
    candidates = _open_of_message(session, answered) if answered else _open_of_sender(session, row)
    if not candidates:
        return Link()
    named = [c for c in candidates if c.name and c.name in _text_of(verdict.message)]
    chosen = _chosen(candidates, named, answered is not None, _says_supplement(verdict.message))
    if chosen is None:
        return Link(unclear=tuple(candidates))
    return _if_same_sender(session, row, chosen)


def _chosen(candidates: list[NomineeRow], named: list[NomineeRow], answered: bool,
            says_supplement: bool) -> NomineeRow | None:
    if len(named) == 1:
        return named[0] if answered or len(candidates) == 1 else None
    if len(candidates) == 1 and (answered or says_supplement) and not named:
        return candidates[0]
    return None


def _by_form(session: Session, row: MessageRow, verdict: Verdict) -> Link:
    """A mail with a form continues only the open nominee that is the same person, one person alone."""
    if len(verdict.nominees) != 1 or verdict.status == "accepted":
        return Link()  # a batch of forms, or complete on its own: judged alone (resubmissions as usual)
    key = identity_key(verdict.nominees[0].nominee.fields)
    if key is None:
        return Link()
    earlier = session.exec(select(NomineeRow).where(
        NomineeRow.campaign_id == row.campaign_id, NomineeRow.identity_key == key,
        NomineeRow.superseded_by.is_(None), NomineeRow.status.in_(OPEN), NomineeRow.message_id != row.id)
        .order_by(NomineeRow.id.desc())).first()
    return Link() if earlier is None else _if_same_sender(session, row, earlier)


def _if_same_sender(session: Session, row: MessageRow, earlier: NomineeRow) -> Link:
    first = session.get(MessageRow, earlier.message_id)
    same = bool(row.from_addr) and (first.from_addr or "").lower() == row.from_addr.lower()
    trusted = row.sender_check != "fail" and not (first.sender_check == "pass" and row.sender_check != "pass")
    return Link(completes=earlier) if same and trusted else Link(other_sender=earlier)


def answered_message(session: Session, message: Message, campaign_id: str) -> MessageRow | None:
    """The earlier message whose reply this mail answers (In-Reply-To/References)."""
    ids = _message_ids(message.header("In-Reply-To")) + _message_ids(message.header("References"))
    if not ids:
        return None
    reply = session.exec(select(ReplyRow).where(ReplyRow.reply_message_id.in_(ids))
                         .order_by(ReplyRow.id.desc())).first()
    if reply is None or reply.message_id is None:
        return None
    original = session.get(MessageRow, reply.message_id)
    return original if original is not None and original.campaign_id == campaign_id else None


def _message_ids(text: str | None) -> list[str]:
    return [part for part in (text or "").replace(",", " ").split() if part.startswith("<")]


def _current(session: Session, row: NomineeRow) -> NomineeRow:
    """The filing that stands for this person now (a follow-up's filing supersedes the one it completed)."""
    seen = set()
    while row.superseded_by is not None and row.id not in seen:
        seen.add(row.id)
        row = session.get(NomineeRow, row.superseded_by)
    return row


def _open_of_message(session: Session, message: MessageRow) -> list[NomineeRow]:
    rows = session.exec(select(NomineeRow).where(NomineeRow.message_id == message.id)).all()
    current = {c.id: c for c in (_current(session, r) for r in rows)}
    return [c for c in current.values() if c.status in OPEN and c.superseded_by is None]


def _open_of_sender(session: Session, row: MessageRow) -> list[NomineeRow]:
    if not row.from_addr:
        return []
    return list(session.exec(select(NomineeRow).join(MessageRow, MessageRow.id == NomineeRow.message_id).where(
        NomineeRow.campaign_id == row.campaign_id, NomineeRow.superseded_by.is_(None),
        NomineeRow.status.in_(OPEN), MessageRow.from_addr == row.from_addr, MessageRow.id != row.id)
        .order_by(NomineeRow.id)).all())


def _text_of(message: Message) -> str:
    return " ".join([message.subject or "", message.body_text[:4000], *(a.path for a in message.attachments)])


def _says_supplement(message: Message) -> bool:
    text = _text_of(message)
    return any(word in text for word in SUPPLEMENT_WORDS)


def nothing_new(session: Session, row: MessageRow, verdict: Verdict) -> bool:
    """An answer to our reply that brings no file or link this sender had not sent before: an
    auto-responder re-sending its logo or its signature's 网盘 link. It gets no reply, so that
    the ping-pong stops after one."""
    if verdict.status == "ignored" or answered_message(session, verdict.message, row.campaign_id) is None:
        return False
    earlier = select(MessageRow.id).where(MessageRow.campaign_id == row.campaign_id,
                                          MessageRow.from_addr == row.from_addr, MessageRow.id != row.id)
    seen_files = set(session.exec(select(AttachmentRow.sha256).where(AttachmentRow.message_id.in_(earlier))).all())
    seen_links = {str(detail.get("url")) for detail in session.exec(select(FindingRow.detail).where(
        FindingRow.message_id.in_(earlier), FindingRow.code == "LINK_ATTACHMENT")).all()}
    files = {a.sha256 for a in verdict.message.attachments if not (a.inline and a.content_id)}
    links = {link.url for link in verdict.submission.links}
    return files <= seen_files and links <= seen_links


# --- the files judged together ---------------------------------------------------------------


def with_kept_files(shelf: Shelf, earlier: NomineeRow, followup: Verdict, profile: Profile) -> Message:
    """The follow-up's mail with the files it does not replace of the nominee it completes, to be
    judged as one (by a judging worker: service/judging.py)."""
    new_roles = {f.role for f in followup.submission.all_files()}
    new_hashes = {a.sha256 for a in followup.message.attachments}
    full_photo_set = sum(1 for f in followup.submission.all_files() if f.role == "photo") >= profile.media.photos_min
    kept: list[Attachment] = []
    for record, attachment in shelf.attachments_of(earlier.id):
        if attachment is not None and not _replaced(record, new_roles, new_hashes, full_photo_set):
            kept.append(replace(attachment, kept_from=record.message_id))
    message = followup.message
    return replace(message, attachments=tuple(kept) + message.attachments)


def _replaced(record: AttachmentRow, new_roles: set[str], new_hashes: set[str], full_photo_set: bool) -> bool:
    if record.sha256 in new_hashes:
        return True  # sent again: the new copy stands
    if record.role == "photo":
        return full_photo_set
    return record.role in new_roles and record.role in ("form", "form_scan", "writeup", "video")


def with_doubt(verdict: Verdict, found: Link) -> Verdict:
    """The mail judged alone, with a finding that tells staff which earlier nominees it may complete."""
    earlier = found.unclear or (found.other_sender,)
    reason = "other_sender" if found.other_sender is not None else "followup_unclear"
    names = "、".join(f"#{n.id} {n.name or '（姓名未识别）'}" for n in earlier)
    doubt = finding("ASSIGNMENT_AMBIGUOUS", detail={"reason": reason, "earlier": [n.id for n in earlier]},
                    filename="", reason=reason, names=names)
    findings = verdict.findings + (doubt,)
    status = message_status([f.severity for f in findings], [n.status for n in verdict.nominees])
    return replace(verdict, findings=findings, status=status)
