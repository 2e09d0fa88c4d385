"""Staff correct a misread form field: the nominee is judged again with every correction laid over the form."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session, select

from campaigns.schema import FIELD_NAMES, Profile
from core.times import shown
from nominees.masking import mask_id_number, mask_numbers_in, mask_phone
from nominees.normalise import (
    channel_id,
    clean_gender,
    clean_id_number,
    clean_name,
    clean_text,
    clean_yes_no,
    phone_candidates,
)
from nominees.types import Nominee
from parsers.wordcount import count_chars
from service.runtime import Runtime
from staff.answer import ANSWER, Answering, answer_and_commit, refresh_message_status
from staff.decisions import Outcome, supersede
from staff.lookup import ReviewError, current_nominee
from staff.rejudge import rejudged
from storage.db import session as new_session
from storage.filing import NUMBERED, audit, finding_row, next_intake_number
from storage.models import FieldCorrectionRow, MessageRow, NomineeRow
from storage.queries import awaiting_choice, earlier_filing, findings_of
from validators.evaluate import NomineeVerdict, evaluate
from validators.memory import EarlierNominee, identity_key, with_history


def _normalised(field_name: str, value: str, profile: Profile) -> str:
    """A typed value as the form reader would have normalised it (nominees.assemble)."""
    if field_name == "channel":
        if profile.channel_by_id(value.strip()) is not None:
            return value.strip()
        return channel_id(value, profile.channels) or ""
    if field_name == "deeds":
        return value.strip()
    cleaners = {"name": clean_name, "id_number": clean_id_number, "gender": clean_gender, "frontline": clean_yes_no}
    return cleaners.get(field_name, clean_text)(value)


def _corrected(nominee: Nominee, corrections: list[tuple[str, str]], profile: Profile) -> Nominee:
    fields, raw = dict(nominee.fields), dict(nominee.raw_fields)
    writeup = {}
    phones = nominee.phone_numbers
    for field_name, value in corrections:
        raw[field_name] = value
        normalised = _normalised(field_name, value, profile)
        if normalised:
            fields[field_name] = normalised
        else:
            fields.pop(field_name, None)
        if field_name == "phone":
            phones = tuple(phone_candidates(value))
        if field_name == "deeds" and nominee.writeup_source in (None, "推荐表"):
            writeup = {"writeup_text": normalised or None, "writeup_source": "推荐表" if normalised else None,
                       "writeup_chars": count_chars(normalised) if normalised else None, "writeup_referenced": False}
    return replace(nominee, fields=fields, raw_fields=raw, phone_numbers=phones, **writeup)


def masked_value(field_name: str, value: str | None) -> str:
    """A field's value as command output and the audit note show it (CONTRACT §5)."""
    if not value:
        return "（空）"
    if field_name == "id_number":
        return mask_id_number(value)
    if field_name == "phone":
        numbers = phone_candidates(value)
        return "、".join(mask_phone(n) for n in numbers) if numbers else mask_phone(re.sub(r"\s", "", value))
    return mask_numbers_in(value)


def _rejudged(runtime: Runtime, message: MessageRow, position: int, corrections: list[tuple[str, str]],
              earlier: NomineeRow | None) -> NomineeVerdict:
    """The nominee judged again from the stored mail, the staff's corrections laid over the form."""
    profile = runtime.profile
    verdict = rejudged(runtime, message)
    if verdict is None:
        raise ReviewError(f"邮件 M{message.id} 的原始邮件已删除（intake purge），无法重新审核")
    judged = next((n for n in verdict.nominees if n.nominee.index == position), None)
    if judged is None:
        raise ReviewError(f"重新读取邮件 #{message.id} 时没有找到第 {position + 1} 位被推荐人，无法更正")
    corrected = _corrected(judged.nominee, corrections, profile)
    again = evaluate(replace(verdict.submission, nominees=tuple(
        corrected if n.index == position else n for n in verdict.submission.nominees)), profile)
    if earlier is not None:
        again = with_history(again, {position: EarlierNominee(
            earlier.id, earlier.status, earlier.intake_number, shown(earlier.created_at))})
    return next(n for n in again.nominees if n.nominee.index == position)


def correct(runtime: Runtime, key: str, field_name: str, value: str, actor: str, now: datetime,
            answering: Answering = ANSWER) -> Outcome:
    """Correct a misread field and run the rules for that nominee again (the mail is read again
    from the stored bytes, every staff correction of the nominee laid over what the form said)."""
    if field_name not in FIELD_NAMES:
        raise ReviewError(f"没有字段 {field_name}；可用：{', '.join(FIELD_NAMES)}")
    with new_session(runtime.engine) as session:
        row = current_nominee(session, runtime.profile.id, key)
        message = session.get(MessageRow, row.message_id)
        earlier = awaiting_choice(session, row) or earlier_filing(session, row)
        corrections = [(c.field_name, c.new_value) for c in session.exec(select(FieldCorrectionRow).where(
            FieldCorrectionRow.nominee_id == row.id).order_by(FieldCorrectionRow.id)).all()]
    new = _rejudged(runtime, message, row.position, corrections + [(field_name, value)], earlier)
    with new_session(runtime.engine) as session:
        row = current_nominee(session, runtime.profile.id, str(row.id))
        message = session.get(MessageRow, row.message_id)
        before, old_value = row.status, (row.fields or {}).get(field_name)
        session.add(FieldCorrectionRow(nominee_id=row.id, field_name=field_name, old_value=old_value,
                                       new_value=value, actor=actor, at=now))
        _file_rejudged(session, runtime.profile, row, message, new, keep_resubmission=earlier is None)
        audit(session, "nominee", row.id, "corrected", before, row.status, actor=actor,
              note=f"{field_name}: {masked_value(field_name, old_value)} → {masked_value(field_name, value)}")
        if earlier is not None and not any(f.code == "RESUBMISSION" and f.severity == "review" for f in new.findings):
            supersede(session, session.get(NomineeRow, earlier.id), row, actor,
                       "no longer worse after a staff correction")
        refresh_message_status(session, message, actor, f"nominee {row.id} corrected")
        reply, superseded = None, ()
        if row.status != before:
            reply, superseded = answer_and_commit(session, runtime, message, actor, now, answering)
        else:
            session.commit()
        return Outcome(row, before, message, reply, superseded, tuple(findings_of(session, row.id)),
                       rules_status=new.status)


def _file_rejudged(session: Session, profile: Profile, row: NomineeRow, message: MessageRow,
                   new: NomineeVerdict, keep_resubmission: bool) -> None:
    """The nominee's record as the rules now see it; a staff decision stands until staff decide again.
    An earlier RESUBMISSION note (the filing it replaced) is kept when no choice is pending."""
    for stale in findings_of(session, row.id):
        if not (keep_resubmission and stale.code == "RESUBMISSION"):
            session.delete(stale)
    session.flush()
    session.add_all(finding_row(message.id, row.id, f) for f in new.findings)
    fields = new.nominee.fields
    row.fields = dict(fields)
    row.name, row.employer = fields.get("name", ""), fields.get("employer", "")
    row.channel, row.recommending_unit = fields.get("channel"), fields.get("recommending_unit")
    row.identity_key = identity_key(fields) or row.identity_key
    row.writeup_chars = new.nominee.writeup_chars
    if row.decision not in ("accepted", "rejected"):
        row.status = new.status
    if row.status in NUMBERED and not row.intake_number:
        row.intake_number = next_intake_number(session, profile)
    session.add(row)
    session.flush()
