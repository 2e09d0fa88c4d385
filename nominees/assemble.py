"""Group a message's parsed files into nominees: one per person among the forms (CONTRACT §3)."""

from __future__ import annotations

import re

from campaigns.schema import Profile
from ingest.types import Attachment, Message
from nominees.normalise import (
    channel_id,
    clean_choice,
    clean_gender,
    clean_id_number,
    clean_name,
    clean_text,
    clean_unit,
    clean_yes_no,
    phone_candidates,
    unit_from_opinion,
)
from nominees.people import Person, people_of, place_files
from nominees.roles import FORM_FILE_WORDS, blank_form, form_page, is_signature_image, role_of
from nominees.types import NominationFile, Nominee, Submission
from parsers.links import LargeAttachmentLink, find_links
from parsers.media import MediaProbe
from parsers.text import pasted_form
from parsers.types import ParsedDocument
from parsers.wordcount import count_chars

__all__ = ["FORM_FILE_WORDS", "INFERRED", "assemble", "is_signature_image"]

# 主要事迹 cells that point elsewhere instead of telling the deeds
_SEE_ATTACHMENT = re.compile(r"^[（(]?\s*(详见|见|请见|参见)\s*(附件|附页|事迹材料|附表)")
INFERRED = "inferred"  # a field's source when it was not written in its own cell but read from another


def _material(message: Message, documents: dict[int, ParsedDocument], probes: dict[int, MediaProbe],
              scans: dict[int, ParsedDocument], profile: Profile) -> tuple[list[NominationFile], list[Attachment]]:
    """Every attachment that is nomination material with its role; those of a type the campaign
    does not use; and, where no attachment is the form, the form typed into the mail's body."""
    material: list[NominationFile] = []
    unsupported: list[Attachment] = []
    # only beside a form that came as text is a page OCR does not see as the form set aside: a
    # lone photo of the form whose grid was not found still goes to staff as the form
    text_form = any(d.kind == "form" and d.unreadable is None and d.content is not None and d.content.text.strip()
                    for d in documents.values())
    for index, attachment in enumerate(message.attachments):
        if is_signature_image(attachment):
            continue
        if attachment.category == "other":
            unsupported.append(attachment)
        document, probe = documents.get(index), probes.get(index)
        role = role_of(attachment, document, probe)
        read = scans.get(index)
        if read is not None and text_form and not form_page(read, attachment.filename):
            role, document = "other", read  # a cover letter or envelope: its seal is not the form's
        elif read is not None and read.kind == "form" and read.unreadable is None:
            role, document = "form_scan", read
        material.append(NominationFile(attachment, role, document, probe))
    if not any(f.role == "form" or (f.role == "form_scan" and f.document and f.document.fields) for f in material):
        pasted = pasted_form(message.body_text, profile.form.title_keywords) if message.body_text else None
        if pasted is not None:
            body = Attachment(filename=pasted.filename, data=message.body_text.encode("utf-8"),
                              media_type="text/plain", declared_type="text/plain", inline=True)
            material.insert(0, NominationFile(body, "form", pasted))
    return material, unsupported


def _merged_fields(person: Person) -> tuple[dict[str, str], dict[str, str]]:
    raw: dict[str, str] = {}
    sources: dict[str, str] = {}
    for _, fields, source in person.forms:  # already in preference order
        for key, value in fields.items():
            if value and key not in raw:
                raw[key] = value
                sources[key] = source
    if not clean_unit(raw.get("recommending_unit", "")):
        # the Chongqing form has no 推荐单位 cell: its 推荐单位意见 names the unit (经…研究, under the seal)
        unit = unit_from_opinion(raw.get("unit_opinion", ""))
        if unit:
            raw["recommending_unit"], sources["recommending_unit"] = unit, INFERRED
    return raw, sources


