"""Who the nominees of a message are: one person per name or ID number among its forms, and
every other file given to the person it belongs to (by folder, then by name)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.types import Attachment
from nominees.normalise import clean_id_number, clean_name
from nominees.roles import is_textless_pdf, name_says_form, source_of
from nominees.types import NominationFile

# Fields read from these sources win over the same field read from a later one.
SOURCE_PREFERENCE = ("docx", "text", "pdf", "ocr")


@dataclass
class Person:
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


def same_person(person: Person, fields: dict[str, str]) -> bool:
    id_number = clean_id_number(fields.get("id_number", ""))
    name = clean_name(fields.get("name", ""))
    if id_number and person.id_number:
        return id_number == person.id_number
    return bool(name) and name == person.name


def _group_forms(forms: list[tuple[NominationFile, dict[str, str], str]]) -> list[Person]:
    people: list[Person] = []
    ranked = sorted(forms, key=lambda item: SOURCE_PREFERENCE.index(item[2]))
    for item in ranked:
        owner = next((p for p in people if same_person(p, item[1])), None)
        if owner is None:
            owner = Person()
            people.append(owner)
        owner.forms.append(item)
    return people


def match_by_name(attachment: Attachment, people: list[Person]) -> Person | None:
    """The person whose name the file's folders or name carry: the longest name wins."""
    named = sorted((p for p in people if p.name), key=lambda p: len(p.name), reverse=True)
    for place in (*reversed(attachment.folder), attachment.filename):
        for person in named:
            if person.name in place:
                return person
    return None


def _match_by_folder(attachment: Attachment, people: list[Person]) -> Person | None:
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


def _owner(attachment: Attachment, people: list[Person]) -> Person | None:
    return _match_by_folder(attachment, people) or match_by_name(attachment, people) or (
        people[0] if len(people) == 1 else None
    )


def people_of(material: list[NominationFile]) -> list[Person]:
    """One person per nominee among the forms; unreadable forms and lone scans are people too."""
    forms = [(f, dict(f.document.fields), "ocr" if f.role == "form_scan" else source_of(f.attachment))
             for f in material if f.role == "form" or (f.role == "form_scan" and f.document and f.document.fields)]
    if any(f.role == "form" for f, _, _ in forms):
        # beside forms that came as text, a scan read by OCR joins the person it names (the
        # stamped copy of their form); read less surely, it never makes a nominee of its own
        people = _group_forms([item for item in forms if item[0].role == "form"])
        for scan, fields, source in (item for item in forms if item[0].role == "form_scan"):
            owner = next((p for p in people if same_person(p, fields)), None)
            if owner is not None:
                owner.forms.append((scan, fields, source))
    else:
        people = _group_forms(forms)
    for person in people:
        person.files.extend(nf for nf, _, _ in person.forms)

    unreadable = [f for f in material if f.unreadable is not None and f.attachment.category == "document"]
    form_like = [f for f in unreadable if name_says_form(f.filename) or (not people and f.document.kind != "writeup")]
    for nf in form_like:
        as_form = NominationFile(nf.attachment, "form", nf.document, nf.probe)
        owner = match_by_name(nf.attachment, people)
        if owner is None:
            owner = Person()
            people.append(owner)
        owner.files.append(as_form)

    scans = [f for f in material if f.role == "form_scan"]
    if not people and not scans:
        # no form found: a PDF without a text layer is most likely the scanned form
        scans = [NominationFile(f.attachment, "form_scan", f.document, f.probe) for f in material if is_textless_pdf(f)]
    if not people and scans:
        # the only form is a scan or photo of the page: one nominee until it is read
        people.append(Person(files=scans))
    return people


def place_files(material: list[NominationFile], people: list[Person]) -> tuple[list[NominationFile], list[NominationFile]]:
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
