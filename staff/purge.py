"""After a campaign: remove what holds its personal data in full, keep the records staff need.

What goes: the raw mail in the blob store and in the mailbox (a Maildir's inbox and 已处理
folder; on IMAP only with `imap_delete`, else staff are told the server keeps its copy), every
file written out for staff that the audit trail records (`review show` copies, exports,
rankings, wherever `-o` put them), the mail a district forwarded, and the full ID and phone
numbers in the database (masked in place, the file then rewritten). Whatever could not be
removed is said, with why.
"""

from __future__ import annotations

import contextlib
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from ingest.sources import SourceError, StoredMail
from service.runtime import Runtime
from staff.export import MATERIAL_FOLDER
from staff.scrub import compact, scrub_campaign
from storage.db import session as new_session
from storage.filing import audit
from storage.models import AttachmentRow, AuditRow, ForwardMessageRow, ForwardRow, MessageRow, NomineeRow

_WRITTEN_TO = " files to "  # how an `exported` audit note names its folder


@dataclass
class Purged:
    messages: int
    blobs_removed: int = 0
    bytes_removed: int = 0
    kept_shared: int = 0  # the same bytes also filed for another campaign: kept for that one
    removed: list[str] = field(default_factory=list)  # files, folders and mailbox copies, for staff
    not_removed: list[str] = field(default_factory=list)  # what stays, and why
    masked: Counter = field(default_factory=Counter)  # database rows whose numbers were masked, by kind


@dataclass
class _Copies:
    """Staff copies to remove: `paths`; which of them the audit trail recorded (so they should be
    there); and the folders staff exported to, tidied once their contents are gone."""

    paths: list[Path] = field(default_factory=list)
    recorded: set[Path] = field(default_factory=set)
    export_folders: list[Path] = field(default_factory=list)


def _from_audit(session: Session, campaign_id: str, nominee_ids: list[int]) -> _Copies:
    """What the audit trail says was written out with this campaign's data: review copies and
    rankings (wholly ours) and the folders exports went to (which may hold staff's own files)."""
    copies = _Copies()
    written = session.exec(select(AuditRow).where(AuditRow.action == "files_written_out", AuditRow.entity == "nominee",
                                                  AuditRow.entity_id.in_(nominee_ids))).all()
    copies.paths += [Path(entry.note) for entry in written if entry.note]
    for entry in session.exec(select(AuditRow).where(AuditRow.entity == "campaign",
                                                     AuditRow.action.in_(("exported", "ranked")))).all():
        head, _, where = entry.note.partition(": ")
        if head == campaign_id and entry.action == "ranked":
            copies.paths.append(Path(where))
        elif head == campaign_id and _WRITTEN_TO in where:
            copies.export_folders.append(Path(where.rpartition(_WRITTEN_TO)[2]))
    copies.recorded = set(copies.paths) | {f for f in copies.export_folders if not f.is_dir()}
    return copies


def _export_parts(folder: Path, campaign_id: str, numbers: set[str]) -> list[Path]:
    """What `intake export` wrote into a folder: its list and the accepted nominees' folders (named
    by intake number first), never the folder itself."""
    material = folder / MATERIAL_FOLDER
    parts = [folder / f"{campaign_id}-名单.xlsx"]
    if material.is_dir():
        parts += [p for p in material.iterdir() if any(p.name == n or p.name.startswith(f"{n}-") for n in numbers)]
    return parts


def _staff_copies(runtime: Runtime, session: Session, campaign_id: str, nominee_ids: list[int]) -> _Copies:
    data = runtime.config.data_path
    copies = _from_audit(session, campaign_id, nominee_ids)
    numbers = set(session.exec(select(NomineeRow.intake_number).where(NomineeRow.campaign_id == campaign_id,
                                                                      NomineeRow.intake_number.is_not(None))).all())
    found = [*copies.paths, *(data / "review" / str(i) for i in nominee_ids)]
    for ours in (runtime.config.exports_path, runtime.config.web_exports_path):  # wholly ours
        if ours.is_dir():
            found += list(ours.glob(f"{campaign_id}-*"))
    found += _previews(runtime, session, campaign_id)
    found += [part for folder in copies.export_folders if folder.is_dir()
              for part in _export_parts(folder, campaign_id, numbers)]
    found += [Path(f.path) for f in _forwarded(session, campaign_id) if f.path]
    copies.paths = list(dict.fromkeys(path.absolute() for path in found))
    copies.recorded = {path.absolute() for path in copies.recorded}
    copies.paths += sorted(copies.recorded - set(copies.paths))  # a recorded folder gone: said below
    return copies


def _previews(runtime: Runtime, session: Session, campaign_id: str) -> list[Path]:
    """The web console's pictures of the campaign's files (photos, pages, video frames), kept by
    the file's sha256: made again from the raw mail when asked for, so they go whoever else shares them."""
    folder = runtime.config.previews_path
    if not folder.is_dir():
        return []
    shas = set(session.exec(select(AttachmentRow.sha256).join(MessageRow, MessageRow.id == AttachmentRow.message_id)
                            .where(MessageRow.campaign_id == campaign_id)).all())
    return [path for sha256 in sorted(shas) for path in (folder / sha256[:2]).glob(f"{sha256}*")]


