"""The judging pipeline for one message: bytes → message → documents → nominees → verdict."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from campaigns.schema import Profile
from core import children
from core.filekinds import is_read_as_document
from ingest.mime import parse_message
from ingest.types import Attachment, Message
from nominees.assemble import FORM_FILE_WORDS, assemble, is_signature_image
from nominees.normalise import clean_name
from nominees.types import Submission
from parsers import parse_documents
from parsers.media import MediaProbe, media_kind, probe_many
from parsers.types import FileData, ParsedDocument
from validators.evaluate import Verdict, evaluate
from validators.seal import seal_material

MAX_SCANS = 30  # scans of one message read by OCR (a district's zip of scanned forms), a few seconds each
# what a scan read in full could add to a typed form that a rule, the nominee's identity or the
# record reads (besides the campaign's required fields); each tuple is one field or its stand-ins:
# the Chongqing form's 推荐单位 is read from its 推荐单位意见 (nominees/assemble.py)
FIELDS_JUDGED = (("name",), ("id_number",), ("employer",), ("phone",), ("channel",), ("deeds",),
                 ("recommending_unit", "unit_opinion"))


def file_data(attachment: Attachment) -> FileData:
    """What a parser is given of an attachment: its bytes, where it sat, its sniffed type."""
    return FileData(attachment.path, attachment.data, attachment.media_type)


def read_documents(message: Message, profile: Profile) -> dict[int, ParsedDocument]:
    """Every document-like attachment read, keyed by its index in the message."""
    wanted = {index: file_data(attachment) for index, attachment in enumerate(message.attachments)
              if is_read_as_document(attachment.media_type, attachment.filename)}
    return dict(zip(wanted, parse_documents(list(wanted.values()), profile.form.title_keywords, profile.limits)))


def probe_media_files(message: Message, profile: Profile) -> dict[int, MediaProbe]:
    """Every photo (always: bombs and pictures of the form matter to any campaign) and, where the
    campaign asks for media, every video, read from its bytes; keyed by index in the message."""
    kinds = ("photo", "video") if profile.media.required else ("photo",)
    wanted = {
        index: file_data(attachment)
        for index, attachment in enumerate(message.attachments)
        if not is_signature_image(attachment) and media_kind(attachment.media_type, attachment.filename) in kinds
    }
    return dict(zip(wanted, probe_many(list(wanted.values()), profile.limits)))


def read_scans(message: Message, documents: dict[int, ParsedDocument], probes: dict[int, MediaProbe],
               profile: Profile) -> dict[int, ParsedDocument]:
    """The scans (image-only PDFs, pictures that look like a page or are named as the form) read by
    OCR (parsers/ocr.py): where no document is a readable form, to read the form from them; beside
    a form that came as text, to tell the stamped page of the form from a stamped cover letter or
    envelope, where the campaign looks at seals (CONTRACT §3: the seal must be on the form); beside
    typed forms that lack nothing, only as far as that takes (parsers/ocr.py `Glance`)."""
    text_forms = _text_forms(documents)
    if text_forms and not (profile.seal.required_for_channels or profile.seal.record_when_seen):
        return {}
    wanted = [index for index, attachment in enumerate(message.attachments)
              if _is_scan(attachment, documents.get(index), probes.get(index))][:MAX_SCANS]
    if not wanted:
        return {}  # OpenCV and the OCR engine are not loaded for a message without scans
    from parsers import ocr

    files = [(message.attachments[index].data, message.attachments[index].filename) for index in wanted]
    read = dict(zip(wanted, ocr.read_scans(files, profile.form.title_keywords, profile.limits,
                                           glance=_glance(text_forms, profile))))
    return {index: document for index, document in read.items() if document is not None}


def _text_forms(documents: dict[int, ParsedDocument]) -> list[ParsedDocument]:
    return [d for d in documents.values()
            if d.kind == "form" and d.unreadable is None and d.content and d.content.text.strip()]


def _glance(text_forms: list[ParsedDocument], profile: Profile):
    """How far a scan beside these typed forms is read (parsers/ocr.py Glance); None: in full."""
    if not text_forms or not all(_complete(form.fields, profile) for form in text_forms):
        return None
    from parsers import ocr

    names = tuple(clean_name(form.fields.get("name", "")) for form in text_forms)
    return ocr.Glance(names=names if len(text_forms) > 1 else ())


def _complete(fields: dict[str, str], profile: Profile) -> bool:
    """Whether a typed form has every field a scan of it could add to the judging: then a scan
    beside it is read only as far as needed to know what and whose it is (parsers/ocr.py Glance).
    A scan's fields come last (nominees/people.py SOURCE_PREFERENCE): they only fill gaps."""
    wanted = (*((name,) for name in profile.form.required_fields), *FIELDS_JUDGED)
    return all(any(fields.get(name, "").strip() for name in names) for names in wanted)


def _is_scan(attachment: Attachment, document: ParsedDocument | None, probe: MediaProbe | None) -> bool:
    if document is not None:
        return (attachment.media_type == "application/pdf" and document.unreadable is None
                and document.content is not None and not document.content.text.strip())
    if probe is None or probe.kind != "photo" or not probe.decodable or is_signature_image(attachment):
        return False
    return probe.page_like or any(word in attachment.filename for word in FORM_FILE_WORDS)


