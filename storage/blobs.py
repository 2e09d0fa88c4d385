"""Raw mail and files, content-addressed by sha256: on disk readable by the service's user only, or in
PostgreSQL where two machines share the database.

On SQLite (one machine) the bytes are files under `data/blobs/`. On PostgreSQL they are rows of
the `blob` table: two instances in failover share nothing but the database, and the mail one of
them took before it died must be there for the other (it kept only on the machine that fetched
it aborted every poll of the other with FileNotFoundError). A shared file system would do too,
but it is one more thing to set up and to trust with locks; the database is already shared,
backed up (pg_dump) and replicated. Blobs written to disk before (an installation moved to
PostgreSQL) are still read, and removed, from there.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine


class BlobStoreFull(Exception):
    """The disk under the data folder is full: nothing was recorded for this message."""


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store the bytes once (idempotent) and durably before anything refers to them."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if target.exists() and target.stat().st_size == len(data):
            return sha256
        target.parent.mkdir(exist_ok=True, mode=0o700)
        temporary = target.with_suffix(f".tmp{os.getpid()}")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
            os.replace(temporary, target)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise BlobStoreFull(f"数据目录 {self.root} 所在磁盘已满，邮件未登记，将在空间释放后重试") from None
            raise
        return sha256

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def size(self, sha256: str) -> int:
        path = self.path(sha256)
        return path.stat().st_size if path.exists() else 0

    def delete(self, sha256: str) -> bool:
        try:
            self.path(sha256).unlink()
            return True
        except FileNotFoundError:
            return False


class DatabaseBlobStore(BlobStore):
    """The `blob` table (PostgreSQL), with the disk store of before as a place to read from.

    Forked judging workers use it too: each process opens its own engine (a connection must not
    cross a fork)."""

    def __init__(self, root: Path, engine: Engine):
        super().__init__(root)
        self._engine = engine
        self._pid = os.getpid()

    def __getstate__(self) -> dict:
        return {"root": self.root, "url": self._url()}

    def _url(self) -> str:
        return self._engine.url.render_as_string(hide_password=False)

    def __setstate__(self, state: dict) -> None:
        from storage.db import make_engine

        self.root, self._engine, self._pid = state["root"], make_engine(state["url"]), os.getpid()

    def _connection_engine(self) -> Engine:
        if os.getpid() != self._pid:
            from storage.db import make_engine

            self._engine, self._pid = make_engine(self._url()), os.getpid()
        return self._engine

    def put(self, data: bytes) -> str:
        from storage.models import BlobRow

        sha256 = hashlib.sha256(data).hexdigest()
        statement = pg_insert(BlobRow.__table__).values(sha256=sha256, size=len(data), data=data)
        with self._connection_engine().begin() as connection:  # committed before the ledger row names it
            connection.execute(statement.on_conflict_do_nothing(index_elements=["sha256"]))
        return sha256

    def get(self, sha256: str) -> bytes:
        from storage.models import BlobRow

        table = BlobRow.__table__
        with self._connection_engine().connect() as connection:
            data = connection.execute(table.select().with_only_columns(table.c.data)
                                      .where(table.c.sha256 == sha256)).scalar()
        if data is not None:
            return bytes(data)
        return super().get(sha256)  # FileNotFoundError when it is nowhere (purged)

    def size(self, sha256: str) -> int:
        from storage.models import BlobRow

        table = BlobRow.__table__
        with self._connection_engine().connect() as connection:
            size = connection.execute(table.select().with_only_columns(table.c.size)
                                      .where(table.c.sha256 == sha256)).scalar()
        return size if size is not None else super().size(sha256)

    def delete(self, sha256: str) -> bool:
        from storage.models import BlobRow

        table = BlobRow.__table__
        with self._connection_engine().begin() as connection:
            removed = connection.execute(table.delete().where(table.c.sha256 == sha256)).rowcount
        return bool(removed) | super().delete(sha256)


def open_blobs(data_path: Path, engine: Engine | None) -> BlobStore:
    """The blob store for this database: the `blob` table on PostgreSQL, files under data/blobs otherwise."""
    root = Path(data_path) / "blobs"
    if engine is not None and engine.dialect.name == "postgresql":
        return DatabaseBlobStore(root, engine)
    return BlobStore(root)
