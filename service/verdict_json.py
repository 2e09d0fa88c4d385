"""A verdict as the JSON object of CONTRACT §4, with personal data masked (CONTRACT §5)."""

from __future__ import annotations

from typing import Any

from core.times import SHANGHAI
from nominees.masking import mask_id_number, mask_numbers_in
from nominees.types import NominationFile
from validators.evaluate import NomineeVerdict, Verdict
from validators.findings import Finding

# fields that must never leave the database in full
_MASKERS = {"id_number": mask_id_number, "phone": mask_numbers_in}


def _finding(item: Finding, with_nominee: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"code": item.code, "severity": item.severity}
    if with_nominee:
        data["nominee"] = item.nominee
    data["message"] = mask_numbers_in(item.message)
    data["detail"] = dict(item.detail)
    return data


def _attachment(item: NominationFile) -> dict[str, Any]:
    attachment = item.attachment
    return {
        "filename": attachment.path,
        "role": item.role,
        "media_type": attachment.media_type,
        "sha256": attachment.sha256,
        "bytes": attachment.size,
    }


def masked_fields(fields: dict[str, str]) -> dict[str, str]:
    return {key: _MASKERS.get(key, lambda v: v)(value) for key, value in fields.items()}


def _nominee(verdict: NomineeVerdict) -> dict[str, Any]:
    nominee = verdict.nominee
    fields = {key: value for key, value in nominee.fields.items() if key != "deeds"}
    return {
        "status": verdict.status,
        "fields": masked_fields(fields),
        "attachments": [_attachment(f) for f in nominee.files],
        "seal": verdict.seal,
        "writeup_chars": nominee.writeup_chars,
        "findings": [_finding(f, with_nominee=False) for f in verdict.findings],
    }


def verdict_json(verdict: Verdict, profile_id: str, filename: str | None = None) -> dict[str, Any]:
    message = verdict.message
    submission = verdict.submission
    data: dict[str, Any] = {}
    if filename is not None:
        data["file"] = filename
    data.update(
        {
            "message_id": message.message_id,
            "from": message.from_addr,
            "subject": mask_numbers_in(message.subject),
            "received_at": message.received_at.astimezone(SHANGHAI).isoformat(),
            "campaign": profile_id,
            "status": verdict.status,
            "findings": [_finding(f, with_nominee=True) for f in verdict.findings],
            "nominees": [_nominee(v) for v in verdict.nominees],
        }
    )
    if verdict.status != "ignored":
        # files that belong to no nominee (a 汇总表, a covering letter, unmatched photos)
        data["attachments"] = [_attachment(f) for f in (*submission.shared, *submission.unassigned)]
    return data
