"""Outlook's winmail.dat (TNEF): the sender's files packed in Outlook's own format, unpacked in
their place under the archive limits (CONTRACT §3: Outlook in rich text)."""

from __future__ import annotations

from campaigns.limits import Limits
from core import children
from ingest import names
from ingest.sniff import sniff
from ingest.types import Attachment

TNEF = "application/vnd.ms-tnef"


def is_tnef(attachment: Attachment) -> bool:
    return attachment.media_type == TNEF or attachment.declared_type in ("application/ms-tnef", TNEF)


def unpack_tnef(attachment: Attachment, limits: Limits) -> list[Attachment] | None:
    """The files inside an Outlook winmail.dat (tnefparse), as attachments in its place:
    none for one that only carries the body's formatting (a question typed in Outlook is no
    material); None when it cannot be read or breaks the limits (it then stays as it came).

    tnefparse copies the rest of the file for each attribute it reads, so a crafted file of
    many small attributes costs time and memory without end: it runs in a child under the
    per-file limits, like an archive, and the count and size of what it finds are held to the
    archive limits, so that a winmail.dat is never a way round them."""
    try:
        return children.run(_unpack_tnef, attachment, limits, seconds=limits.file_parse_seconds,
                            memory_bytes=limits.file_parse_memory_bytes)
    except children.ChildFailed:
        return None


def _unpack_tnef(attachment: Attachment, limits: Limits) -> list[Attachment] | None:
    """Runs in the child: see unpack_tnef."""
    from tnefparse.tnef import TNEF as Tnef

    try:
        packed = Tnef(attachment.data, do_checksum=False)
        files = [(_tnef_name(item, packed.codepage, n), bytes(item.data or b""))
                 for n, item in enumerate(packed.attachments, 1)]
    except Exception:  # noqa: BLE001 - tnefparse raises anything on a broken file
        return None
    files = [(name, data) for name, data in files if data]
    if len(files) > limits.archive_max_entries or sum(len(data) for _, data in files) > limits.archive_total_bytes:
        return None
    # the sender attached these files themselves; winmail.dat is Outlook's wrapping, not an
    # archive of theirs, so the files stand where it stood (their names are what the sender saw)
    return [Attachment(filename=name, data=data, media_type=sniff(data, name), folder=attachment.folder,
                       archive=attachment.archive)
            for name, data in files]


def _tnef_name(item, codepage: str | None, number: int) -> str:
    """The long file name Outlook keeps in the MAPI properties, else the 8.3 title in the
    sender's code page (cp936 on a Chinese Windows), else a made-up one."""
    try:
        name = item.long_filename()
    except (UnicodeDecodeError, AttributeError):
        name = None
    if isinstance(name, bytes):
        name = name.decode(codepage or "gb18030", "replace")
    if not name:
        raw = item._name  # tnefparse decodes the title as UTF-8 only; ours is often GBK
        name = raw.decode(codepage or "gb18030", "replace") if isinstance(raw, bytes) else raw
    name = names.split_entry((name or "").strip("\x00").replace("\\", "/"))[1]
    return name or names.synthetic(number, "")
