"""The embedded default transport: each reply written as an .eml file in a private folder."""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime, timezone
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from replies.transport import SendConfigurationError, TransientSendError


class FolderTransport:
    """Writes `<UTC time of the reply's Date:>-<hash of its Message-ID>.eml`, atomically.

    The name comes from the reply itself, so sending the same reply again (a crash between
    writing and marking it sent) replaces the same file instead of adding a second one. The
    folder is created with mode 0700 and each file is 0600 (replies name nominees).
    The envelope (sender, recipients) is not stored: for a reply it is its From: and To:.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def file_name(self, raw: bytes) -> str:
        headers = BytesHeaderParser().parsebytes(raw)
        identity = (headers.get("Message-ID") or "").strip().encode("utf-8", "replace") or raw
        try:
            written = parsedate_to_datetime(headers["Date"]) if headers.get("Date") else None
        except (TypeError, ValueError):
            written = None
        if written is None or written.tzinfo is None:
            written = datetime.now(timezone.utc)
        stamp = written.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        return f"{stamp}-{hashlib.sha256(identity).hexdigest()[:16]}.eml"

    def _folder(self) -> Path:
        if not self.path.is_dir():
            self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.path, 0o700)  # mkdir's mode is cut by the umask
        return self.path

    def check(self) -> None:
        """Create the folder if need be and prove a file can be written there (for `intake doctor`)."""
        try:
            handle, probe = tempfile.mkstemp(dir=self._folder(), prefix=".writing-check-")
            os.close(handle)
            os.unlink(probe)
        except PermissionError as exc:
            raise SendConfigurationError(f"no permission to write replies to {self.path}: {exc.strerror or exc}") from exc
        except OSError as exc:
            raise TransientSendError(f"cannot write replies to {self.path}: {exc.strerror or exc}") from exc

    def send(self, raw: bytes, sender: str, recipients: list[str]) -> None:
        try:
            folder = self._folder()
            target = folder / self.file_name(raw)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".writing-", suffix=".eml")  # mode 0600
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(raw)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            directory = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except PermissionError as exc:
            raise SendConfigurationError(f"no permission to write replies to {self.path}: {exc.strerror or exc}") from exc
        except OSError as exc:
            # a full disk or a permission problem: the reply is fine, try again later
            raise TransientSendError(f"cannot write the reply to {self.path}: {exc.strerror or exc}") from exc
