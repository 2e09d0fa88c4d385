"""A nomination as the rules see it: who is nominated, with which files, read how."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ingest.types import Attachment, Message
from parsers.links import LargeAttachmentLink
from parsers.media import MediaProbe
from parsers.seal import SealReading  # light: the detector itself loads only when used
from parsers.types import DocumentUnreadable, ParsedDocument

Role = Literal["form", "form_scan", "photo", "video", "writeup", "other"]


@dataclass(frozen=True)
class NominationFile:
    """An attachment with the part it plays in a nomination."""

    attachment: Attachment
    role: Role
    document: ParsedDocument | None = None
    probe: MediaProbe | None = None  # photos and videos: what their bytes are (parsers.media)

    @property
    def filename(self) -> str:
        return self.attachment.filename

    @property
    def unreadable(self) -> DocumentUnreadable | None:
        return self.document.unreadable if self.document else None


def _read_by_ocr(item: NominationFile) -> bool:
    return item.role == "form_scan" and item.document is not None and bool(item.document.fields)


@dataclass(frozen=True)
class Nominee:
    index: int
    fields: dict[str, str]  # normalised values, CONTRACT §2 names; channel is the channel id
    raw_fields: dict[str, str]  # as read, for staff
    # field → "docx" | "pdf" | "text" | "ocr", or "inferred": read from another field's text
    # (the recommending unit from 推荐单位意见 on a form without a 推荐单位 cell)
    field_sources: dict[str, str]
    files: tuple[NominationFile, ...]
    writeup_text: str | None = None
    writeup_source: str | None = None  # the write-up's file name, or "推荐表" for the form's 主要事迹
    writeup_chars: int | None = None
    writeup_referenced: bool = False  # the form's 主要事迹 says 见附件
    phone_numbers: tuple[str, ...] = ()
    links: tuple[LargeAttachmentLink, ...] = ()  # large-attachment links in the body that may hold their media
    seal: SealReading | None = None  # what the seal detector saw on the form material; None: not looked at

    @property
    def forms(self) -> tuple[NominationFile, ...]:
        return tuple(f for f in self.files if f.role in ("form", "form_scan"))

    @property
    def readable_forms(self) -> tuple[NominationFile, ...]:
        """Forms we could read as text, and scans whose fields OCR read (parsers/ocr.py)."""
        return tuple(f for f in self.files if (f.role == "form" and f.unreadable is None) or _read_by_ocr(f))

    @property
    def read_by_ocr(self) -> bool:
        """Whether the fields come only from OCR of a scan: a rule they fail asks staff (CONTRACT §3)."""
        forms = self.readable_forms
        return bool(forms) and all(_read_by_ocr(f) for f in forms)

    @property
    def name(self) -> str:
        return self.fields.get("name", "")

    def files_with_role(self, role: Role) -> tuple[NominationFile, ...]:
        return tuple(f for f in self.files if f.role == role)


@dataclass(frozen=True)
class Submission:
    """One message's nominations: the nominees and what could not be matched to one."""

    message: Message
    nominees: tuple[Nominee, ...]
    unassigned: tuple[NominationFile, ...] = ()  # material that fits no nominee
    unsupported: tuple[Attachment, ...] = ()  # kept, not judged
    shared: tuple[NominationFile, ...] = ()  # belongs to the message as a whole (汇总表, 推荐函)
    has_material: bool = False
    links: tuple[LargeAttachmentLink, ...] = ()  # every large-attachment link of the body

    def all_files(self) -> tuple[NominationFile, ...]:
        """Every file of the message that is material, wherever it was placed."""
        return (*(f for nominee in self.nominees for f in nominee.files), *self.unassigned, *self.shared)