def _normalised(raw: dict[str, str], profile: Profile) -> dict[str, str]:
    cleaners = {
        "name": clean_name,
        "id_number": clean_id_number,
        "gender": clean_gender,
        "frontline": clean_yes_no,
        "unit_category": clean_choice,
        "recommending_unit": clean_unit,
    }
    fields = {key: cleaners.get(key, clean_text)(value) for key, value in raw.items()}
    if "channel" in raw:
        fields["channel"] = channel_id(raw["channel"], profile.channels) or ""
    if "deeds" in raw:
        fields["deeds"] = raw["deeds"].strip()
    return {key: value for key, value in fields.items() if value}


def _writeup(person: Person, fields: dict[str, str]) -> tuple[str | None, str | None, bool]:
    """The write-up's text and where it came from; whether the form points to an attachment."""
    documents = [f.document for f in person.files if f.role == "writeup" and f.document and f.document.content]
    if documents:
        longest = max(documents, key=lambda d: len(d.content.text))
        return longest.content.text, longest.filename, False
    deeds = fields.get("deeds", "")
    if _SEE_ATTACHMENT.match(deeds) and count_chars(deeds) < 30:
        return None, None, True
    return (deeds, "推荐表", False) if deeds else (None, None, False)


def _links_of(person: Person, people: list[Person], links: tuple[LargeAttachmentLink, ...]) -> tuple[LargeAttachmentLink, ...]:
    """The links that may hold this person's media: those naming them, and those naming nobody.

    A link whose file name carries no nominee's name cannot be told apart: it counts for
    every nominee, so that staff look instead of a rejection (CONTRACT §3: LINK_ATTACHMENT).
    """
    named = sorted((p for p in people if p.name), key=lambda p: len(p.name), reverse=True)

    def owner(link: LargeAttachmentLink) -> Person | None:
        return next((p for p in named if link.filename and p.name in link.filename), None)

    return tuple(link for link in links if owner(link) in (None, person))


def _build_nominee(index: int, person: Person, profile: Profile,
                   links: tuple[LargeAttachmentLink, ...] = ()) -> Nominee:
    raw, sources = _merged_fields(person)
    fields = _normalised(raw, profile)
    text, source, referenced = _writeup(person, fields)
    return Nominee(
        index=index,
        fields=fields,
        raw_fields=raw,
        field_sources=sources,
        files=tuple(person.files),
        writeup_text=text,
        writeup_source=source,
        writeup_chars=count_chars(text) if text else None,
        writeup_referenced=referenced,
        phone_numbers=tuple(phone_candidates(raw.get("phone", ""))),
        links=links,
    )


def assemble(
    message: Message,
    documents: dict[int, ParsedDocument],
    profile: Profile,
    probes: dict[int, MediaProbe] | None = None,
    scans: dict[int, ParsedDocument] | None = None,
) -> Submission:
    """`documents`, `probes` and `scans` map an attachment's index in `message.attachments` to what was read.

    `probes` are the photos and videos as parsers.media read them; without one, a picture's
    role comes from its name alone. `scans` are scans of the form (image-only PDFs, pictures
    of the page) read by OCR (parsers/ocr.py): one that reads as the form is a `form_scan`
    whose fields count, with the source "ocr".
    """
    material, unsupported = _material(message, documents, probes or {}, scans or {}, profile)
    links = find_links(message.body_text, message.body_html)
    blank = [f for f in material if blank_form(f)]
    if blank and not links and all(f in blank or (f.role == "other" and f.unreadable is None) for f in material):
        # a question with the empty form attached (how do I fill this in?), the notice beside it
        # perhaps: no nomination (CONTRACT §3)
        return Submission(message=message, nominees=(), unsupported=tuple(unsupported), has_material=False)

    people = people_of(material)
    unassigned, shared = place_files(material, people)
    nominees = tuple(_build_nominee(i, person, profile, _links_of(person, people, links)) for i, person in enumerate(people))
    # a large-attachment link is nomination material too (CONTRACT §3)
    has_material = bool(material or message.unsafe or message.unreadable_archives or links)
    return Submission(
        message=message,
        nominees=nominees,
        unassigned=tuple(unassigned),
        unsupported=tuple(unsupported),
        shared=tuple(shared),
        has_material=has_material,
        links=links,
    )
