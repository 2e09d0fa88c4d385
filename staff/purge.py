"""After a campaign: remove its raw mail and files from disk, keep the records staff need."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from service.runtime import Runtime
from storage.db import session as new_session
from storage.filing import audit
from storage.models import ForwardMessageRow, ForwardRow, MessageRow, NomineeRow


@dataclass(frozen=True)
class Purged:
    messages: int
    blobs_removed: int
    bytes_removed: int
    kept_shared: int  # the same bytes also filed for another campaign: kept for that one
    folders_removed: tuple[str, ...] = ()  # review copies, exports, forwarded mail: personal data in full


def _staff_copies(runtime: Runtime, campaign_id: str, nominee_ids: list[int]) -> list[Path]:
    """Files written out for staff (`review show`, `export`, `rank`): they hold ID numbers in full."""
    data = runtime.config.data_path
    review = [data / "review" / str(i) for i in nominee_ids]
    exports = list((data / "exports").glob(f"{campaign_id}-*")) if (data / "exports").is_dir() else []
    return [p for p in review + exports if p.exists()]


def _forwarded(session, campaign_id: str) -> list[ForwardMessageRow]:
    """The mails a district's forward wrote: their .eml files and raw bytes carry every nominee's
    material, ID numbers in full, like the raw mail itself."""
    return list(session.exec(select(ForwardMessageRow).join(ForwardRow, ForwardRow.id == ForwardMessageRow.forward_id)
                             .where(ForwardRow.campaign_id == campaign_id)).all())


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


def purge_campaign(runtime: Runtime, campaign_id: str, actor: str) -> Purged:
    blobs = runtime.blobs
    with new_session(runtime.engine) as session:
        rows = session.exec(select(MessageRow).where(MessageRow.campaign_id == campaign_id)).all()
        removed = kept = size = 0
        for sha256 in sorted({row.raw_sha256 for row in rows}):
            elsewhere = session.exec(select(MessageRow.id).where(
                MessageRow.raw_sha256 == sha256, MessageRow.campaign_id != campaign_id)).first()
            if elsewhere is not None:
                kept += 1
                continue
            length = blobs.size(sha256)  # on disk, or in the database on PostgreSQL (storage/blobs.py)
            if blobs.delete(sha256):
                removed += 1
                size += length
        for forwarded in _forwarded(session, campaign_id):
            length = blobs.size(forwarded.raw_sha256)
            if blobs.delete(forwarded.raw_sha256):
                removed += 1
                size += length
        nominee_ids = list(session.exec(select(NomineeRow.id).where(NomineeRow.campaign_id == campaign_id)).all())
        copies = _staff_copies(runtime, campaign_id, nominee_ids)
        copies += [Path(f.path) for f in _forwarded(session, campaign_id) if f.path and Path(f.path).exists()]
        for path in copies:
            _remove(path)
        audit(session, "campaign", 0, "purged", actor=actor,
              note=f"{campaign_id}: {removed} raw files, {size} bytes; {len(copies)} staff copies")
        session.commit()
    return Purged(len(rows), removed, size, kept, tuple(str(p) for p in copies))