class SealReadings:
    """Each file's seal reading, made once per message: the seal pass runs again after a second
    look, over the files it read already, and the second look reads photos the pass reads again
    once they turn out to be the form (each reading is a sandboxed child and a page rendered)."""

    def __init__(self, profile: Profile):
        self.limits = profile.limits
        self._read: dict[int, object] = {}

    def of(self, attachment: Attachment):
        self.read([attachment])
        return self._read[id(attachment)]

    def read(self, attachments: list[Attachment]) -> None:
        """Those of the attachments not read yet, all in one sandboxed child (parsers/seal.py `read_seals`)."""
        # the message holds its attachments: ids stay theirs
        new = list({id(a): a for a in attachments if id(a) not in self._read}.values())
        if new:
            from parsers.seal import read_seals

            readings = read_seals([(a.data, a.path) for a in new], self.limits)
            self._read.update((id(a), reading) for a, reading in zip(new, readings))


def with_seals(submission: Submission, profile: Profile, seals: SealReadings | None = None) -> Submission:
    """Each nominee's form material looked at for the seal (parsers/seal.py) where their channel
    needs one or the campaign records seals; photos never are."""
    from parsers.seal import combine

    seals = seals or SealReadings(profile)
    material = [seal_material(nominee) if profile.seal_required(nominee.fields.get("channel"))
                or profile.seal.record_when_seen else () for nominee in submission.nominees]
    seals.read([f.attachment for files in material for f in files])  # the whole message's, in one child
    nominees = []
    for nominee, files in zip(submission.nominees, material):
        if files:
            nominee = replace(nominee, seal=combine([seals.of(f.attachment) for f in files]))
        nominees.append(nominee)
    return replace(submission, nominees=tuple(nominees))


def second_look(message: Message, documents: dict[int, ParsedDocument], probes: dict[int, MediaProbe],
                scans: dict[int, ParsedDocument], submission: Submission, profile: Profile,
                seals: SealReadings | None = None) -> dict[int, ParsedDocument]:
    """Pictures that may be the form after all, read by OCR. A phone photo of the stamped form
    called IMG_2034.jpg is neither page-like to the prober (a desk around it, the page at a slant)
    nor named as the form; it is found by what it holds: where the message has no readable form
    at all, every picture is tried (OCR gives up at once on a page without the form's ruled grid);
    where a nominee's channel needs a seal that none of its form files shows, its pictures that
    show one are tried, so that the stamped page is found and checked (glanced at only, beside
    typed forms that lack nothing, as in `read_scans`)."""
    seals = seals or SealReadings(profile)
    candidates: list[int] = []
    glance = None
    if not any(n.readable_forms for n in submission.nominees):
        candidates = [i for i, probe in probes.items() if probe.kind == "photo" and probe.decodable]
    else:
        index_of = {id(a): i for i, a in enumerate(message.attachments)}
        unsealed = [n for n in submission.nominees
                    if profile.seal_required(n.fields.get("channel")) and not (n.seal and n.seal.present)]
        photos = [f.attachment for n in unsealed for f in n.files_with_role("photo")]
        seals.read(photos)  # all of them in one sandboxed child, not one child a photo
        candidates += [index_of[id(photo)] for photo in photos if _shows_a_seal(seals.of(photo), profile)]
        glance = _glance(_text_forms(documents), profile) if candidates else None
    wanted = [i for i in dict.fromkeys(candidates) if i not in scans][:MAX_SCANS]
    if not wanted:
        return {}
    from parsers import ocr

    files = [(message.attachments[i].data, message.attachments[i].filename) for i in wanted]
    read = dict(zip(wanted, ocr.read_scans(files, profile.form.title_keywords, profile.limits, glance=glance)))
    return {i: document for i, document in read.items() if document is not None and document.kind == "form"}


def _shows_a_seal(reading, profile: Profile) -> bool:
    return reading.present or reading.confidence >= profile.seal.uncertain_low


def judge_message(message: Message, profile: Profile) -> Verdict:
    # the documents, the photos and the seal material are each read in a sandbox under the same
    # limit: in one child for the whole message (core/children.py `one_child`), not one per stage,
    # which reads the attachments where it inherited them
    if profile.seal.required_for_channels or profile.seal.record_when_seen:
        from parsers.seal import load_for_children

        # here, before the message's child is forked: imported in the child, on each process's first
        # message, their 330 MB of mappings counted against its memory limit
        load_for_children()
    with children.one_child(profile.limits.file_parse_memory_bytes, (a.data for a in message.attachments)):
        documents = read_documents(message, profile)
        probes = probe_media_files(message, profile)
        scans = read_scans(message, documents, probes, profile)
        seals = SealReadings(profile)
        submission = with_seals(assemble(message, documents, profile, probes, scans), profile, seals)
        if more := second_look(message, documents, probes, scans, submission, profile, seals):
            submission = with_seals(assemble(message, documents, profile, probes, {**scans, **more}), profile, seals)
    return evaluate(submission, profile)


def judge(raw: bytes, profile: Profile, received_at: datetime | None = None, received_at_source: str = "imap") -> Verdict:
    """Judge one raw e-mail for a campaign. Never raises for bad input, only for our own bugs."""
    message = parse_message(raw, limits=profile.limits, received_at=received_at, received_at_source=received_at_source)
    return judge_message(message, profile)
