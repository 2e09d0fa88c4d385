"""Mail from a local folder (the embedded default): a Maildir, or a plain folder of .eml files.

Layout: `mailbox.path` with a `cur/` or `new/` directory is a Maildir (its `new/` and `cur/`
files are the messages); otherwise the folder's `*.eml` files are the inbox, as in the
bundled `samples/mailbox/`.

UIDs: the file `.intake-uidlist` in the folder holds `V<uidvalidity> N<next uid>`, then one
`<uid>\\t<name>` line per message (for a Maildir the name without its `:2,` flags, so a flag
change or a move from new/ to cur/ keeps the UID). It is written, atomically, before any mail
is offered, so a restart never renumbers. Without it (first use, or deleted) a new random
UIDVALIDITY is drawn: everything is offered again and the service recognises what it filed.

A Maildir delivery appears whole (written in tmp/, renamed into new/). Put .eml files into a
folder the running service polls the same way: write them elsewhere on the disk, then move them
in; a file still being copied could be read half.

Time of arrival: for a Maildir the file's mtime, which is the delivery time (and what Dovecot
reports as INTERNALDATE for Maildir); for a plain .eml folder None, because a copied file's
mtime says when it was copied: the judge then reads the Received: headers.

Setting aside never deletes and never overwrites (a taken name gets a number in front):
- Maildir, move: into the Maildir++ subfolder `<path>/.<name in modified UTF-7>/` (for 已处理
  `.&XfJZBHQG-`, the folder Dovecot and Courier show as 已处理), same subdirectory and file
  name, so flags and mtime stay. Flag: the Maildir flag F (\\Flagged), UID unchanged.
- .eml folder, move: into the subfolder `<path>/<name>/` (`samples/mailbox/已处理/`). Flag: the
  file stays where it is (a plain folder has no flags); the cursor keeps it from being offered again.
Writes into the folder: point `mailbox.path` at a copy of anything that must stay untouched.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Literal, Sequence

from imapclient import imap_utf7

from core.settings import Strict, anchored
from ingest.sources.base import Batch, Cursor, FetchedMail, StoredMail
from ingest.sources.errors import SourceError, SourceUnavailable

STATE_FILE = ".intake-uidlist"

log = logging.getLogger("intake.sources.maildir")


@dataclass
class _UidList:
    uidvalidity: int
    next_uid: int
    uids: dict[str, int] = field(default_factory=dict)  # message name → UID
    names: dict[int, str] = field(default_factory=dict)  # UID → message name

    def add(self, name: str, uid: int | None = None) -> None:
        uid = self.next_uid if uid is None else uid
        self.uids[name], self.names[uid] = uid, name
        self.next_uid = max(self.next_uid, uid + 1)

    def remove(self, name: str) -> None:
        self.names.pop(self.uids.pop(name), None)


class MaildirConfig(Strict):
    """`[mailbox]` with kind = "maildir": a local Maildir, or a plain folder of .eml files (the embedded default)."""

    kind: Literal["maildir"] = "maildir"
    path: Path = Path("samples/mailbox")
    folder: str = "INBOX"  # the name the ledger files this folder's mail under
    processed_folder: str = "已处理"  # filed mail is moved here (a Maildir subfolder) ...
    processed_action: Literal["move", "flag"] = "move"  # ... or only flagged; never deleted

    def anchored(self, base: Path) -> "MaildirConfig":
        return self.model_copy(update={"path": anchored(self.path, base)})


class MaildirSource:
    """One local folder; see `base.MailSource`. Polling costs a directory listing, no reads."""

    def __init__(self, config: MaildirConfig):
        self.config = config
        self.path = Path(config.path)
        self.account = f"maildir:{self.path.resolve()}"
        self._uidlist: _UidList | None = None
        self._uidlist_stamp: tuple[int, int, int] | None = None
        self._files: dict[str, str] = {}  # message name → its file, as the last listing saw it

    @property
    def is_maildir(self) -> bool:
        return (self.path / "cur").is_dir() or (self.path / "new").is_dir()

    # --- the MailSource protocol ---------------------------------------------------------

    def poll(self, cursor: Cursor) -> Batch:
        """Files not offered before (every file if UIDVALIDITY changed), in UID order."""
        self._files = self._list()
        uidlist = self._numbered(self._files)
        resynchronising = cursor.uidvalidity not in (0, uidlist.uidvalidity)
        after = 0 if resynchronising else cursor.last_uid
        due = sorted((uid, name) for name, uid in uidlist.uids.items() if uid > after and name in self._files)
        mails = self._read(cursor.folder, uidlist.uidvalidity, due, with_mtime=self.is_maildir)
        return Batch(uidlist.uidvalidity, resynchronising, mails)

    def set_aside(self, mail: FetchedMail) -> None:
        """Move the file to the processed folder, or flag it (see the module docstring)."""
        uidlist = self._load()
        if uidlist is None or uidlist.uidvalidity != mail.uidvalidity:
            raise SourceError(f"{self.path}: the folder was renumbered since message UID {mail.uid} was taken; "
                              "it is left where it is and the next poll offers the folder again")
        name = uidlist.names.get(mail.uid)
        path = self._current_file(name) if name else None
        if path is None:
            return  # already set aside (or taken away by someone): nothing to do
        try:
            if self.config.processed_action == "flag":
                self._flag(name, path)
            else:
                self._move(name, path)
        except OSError as exc:
            raise SourceUnavailable(f"{self.path}: cannot set aside {path.name}: {exc.strerror or exc}") from exc

    def wait_for_mail(self, seconds: float) -> bool:
        """Not supported for a local folder: the service polls it on its timer."""
        return False

    def delete(self, mails: Sequence[StoredMail]) -> list[str]:
        """Remove the files holding these messages, in the folder and the processed folder, found by
        their bytes (the name a move gave them does not matter). The UID list forgets them at the
        next poll, as it does any file taken away."""
        wanted = {(mail.size, mail.sha256) for mail in mails}
        sizes = {size for size, _ in wanted}
        removed = []
        for path in self._copies():
            try:
                size = path.stat().st_size
                if size in sizes and (size, _sha256(path)) in wanted:
                    path.unlink()
                    removed.append(str(path))
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise SourceUnavailable(f"cannot remove {path}: {exc.strerror or exc}") from exc
        self._files = {}
        return removed

    def poll_check(self) -> str:
        """For `intake doctor`: the folder is there and writable; what it holds."""
        files = self._list()
        if not os.access(self.path, os.W_OK):
            raise SourceUnavailable(f"{self.path} 不可写：邮件编号表和已处理文件夹都在其中，请让运行 intake 的用户可写")
        layout = "Maildir" if self.is_maildir else ".eml 文件夹"
        return f"{layout} {self.path} 有 {len(files)} 封邮件"

    def close(self) -> None:
        self._files = {}

    # --- listing and numbering -----------------------------------------------------------

    def _list(self) -> dict[str, str]:
        """Message name → file path (str: a Path per file would be most of an empty poll's time)."""
        if not self.path.is_dir():
            raise SourceUnavailable(f"没有邮件文件夹 {self.path}（mailbox.path）")
        try:
            if self.is_maildir:
                return {_maildir_name(entry.name): entry.path
                        for sub in ("new", "cur") if (self.path / sub).is_dir()
                        for entry in os.scandir(self.path / sub) if _is_message(entry)}
            return {entry.name: entry.path for entry in os.scandir(self.path)
                    if _is_message(entry) and entry.name.lower().endswith(".eml")}
        except OSError as exc:
            raise SourceUnavailable(f"cannot list {self.path}: {exc.strerror or exc}") from exc

    def _numbered(self, files: dict[str, str]) -> _UidList:
        """The UID list with every listed file numbered (new ones in name order) and gone ones dropped."""
        loaded = self._load()
        uidlist = loaded or _UidList(secrets.randbelow(2**31 - 1) + 1, 1)
        new = sorted(name for name in files if name not in uidlist.uids)
        gone = [name for name in uidlist.uids if name not in files]
        if new or gone or loaded is None:
            for name in gone:
                uidlist.remove(name)
            for name in new:
                uidlist.add(name)
            self._save(uidlist)
        return uidlist

    def _load(self) -> _UidList | None:
        state = self.path / STATE_FILE
        try:
            info = state.stat()
        except FileNotFoundError:
            self._uidlist = self._uidlist_stamp = None
            return None
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        if stamp != self._uidlist_stamp:
            self._uidlist, self._uidlist_stamp = _parse(state.read_text("utf-8", "surrogateescape")), stamp
            if self._uidlist is None:
                log.warning("%s is damaged: the folder is numbered afresh and offered again", state)
        return self._uidlist

    def _save(self, uidlist: _UidList) -> None:
        state = self.path / STATE_FILE
        lines = [f"V{uidlist.uidvalidity} N{uidlist.next_uid}\n"]
        lines += [f"{uid}\t{name}\n" for name, uid in sorted(uidlist.uids.items(), key=lambda item: item[1])]
        scratch = state.with_name(f"{STATE_FILE}.{os.getpid()}.tmp")
        try:
            with open(scratch, "w", encoding="utf-8", errors="surrogateescape") as handle:
                handle.writelines(lines)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(scratch, state)
        except OSError as exc:
            self._uidlist = self._uidlist_stamp = None  # forget the unsaved numbering
            raise SourceUnavailable(f"cannot write {state}: {exc.strerror or exc}") from exc
        info = state.stat()
        self._uidlist, self._uidlist_stamp = uidlist, (info.st_ino, info.st_mtime_ns, info.st_size)

    def _read(self, folder: str, uidvalidity: int, due: list[tuple[int, str]],
              with_mtime: bool) -> Iterator[FetchedMail]:
        for uid, name in due:
            path = self._current_file(name)
            if path is None:
                continue  # taken away since the listing
            try:
                raw = path.read_bytes()
                arrived = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise SourceUnavailable(f"cannot read {path}: {exc.strerror or exc}") from exc
            yield FetchedMail(self.account, folder, uidvalidity, uid, raw, arrived if with_mtime else None)

    def _current_file(self, name: str) -> Path | None:
        """Where the message is now (another client may have moved it from new/ to cur/)."""
        path = self._files.get(name)
        if path is None or not os.path.exists(path):
            self._files = self._list()
            path = self._files.get(name)
        return Path(path) if path is not None else None

    # --- setting aside -------------------------------------------------------------------

    def _processed(self) -> Path:
        if not self.is_maildir:
            return self.path / self.config.processed_folder
        encoded = imap_utf7.encode(self.config.processed_folder).decode("ascii")
        return self.path / ("." + encoded.replace("/", "."))  # Maildir++ separates levels with "."

    def _copies(self) -> Iterator[Path]:
        """Every message file of the folder and of the processed folder."""
        if self.is_maildir:
            folders = [folder / sub for folder in (self.path, self._processed()) for sub in ("new", "cur")]
        else:
            folders = [self.path, self._processed()]
        for folder in folders:
            if folder.is_dir():
                yield from (Path(entry.path) for entry in os.scandir(folder)
                            if entry.is_file() and not entry.name.startswith("."))

    def _move(self, name: str, path: Path) -> None:
        if self.is_maildir:
            target = self._processed()
            for sub in ("cur", "new", "tmp"):
                (target / sub).mkdir(parents=True, exist_ok=True)
            (target / "maildirfolder").touch()  # marks a Maildir++ subfolder
            destination = target / path.parent.name
        else:
            destination = self.path / self.config.processed_folder
            destination.mkdir(parents=True, exist_ok=True)
        os.rename(path, _free_name(destination, path.name))
        self._files.pop(name, None)

    def _flag(self, name: str, path: Path) -> None:
        if not self.is_maildir:
            return
        info = path.name.partition(":2,")[2] if ":2," in path.name else ""
        if "F" in info and path.parent.name == "cur":
            return
        flagged = self.path / "cur" / f"{name}:2,{''.join(sorted(set(info) | {'F'}))}"
        os.rename(path, flagged)
        self._files[name] = str(flagged)


def _is_message(entry: os.DirEntry) -> bool:
    return not entry.name.startswith(".") and "\n" not in entry.name and entry.is_file()


def _maildir_name(filename: str) -> str:
    """A Maildir file's unique name, without the `:2,<flags>` info that changes with its flags."""
    return filename.split(":", 1)[0]


def _parse(text: str) -> _UidList | None:
    lines = text.splitlines()
    try:
        validity, next_uid = lines[0].split()
        uidlist = _UidList(int(validity.removeprefix("V")), int(next_uid.removeprefix("N")))
        for line in lines[1:]:
            uid, name = line.split("\t", 1)
            uidlist.add(name, int(uid))
    except (IndexError, ValueError):
        return None  # damaged: numbered afresh under a new UIDVALIDITY, which the service copes with
    return uidlist


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _free_name(directory: Path, name: str) -> Path:
    """`directory/name`, or `directory/2-name`, `3-name`… whichever is not taken."""
    candidate, number = directory / name, 1
    while candidate.exists():
        number += 1
        candidate = directory / f"{number}-{name}"
    return candidate
