"""Rules about the write-up (事迹材料): there is one where required, within the length limit."""

from __future__ import annotations

from campaigns.schema import Profile
from nominees.types import Nominee
from validators.findings import Finding, finding


def writeup_present(nominee: Nominee, profile: Profile) -> list[Finding]:
    if not profile.writeup.required or nominee.writeup_text:
        return []
    if not nominee.readable_forms and not nominee.files_with_role("writeup"):
        return []  # the form itself is the problem; asking for the write-up too would mislead
    ocr = nominee.read_by_ocr and not nominee.files_with_role("writeup")  # 主要事迹 not made out by OCR
    return [finding("WRITEUP_MISSING", nominee.index, severity="review" if ocr else None,
                    detail={"source": "ocr" if ocr else None}, referenced=nominee.writeup_referenced,
                    max_chars=profile.writeup.max_chars)]


def writeup_length(nominee: Nominee, profile: Profile) -> list[Finding]:
    limit = profile.writeup.max_chars
    if limit is None or nominee.writeup_chars is None or nominee.writeup_chars <= limit:
        return []
    return [finding("WRITEUP_TOO_LONG", nominee.index,
                    detail={"chars": nominee.writeup_chars, "filename": nominee.writeup_source}, max_chars=limit)]
