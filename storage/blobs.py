"""Raw mail and files on disk, content-addressed by sha256, readable by the service's user only."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path


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

    def delete(self, sha256: str) -> bool:
        try:
            self.path(sha256).unlink()
            return True
        except FileNotFoundError:
            return False
