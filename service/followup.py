"""Follow-ups: a mail that completes an earlier submission is judged together with it.

Senders answer a rejection with only what was asked for (补发照片, 更正后的推荐表). Judged
alone such a mail would be FORM_MISSING; judged with the earlier one it is the nomination
as it now stands. What the follow-up brings replaces the same kind of file in the earlier
mail (a corrected form replaces the form, a new write-up the write-up, a video the video, a
full set of photos the photos); everything else of the earlier mail is kept. Time of
receipt is the follow-up's: the nomination is complete only when its last piece arrives.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, select

from campaigns.schema import Profile
from ingest.mime import parse_message
from ingest.types import Attachment, Message
from service.judge import judge_message, read_documents
from storage.models import MessageRow, NomineeRow, ReplyRow
from validators.evaluate import Verdict

_OPEN = ("rejected", "needs_review")


def _message_ids(text: str | None) -> list[str]:
    return [part for part in (text or "").replace(",", " ").split() if part.startswith("<")]


def answered_message(session: Session, message: Message, campaign_id: str) -> MessageRow | None:
    """The earlier message whose reply this mail answers (In-Reply-To/References)."""
    ids = _message_ids(message.header("In-Reply-To")) + _message_ids(message.header("References"))
    if not ids:
        return None
    reply = session.exec(select(ReplyRow).where(ReplyRow.reply_message_id.in_(ids))
                         .order_by(ReplyRow.id.desc())).first()
    if reply is None:
        return None
    original = session.get(MessageRow, reply.message_id)
    return original if original is not None and original.campaign_id == campaign_id else None


def _names_in(verdict: Verdict) -> str:
    message = verdict.message
    read = [n.nominee.name for n in verdict.nominees]
    return " ".join([message.subject or "", message.body_text[:2000], *(a.path for a in message.attachments), *read])


def earlier_from_sender(session: Session, verdict: Verdict, campaign_id: str, before_id: int) -> MessageRow | None:
    """The sender's latest open submission, when this mail names its nominee (or it had only one)."""
    message = verdict.message
    if not message.from_addr:
        return None
    candidates = session.exec(select(MessageRow).where(
        MessageRow.campaign_id == campaign_id, MessageRow.from_addr == message.from_addr,
        MessageRow.state == "filed", MessageRow.status.in_(_OPEN), MessageRow.id < before_id)
        .order_by(MessageRow.id.desc())).all()
    mentioned = _names_in(verdict)
    for row in candidates:
        names = [n for n in session.exec(select(NomineeRow.name).where(NomineeRow.message_id == row.id)).all() if n]
        if len(names) == 1 or any(name in mentioned for name in names):
            return row
    return None


def _replaced(original: Message, followup: Message, profile: Profile) -> set[int]:
    """Indexes of the earlier mail's files that the follow-up brings anew."""
    old_documents = read_documents(original, profile)
    new_kinds = {d.kind for d in read_documents(followup, profile).values() if d.unreadable is None}
    new_categories = [a.category for a in followup.attachments]
    new_hashes = {a.sha256 for a in followup.attachments}
    full_photo_set = new_categories.count("image") >= max(profile.media.photos_min, 1)
    gone = set()
    for index, attachment in enumerate(original.attachments):
        document = old_documents.get(index)
        kind = document.kind if document is not None else None
        file_category = attachment.category
        if (attachment.sha256 in new_hashes
                or (kind in ("form", "writeup") and kind in new_kinds)
                or (file_category == "video" and "video" in new_categories)
                or (file_category == "image" and full_photo_set)):
            gone.add(index)
    return gone


def merged(original: Message, followup: Message, profile: Profile) -> Message:
    gone = _replaced(original, followup, profile)
    kept: tuple[Attachment, ...] = tuple(a for i, a in enumerate(original.attachments) if i not in gone)
    return replace(followup, attachments=kept + followup.attachments,
                   unsafe=original.unsafe + followup.unsafe,
                   unreadable_archives=original.unreadable_archives + followup.unreadable_archives)


def completes(session: Session, row: MessageRow, verdict: Verdict) -> MessageRow | None:
    """The earlier submission this message completes, if it is a follow-up."""
    if verdict.status == "ignored":
        return None
    original = answered_message(session, verdict.message, row.campaign_id)
    if original is None and verdict.status != "accepted":
        # complete on its own, a later mail is a resubmission, not a follow-up
        original = earlier_from_sender(session, verdict, row.campaign_id, row.id)
    if original is None or original.id == row.id or original.state != "filed":
        return None
    return original


def judge_together(original_raw: bytes, original: MessageRow, followup: Message, profile: Profile) -> Verdict:
    earlier = parse_message(original_raw, limits=profile.limits, received_at=original.received_at,
                            received_at_source=original.received_at_source)
    return judge_message(merged(earlier, followup, profile), profile)
