"""After a campaign: remove its raw mail and files from disk, keep the records staff need."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from intake.runtime import Runtime
from storage.blobs import BlobStore
from storage.db import session as new_session
from storage.filing import audit
from storage.models import MessageRow


@dataclass(frozen=True)
class Purged:
    messages: int
    blobs_removed: int
    bytes_removed: int
    kept_shared: int  # the same bytes also filed for another campaign: kept for that one


def purge_campaign(runtime: Runtime, campaign_id: str, actor: str) -> Purged:
    blobs = BlobStore(runtime.config.data_path / "blobs")
    with new_session(runtime.engine) as session:
        rows = session.exec(select(MessageRow).where(MessageRow.campaign_id == campaign_id)).all()
        removed = kept = size = 0
        for sha256 in sorted({row.raw_sha256 for row in rows}):
            elsewhere = session.exec(select(MessageRow.id).where(
                MessageRow.raw_sha256 == sha256, MessageRow.campaign_id != campaign_id)).first()
            if elsewhere is not None:
                kept += 1
                continue
            path = blobs.path(sha256)
            length = path.stat().st_size if path.exists() else 0
            if blobs.delete(sha256):
                removed += 1
                size += length
        audit(session, "campaign", 0, "purged", note=f"{campaign_id}: {removed} raw files, {size} bytes",
              actor=actor)
        session.commit()
    return Purged(len(rows), removed, size, kept)
