"""Group a message's parsed files into nominees: one per person among the forms (CONTRACT §3)."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field

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
from nominees.types import NominationFile, Nominee, Role, Submission
from parsers.classify import LETTER_TITLE, heading
from parsers.fields import extract_fields
from parsers.links import LargeAttachmentLink, find_links
from parsers.media import MediaProbe
from parsers.text import pasted_form
from parsers.types import ParsedDocument
from parsers.wordcount import count_chars

# a picture inside the HTML body is a photo from 0.3 megapixels up (640×480); logos and banners are smaller
INLINE_PHOTO_MIN_PIXELS = 300_000
# A file whose name says it is the form counts as the form even when it cannot be read.
FORM_FILE_WORDS = ("推荐表", "申报表", "登记表", "推荐人选")
PHOTO_FILE_WORDS = ("照片", "工作照", "生活照", "图片", "相片")
# an ID portrait (for the form's 照片 cell) is not a photo of the nominee's deeds
PORTRAIT_FILE_WORDS = ("一寸", "二寸", "寸照", "证件照", "免冠", "登记照")
# 主要事迹 cells that point elsewhere instead of telling the deeds
_SEE_ATTACHMENT = re.compile(r"^[（(]?\s*(详见|见|请见|参见)\s*(附件|附页|事迹材料|附表)")
# Fields read from these sources win over the same field read from a later one.
_SOURCE_PREFERENCE = ("docx", "text", "pdf", "ocr")


@dataclass
class _Person:
    """A nominee while grouping: forms first, then everything matched to them."""

    forms: list[tuple[NominationFile, dict[str, str], str]] = field(default_factory=list)
    files: list[NominationFile] = field(default_factory=list)

    @property
    def name(self) -> str:
        return next((clean_name(f.get("name", "")) for _, f, _ in self.forms if f.get("name")), "")

    @property
    def id_number(self) -> str:
        return next((clean_id_number(f["id_number"]) for _, f, _ in self.forms if f.get("id_number")), "")

    def folders(self) -> set[tuple[str, ...]]:
        return {nf.attachment.folder for nf, _, _ in self.forms if nf.attachment.folder}


def _source_of(attachment: Attachment) -> str:
    media = attachment.media_type
    if media == "application/pdf":
        return "pdf"
    if media == "text/plain":
        return "text"
    return "docx"


def is_signature_image(attachment: Attachment) -> bool:
    """Logos and banners shown inside the HTML body are not nomination material; a photo put into
    the body (QQ Mail's and Foxmail's 插入图片) is, like an attached one (CONTRACT §3)."""
    if not (attachment.content_id and attachment.inline and attachment.category == "image"):
        return False
    return _pixels(attachment.data) < INLINE_PHOTO_MIN_PIXELS


def _pixels(data: bytes) -> int:
    """Width × height from the picture's header, without decoding it; a picture that does not
    open counts as large, so that it is probed and judged like an attachment."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a bomb's warning: the probe judges it
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Exception:  # noqa: BLE001 - Pillow raises anything on hostile bytes
        return INLINE_PHOTO_MIN_PIXELS
    return width * height


def _name_says_form(filename: str) -> bool:
    return any(word in filename for word in FORM_FILE_WORDS)


def _same_person(person: _Person, fields: dict[str, str]) -> bool:
    id_number = clean_id_number(fields.get("id_number", ""))
    name = clean_name(fields.get("name", ""))
    if id_number and person.id_number:
        return id_number == person.id_number
    return bool(name) and name == person.name


def _group_forms(forms: list[tuple[NominationFile, dict[str, str], str]]) -> list[_Person]:
    people: list[_Person] = []
    ranked = sorted(forms, key=lambda item: _SOURCE_PREFERENCE.index(item[2]))
    for item in ranked:
        owner = next((p for p in people if _same_person(p, item[1])), None)
        if owner is None:
            owner = _Person()
            people.append(owner)
        owner.forms.append(item)
    return people


def _match_by_name(attachment: Attachment, people: list[_Person]) -> _Person | None:
    """The person whose name the file's folders or name carry: the longest name wins."""
    named = sorted((p for p in people if p.name), key=lambda p: len(p.name), reverse=True)
    for place in (*reversed(attachment.folder), attachment.filename):
        for person in named:
            if person.name in place:
                return person
    return None


