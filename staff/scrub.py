"""Purge's part in the database: a finished campaign's personal numbers replaced by their masked form.

The records stay (who was nominated, what was found, what staff decided), but after purge no
ID number or phone number of the campaign is left in full: not in the form's fields, the
identity key resubmissions were matched on, staff corrections, file names, finding texts or
the subjects the mail came with. Then the database file is rewritten, so that the old values
are not left behind in free pages or the write-ahead log.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from nominees.masking import mask_id_number, mask_numbers_in, mask_phone
from storage.models import AttachmentRow, AuditRow, FieldCorrectionRow, FindingRow, MessageRow, NomineeRow

_ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
# audit notes that are paths staff chose or the service made (a timestamp is no phone number)
_PATH_NOTES = ("files_written_out", "exported", "ranked", "purged")
TABLES = ("message", "nominee", "attachment", "finding", "field_correction", "audit")


def ids_masked(text: str) -> str:
    """Only what is an ID number masked: free text (a write-up, a unit's opinion) keeps its figures."""
    return _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)


def masked_field(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name == "id_number":
        return mask_id_number(value) if "*" not in value else value
    if name == "phone":
        return mask_phone(value) if "*" not in value else value
    return ids_masked(value)


def _masked_json(value: Any) -> Any:
    if isinstance(value, str):
        return mask_numbers_in(value)
    if isinstance(value, dict):
        return {key: _masked_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked_json(item) for item in value]
    return value


def _changed(row, counts: Counter, kind: str, **values) -> None:
    """Set the values that differ; count the row once."""
    changes = {key: value for key, value in values.items() if getattr(row, key) != value}
    for key, value in changes.items():
        setattr(row, key, value)
    if changes:
        counts[kind] += 1


def scrub_campaign(session: Session, campaign_id: str, message_ids: list[int]) -> Counter:
    """Mask the campaign's personal numbers in place; how many rows of each kind changed."""
    counts: Counter = Counter()
    nominees = session.exec(select(NomineeRow).where(NomineeRow.campaign_id == campaign_id)).all()
    for row in nominees:
        key = row.identity_key
        if key.startswith("id:"):
            key = "id:" + masked_field("id_number", key[3:])
        _changed(row, counts, "被推荐人", identity_key=key, name=ids_masked(row.name),
                 fields={name: masked_field(name, value) for name, value in (row.fields or {}).items()})
    nominee_ids = [row.id for row in nominees]
    for fix in session.exec(select(FieldCorrectionRow).where(FieldCorrectionRow.nominee_id.in_(nominee_ids))).all():
        _changed(fix, counts, "更正记录", old_value=masked_field(fix.field_name, fix.old_value),
                 new_value=masked_field(fix.field_name, fix.new_value))
    for message in session.exec(select(MessageRow).where(MessageRow.id.in_(message_ids))).all():
        _changed(message, counts, "邮件", subject=mask_numbers_in(message.subject),
                 last_error=mask_numbers_in(message.last_error) if message.last_error else message.last_error)
    for attachment in session.exec(select(AttachmentRow).where(AttachmentRow.message_id.in_(message_ids))).all():
        _changed(attachment, counts, "附件", path=mask_numbers_in(attachment.path),
                 filename=mask_numbers_in(attachment.filename), probe=_masked_json(attachment.probe))
    for finding in session.exec(select(FindingRow).where(FindingRow.message_id.in_(message_ids))).all():
        _changed(finding, counts, "问题", text=mask_numbers_in(finding.text), detail=_masked_json(finding.detail))
    trail = [*session.exec(select(AuditRow).where(AuditRow.entity == "nominee", AuditRow.entity_id.in_(nominee_ids))),
             *session.exec(select(AuditRow).where(AuditRow.entity == "message", AuditRow.entity_id.in_(message_ids)))]
    for entry in trail:
        if entry.action not in _PATH_NOTES:
            _changed(entry, counts, "处理记录", note=mask_numbers_in(entry.note))
    return counts


def compact(engine: Engine) -> str | None:
    """Rewrite the database so that the old values are gone from its files; what could not be done."""
    try:
        return _compact(engine)
    except OperationalError as exc:  # the running service holds the database: the masking stands
        return f"数据库未能重写（{exc.orig}），旧值可能还在其空闲页和预写日志中；停止服务后再运行一次 purge"


def _compact(engine: Engine) -> str | None:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("VACUUM")
            busy, *_ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if busy:
                return (f"{engine.url.database}-wal：另一个进程（运行中的服务？）正在读数据库，预写日志未能清空，"
                        "旧值可能还在其中；停止服务后再运行一次 purge")
            return None
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"VACUUM FULL {', '.join(TABLES)}")
            return "PostgreSQL：表已重写，但数据库的预写日志（WAL）归档和备份中仍可能有旧值，请按其保留期限清除"
    return None