def _forwarded(session: Session, campaign_id: str) -> list[ForwardMessageRow]:
    """The mails a district's forward wrote: their .eml files and raw bytes carry every nominee's
    material, ID numbers in full, like the raw mail itself."""
    return list(session.exec(select(ForwardMessageRow).join(ForwardRow, ForwardRow.id == ForwardMessageRow.forward_id)
                             .where(ForwardRow.campaign_id == campaign_id)).all())


def _remove_copies(copies: _Copies, purged: Purged) -> None:
    for path in copies.paths:
        try:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
            else:
                if path in copies.recorded:
                    purged.not_removed.append(f"{path}：已不在原处（被移走或已删除），请自行确认")
                continue
        except OSError as exc:
            purged.not_removed.append(f"{path}：{exc.strerror or exc}")
            continue
        purged.removed.append(str(path))
    for folder in copies.export_folders:  # an export folder the purge left empty goes too
        for empty in (folder / MATERIAL_FOLDER, folder):
            with contextlib.suppress(OSError):
                empty.rmdir()
                purged.removed.append(str(empty))


def _remove_blobs(runtime: Runtime, session: Session, rows: list[MessageRow], campaign_id: str,
                  purged: Purged) -> list[MessageRow]:
    """The raw mail and forwarded batches in the blob store; the rows whose mail is this campaign's alone."""
    blobs, own = runtime.blobs, []
    shas = [row.raw_sha256 for row in rows] + [f.raw_sha256 for f in _forwarded(session, campaign_id)]
    for sha256 in dict.fromkeys(shas):
        if session.exec(select(MessageRow.id).where(MessageRow.raw_sha256 == sha256,
                                                    MessageRow.campaign_id != campaign_id)).first() is not None:
            purged.kept_shared += 1
            continue
        own += [row for row in rows if row.raw_sha256 == sha256]
        length = blobs.size(sha256)  # on disk, or in the database on PostgreSQL (storage/blobs.py)
        if blobs.delete(sha256):
            purged.blobs_removed += 1
            purged.bytes_removed += length
    return own


def _remove_from_mailbox(runtime: Runtime, rows: list[MessageRow], imap_delete: bool, purged: Purged) -> None:
    """The mail as it still lies in the mailbox the service reads: a Maildir's files are ours to
    remove; an IMAP server's copy only when staff say so."""
    if not rows:
        return
    source, config = runtime.source(), runtime.config.mailbox
    for account in sorted({row.account for row in rows if row.account != source.account}):
        purged.not_removed.append(f"{account}：不是当前配置的邮箱，其中的邮件原件未删除")
    mails = [StoredMail(row.raw_sha256, row.raw_size, row.message_id) for row in rows if row.account == source.account]
    if not mails:
        return
    if config.kind == "imap" and not imap_delete:
        purged.not_removed.append(f"IMAP 服务器 {config.host} 上 {config.username} 的「{config.folder}」和"
                                  f"「{config.processed_folder}」文件夹中的 {len(mails)} 封邮件原件仍保留；"
                                  "如需一并删除，请加 --imap-delete")
        return
    try:
        removed = source.delete(mails)
    except SourceError as exc:
        purged.not_removed.append(f"邮箱中的邮件原件未能删除：{exc}")
        return
    finally:
        source.close()
    purged.removed += removed
    if len(removed) < len(mails):
        purged.not_removed.append(f"邮箱中 {len(mails) - len(removed)} 封邮件的原件未找到（可能已被人移走或删除）")


def purge_campaign(runtime: Runtime, campaign_id: str, actor: str, imap_delete: bool = False) -> Purged:
    with new_session(runtime.engine) as session:
        rows = list(session.exec(select(MessageRow).where(MessageRow.campaign_id == campaign_id)).all())
        purged = Purged(len(rows))
        own = _remove_blobs(runtime, session, rows, campaign_id, purged)
        nominee_ids = list(session.exec(select(NomineeRow.id).where(NomineeRow.campaign_id == campaign_id)).all())
        _remove_copies(_staff_copies(runtime, session, campaign_id, nominee_ids), purged)
        _remove_from_mailbox(runtime, own, imap_delete, purged)
        purged.masked = scrub_campaign(session, campaign_id, [row.id for row in rows])
        audit(session, "campaign", 0, "purged", actor=actor,
              note=f"{campaign_id}: {purged.blobs_removed} raw files, {purged.bytes_removed} bytes; "
                   f"{len(purged.removed)} copies removed, {len(purged.not_removed)} not; "
                   f"{sum(purged.masked.values())} rows masked")
        session.commit()
    if problem := compact(runtime.engine):
        purged.not_removed.append(problem)
    return purged