def _match_by_folder(attachment: Attachment, people: list[_Person]) -> _Person | None:
    """The person whose form sits in the deepest folder that holds this file, if only theirs does."""
    folder = attachment.folder
    for depth in range(len(folder), 0, -1):
        prefix = folder[:depth]
        owners = [p for p in people if prefix in p.folders()]
        if len(owners) == 1:
            return owners[0]
        if len(owners) > 1:
            return None
    return None


def _owner(attachment: Attachment, people: list[_Person]) -> _Person | None:
    return _match_by_folder(attachment, people) or _match_by_name(attachment, people) or (
        people[0] if len(people) == 1 else None
    )


def _is_textless_pdf(nf: NominationFile) -> bool:
    document = nf.document
    return (
        nf.attachment.media_type == "application/pdf"
        and document is not None
        and document.unreadable is None
        and document.content is not None
        and not document.content.text.strip()
    )


def _image_role(attachment: Attachment, probe: MediaProbe | None) -> Role:
    """A picture is the form's page, an ID portrait, or a photo: by its content first, its name second.

    Content (parsers.photo): mostly white, unsaturated, with several lines of dark ink is a
    page (a scan, or a photo of the printed form) → `form_scan`; small, upright about 5:7 with
    a plain even background above and beside the head is a one-inch portrait → `other`.
    What the content does not settle (a page photographed on a desk, a picture that does not
    decode) the name settles: 推荐表/申报表… → `form_scan`, 一寸/证件照… → `other`.
    Everything else is a photo.
    """
    if probe is not None and probe.decodable:
        if probe.page_like and not (LETTER_TITLE.search(attachment.filename) and not _name_says_form(attachment.filename)):
            return "form_scan"
        if probe.portrait_like:
            return "other"
    if _name_says_form(attachment.filename):
        return "form_scan"
    if LETTER_TITLE.search(attachment.filename):
        return "other"  # 推荐函.jpg: a letter, not the form, whatever its page looks like
    if any(word in attachment.filename for word in PORTRAIT_FILE_WORDS):
        return "other"
    return "photo"


def _role_of(attachment: Attachment, document: ParsedDocument | None, probe: MediaProbe | None = None) -> Role:
    kind = attachment.category
    if kind == "image":
        return _image_role(attachment, probe)
    if kind == "video":
        return "video"
    if document is None:
        return "other"
    if document.unreadable is None and document.content is not None and not document.content.text.strip():
        # a scanned PDF: no text layer to read
        return "form_scan" if _name_says_form(attachment.filename) else "other"
    if document.kind == "writeup":
        return "writeup"
    if document.kind == "form" and document.unreadable is None:
        return "form"
    if document.kind == "photo_document":
        return "photo"  # 照片.docx, 工作照.pdf: its pictures count as photos
    return "other"


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
        role = _role_of(attachment, document, probe)
        read = scans.get(index)
        if read is not None and text_form and not _form_page(read, attachment.filename):
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


def _form_page(read: ParsedDocument, filename: str) -> bool:
    """Whether a scan read by OCR is a page of the form: read as the form, or a ruled table with
    the form's labels (the second page: 主要事迹, 推荐单位意见 and the seal) under no letter's title.
    A page without a ruled table (a cover letter, an envelope) is not, unless its name says it is
    the form: a scan OCR could not make out stays the form's, for staff."""
    if read.kind == "form":
        return True
    if read.content is None:
        return _name_says_form(filename)
    if LETTER_TITLE.search(heading(read.content)):
        return False
    return bool(extract_fields(read.content))


def _blank_form(nf: NominationFile) -> bool:
    """A form with neither a name nor an ID number written in: the empty form itself."""
    fields = nf.document.fields if nf.document is not None else {}
    return (nf.role == "form" and nf.unreadable is None
            and not clean_name(fields.get("name", "")) and not clean_id_number(fields.get("id_number", "")))


def _merged_fields(person: _Person) -> tuple[dict[str, str], dict[str, str]]:
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


def _writeup(person: _Person, fields: dict[str, str]) -> tuple[str | None, str | None, bool]:
    """The write-up's text and where it came from; whether the form points to an attachment."""
    documents = [f.document for f in person.files if f.role == "writeup" and f.document and f.document.content]
    if documents:
        longest = max(documents, key=lambda d: len(d.content.text))
        return longest.content.text, longest.filename, False
    deeds = fields.get("deeds", "")
    if _SEE_ATTACHMENT.match(deeds) and count_chars(deeds) < 30:
        return None, None, True
    return (deeds, "推荐表", False) if deeds else (None, None, False)


def _links_of(person: _Person, people: list[_Person], links: tuple[LargeAttachmentLink, ...]) -> tuple[LargeAttachmentLink, ...]:
    """The links that may hold this person's media: those naming them, and those naming nobody.

    A link whose file name carries no nominee's name cannot be told apart: it counts for
    every nominee, so that staff look instead of a rejection (CONTRACT §3: LINK_ATTACHMENT).
    """
    named = sorted((p for p in people if p.name), key=lambda p: len(p.name), reverse=True)

    def owner(link: LargeAttachmentLink) -> _Person | None:
        return next((p for p in named if link.filename and p.name in link.filename), None)

    return tuple(link for link in links if owner(link) in (None, person))


def _build_nominee(index: int, person: _Person, profile: Profile,
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


def _people(material: list[NominationFile]) -> list[_Person]:
    """One person per nominee among the forms; unreadable forms and lone scans are people too."""
    forms = [(f, dict(f.document.fields), "ocr" if f.role == "form_scan" else _source_of(f.attachment))
             for f in material if f.role == "form" or (f.role == "form_scan" and f.document and f.document.fields)]
    if any(f.role == "form" for f, _, _ in forms):
        # beside forms that came as text, a scan read by OCR joins the person it names (the
        # stamped copy of their form); read less surely, it never makes a nominee of its own
        people = _group_forms([item for item in forms if item[0].role == "form"])
        for scan, fields, source in (item for item in forms if item[0].role == "form_scan"):
            owner = next((p for p in people if _same_person(p, fields)), None)
            if owner is not None:
                owner.forms.append((scan, fields, source))
    else:
        people = _group_forms(forms)
    for person in people:
        person.files.extend(nf for nf, _, _ in person.forms)

    unreadable = [f for f in material if f.unreadable is not None and f.attachment.category == "document"]
    form_like = [f for f in unreadable if _name_says_form(f.filename) or (not people and f.document.kind != "writeup")]
    for nf in form_like:
        as_form = NominationFile(nf.attachment, "form", nf.document, nf.probe)
        owner = _match_by_name(nf.attachment, people)
        if owner is None:
            owner = _Person()
            people.append(owner)
        owner.files.append(as_form)

    scans = [f for f in material if f.role == "form_scan"]
    if not people and not scans:
        # no form found: a PDF without a text layer is most likely the scanned form
        scans = [NominationFile(f.attachment, "form_scan", f.document, f.probe) for f in material if _is_textless_pdf(f)]
    if not people and scans:
        # the only form is a scan or photo of the page: one nominee until it is read
        people.append(_Person(files=scans))
    return people


def _place(material: list[NominationFile], people: list[_Person]) -> tuple[list[NominationFile], list[NominationFile]]:
    """Every other file given to its person; (what fits no one and staff must place, what
    belongs to the message as a whole)."""
    placed = {id(nf.attachment) for person in people for nf in person.files}
    unassigned: list[NominationFile] = []
    shared: list[NominationFile] = []
    for nf in material:
        if id(nf.attachment) in placed:
            continue
        if nf.document is not None and nf.document.kind == "summary":
            shared.append(nf)  # a 汇总表 lists the whole batch: no one nominee's file, even when there is one
            continue
        owner = _owner(nf.attachment, people)
        if owner is not None:
            owner.files.append(nf)
        elif nf.role in ("photo", "video", "writeup", "form_scan"):
            unassigned.append(nf)
        else:
            shared.append(nf)
    return unassigned, shared


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
    blank = [f for f in material if _blank_form(f)]
    if blank and not links and all(f in blank or (f.role == "other" and f.unreadable is None) for f in material):
        # a question with the empty form attached (how do I fill this in?), the notice beside it
        # perhaps: no nomination (CONTRACT §3)
        return Submission(message=message, nominees=(), unsupported=tuple(unsupported), has_material=False)

    people = _people(material)
    unassigned, shared = _place(material, people)
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
