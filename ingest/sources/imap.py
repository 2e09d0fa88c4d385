"""Mail from an IMAP server: what arrived since the cursor, by UID, and setting it aside once filed.

One connection per source, opened on first use and opened again on the next call after it
was lost. A poll is one SELECT and one `UID SEARCH UID n:*` however large the folder is;
messages are fetched with `BODY.PEEK[]` (nothing is marked read) in chunks bounded by count
and by size, and handed over lazily, oldest first.
"""

from __future__ import annotations

import logging
import ssl
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Iterator, Sequence

from imapclient import IMAPClient
from imapclient import exceptions as imap_errors

from ingest.sources import imap_talk as talk
from ingest.sources.base import Batch, Cursor, FetchedMail, StoredMail
from ingest.sources.errors import SourceAuthFailed, SourceError, SourceMisconfigured, SourceUnavailable
from ingest.sources.imap_config import ImapConfig, check_config, password_of

log = logging.getLogger("intake.sources.imap")

# RFC 2177: a client should end IDLE and start it again at least every 29 minutes or the
# server may log it out as inactive. Renewing every 10 minutes also notices within minutes a
# connection that a NAT router dropped without a word (TCP keepalive helps there too).
IDLE_RENEWAL_SECONDS = 10 * 60
# Login refusals that say "not now" rather than "wrong password" (RFC 5530 response codes)
TEMPORARY_LOGIN_CODES = ("[UNAVAILABLE]", "[LIMIT]", "[INUSE]", "[SERVERBUG]")
# Set with \Flagged in flag mode where the server keeps keywords (PERMANENTFLAGS has \*).
FILED_KEYWORD = b"$Filed"
DELETED = b"\\Deleted"
FLAGGED = b"\\Flagged"


@dataclass(frozen=True)
class _Selected:
    """What SELECT told us about the folder the connection has open."""

    folder: str
    uidvalidity: int
    uidnext: int | None
    exists: int
    permanent_flags: tuple[bytes, ...]


class ImapSource:
    """One IMAP account and folder (`mailbox.*` in the config); see `base.MailSource`."""

    def __init__(self, config: ImapConfig, *, chunk_messages: int = 100, chunk_bytes: int = 16 * 2**20,
                 idle_renewal_seconds: float = IDLE_RENEWAL_SECONDS):
        """`chunk_messages`/`chunk_bytes` bound one FETCH (a bigger message comes alone);
        IDLE is ended and started again every `idle_renewal_seconds`."""
        check_config(config)
        self.config = config
        self.account = f"imap:{config.username}@{config.host}"
        self._where = f"{config.host}:{config.port}"
        self._chunk_messages = max(1, chunk_messages)
        self._chunk_bytes = max(1, chunk_bytes)
        self._idle_renewal = idle_renewal_seconds
        self._client: IMAPClient | None = None
        self._selected: _Selected | None = None
        self._processed_folder_ready = False
        self._uidnext_polled: dict[str, int] = {}  # folder → UIDNEXT as the last poll saw it
        self._warned_flag_fallback = False

    def __enter__(self) -> "ImapSource":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the MailSource protocol ---------------------------------------------------------

    def poll(self, cursor: Cursor) -> Batch:
        """New mail in `cursor.folder`, oldest first; everything again if UIDVALIDITY changed.

        A fresh cursor (UIDVALIDITY 0) is a first poll, not a resynchronisation. The SELECT
        and SEARCH happen here (errors raise here); FETCHes happen as `mails` is iterated.
        """
        with self._talking(f"opening folder {cursor.folder!r}"):
            box = self._select(cursor.folder)
            resynchronising = cursor.uidvalidity not in (0, box.uidvalidity)
            after = 0 if resynchronising else cursor.last_uid
            uids = self._uids_after(after)
        newest = max([box.uidnext or 0, *(uid + 1 for uid in uids[-1:])])
        self._uidnext_polled[cursor.folder] = newest
        return Batch(box.uidvalidity, resynchronising, self._fetch(box, uids))

    def set_aside(self, mail: FetchedMail) -> None:
        """Move the filed message to the processed folder (MOVE, else COPY + UID EXPUNGE of
        that UID alone), or flag it. Doing it twice is harmless; nothing is ever deleted.

        Servers with neither MOVE nor UIDPLUS cannot remove one message without risking
        others marked \\Deleted, so there the message is flagged instead (logged once).
        """
        with self._talking(f"setting aside message UID {mail.uid} in {mail.folder!r}"):
            box = self._select(mail.folder)
            if box.uidvalidity != mail.uidvalidity:
                raise SourceError(
                    f"IMAP server {self._where}: folder {mail.folder!r} was renumbered (UIDVALIDITY "
                    f"{mail.uidvalidity} → {box.uidvalidity}) since message UID {mail.uid} was fetched; "
                    "it is left where it is and the next poll offers the folder again")
            self._set_aside_how()(box, mail.uid)

    def wait_for_mail(self, seconds: float) -> bool:
        """IDLE on the configured folder until new mail arrives (True) or `seconds` pass (False).

        False at once when `mailbox.idle` is off or the server has no IDLE: poll on a timer.
        True at once when mail arrived since the last poll, before IDLE began.
        """
        if not self.config.idle:
            return False
        folder = self.config.folder
        with self._talking(f"waiting for new mail in {folder!r} (IDLE)"):
            box = self._select(folder)
            if not self._client.has_capability("IDLE"):
                return False
            polled = self._uidnext_polled.get(folder)
            if polled is not None and box.uidnext is not None and box.uidnext > polled:
                return True
            return self._idle(box.exists, time.monotonic() + max(0.0, seconds))

    def delete(self, mails: Sequence[StoredMail]) -> list[str]:
        """Expunge every copy of these messages from the folder and the processed folder (`intake
        purge --imap-delete`): found and confirmed by their bytes, removed by UID EXPUNGE of those
        UIDs alone, so mail someone else marked \\Deleted stays."""
        removed = []
        for folder in dict.fromkeys((self.config.folder, self.config.processed_folder)):
            with self._talking(f"removing purged mail from {folder!r}"):
                if not self._connection().folder_exists(folder):
                    continue
                self._select(folder)
                uids = talk.copies(self._client, mails)
                if uids and not self._client.has_capability("UIDPLUS"):
                    raise SourceError(f"IMAP server {self._where} offers no UIDPLUS: it cannot expunge single "
                                      "messages without taking others marked \\Deleted; delete them in webmail")
                if uids:
                    self._client.add_flags(uids, [DELETED], silent=True)
                    self._client.uid_expunge(uids)
            removed += [f"IMAP {self.config.username}@{self.config.host} {folder} UID {uid}" for uid in uids]
        return removed

    def poll_check(self) -> str:
        """For `intake doctor`: log in, open the folder, look for the processed folder; what was found.

        Raises what `poll` raises (SourceAuthFailed, SourceUnavailable, SourceError…).
        """
        config = self.config
        with self._talking(f"opening folder {config.folder!r}"):
            box = self._select(config.folder)
            processed = self._client.folder_exists(config.processed_folder)
            idle = self._client.has_capability("IDLE")
            how = {"_move": "移入", "_copy_and_expunge": "复制后移出收件箱，放入", "_flag": "加星标，不移入"}[
                self._set_aside_how().__name__]
        found = "已存在" if processed else "首次使用时建立"
        return (f"已登录 {self._where}（{config.username}，{config.security}）；文件夹 {config.folder} 有 {box.exists} 封邮件；"
                f"已登记的邮件{how}文件夹 {config.processed_folder}（{found}）；"
                f"{'支持 IDLE：新邮件即时收取' if idle else '不支持 IDLE：按时收取'}")

    def close(self) -> None:
        """Log out (best effort); the next call connects again."""
        client, self._client, self._selected = self._client, None, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - closing a connection that is already gone
            with suppress(Exception):
                client.shutdown()

    # --- connecting ----------------------------------------------------------------------

    @contextmanager
    def _talking(self, doing: str) -> Iterator[None]:
        """Turn imapclient's and the socket's errors into ours; a failed connection is dropped."""
        try:
            yield
        except imap_errors.LoginError as exc:
            self._drop()
            if any(code in talk.words(exc) for code in TEMPORARY_LOGIN_CODES):
                raise SourceUnavailable(f"IMAP server {self._where} cannot log us in now: {talk.words(exc)}") from exc
            raise SourceAuthFailed(
                f"IMAP server {self._where} refused the login of {self.config.username!r}: wrong user name or "
                "password (QQ, 163 and 126 mail need the app authorization code 授权码, not the web "
                f"password). The server said: {talk.words(exc)}") from exc
        except (imap_errors.IMAPClientAbortError, OSError) as exc:
            self._drop()
            raise SourceUnavailable(
                f"IMAP server {self._where}: {doing}: {talk.reason(exc, self.config.timeout_seconds)}") from exc
        except imap_errors.IMAPClientError as exc:
            self._drop()
            raise SourceError(f"IMAP server {self._where} refused {doing}: {talk.words(exc)}") from exc

    def _connection(self) -> IMAPClient:
        if self._client is None:
            self._client = self._open()
            self._processed_folder_ready = False
        return self._client

    def _open(self) -> IMAPClient:
        config = self.config
        context = None if config.security == "plain" else self._tls_context()
        client = IMAPClient(config.host, config.port, ssl=config.security == "ssl", ssl_context=context,
                            timeout=config.timeout_seconds)
        try:
            if config.security == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise SourceUnavailable(f"IMAP server {self._where} does not offer STARTTLS; use "
                                            'security = "ssl" (usually port 993)')
                client.starttls(context)
            client.login(config.username, password_of(config))
            if client.has_capability("ID"):  # capabilities come with the login answer: no extra command
                try:
                    client.id_(talk.client_id())
                except imap_errors.IMAPClientAbortError:
                    raise
                except imap_errors.IMAPClientError as exc:  # a refusal here is not ours to fail on
                    log.info("IMAP server %s refused the ID command: %s", self._where, talk.words(exc))
            talk.keep_alive(client.socket())
        except BaseException:
            with suppress(Exception):
                client.shutdown()
            raise
        client.normalise_times = False  # INTERNALDATE with the server's zone, timezone-aware
        return client

    def _tls_context(self) -> ssl.SSLContext:
        ca_file = self.config.ca_file
        try:
            return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise SourceMisconfigured(f"无法使用 mailbox.ca_file {ca_file}（{exc}）：请检查证书文件的路径和内容") from None

    def _drop(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            with suppress(Exception):
                client.shutdown()

    def _select(self, folder: str) -> _Selected:
        """SELECT `folder` read-write, connecting again once if the connection died since its last use."""
        reused = self._client is not None
        try:
            return self._select_on(self._connection(), folder)
        except (imap_errors.IMAPClientAbortError, OSError):
            if not reused:
                raise
            log.info("the connection to IMAP server %s was lost since its last use; connecting again", self._where)
            self._drop()
        return self._select_on(self._connection(), folder)

    def _select_on(self, client: IMAPClient, folder: str) -> _Selected:
        # Read-write even for fetching: set_aside needs it, and BODY.PEEK[] leaves \Seen alone.
        answer = client.select_folder(folder)
        if b"UIDVALIDITY" not in answer:
            raise SourceError(f"IMAP server {self._where} gave no UIDVALIDITY for {folder!r}: "
                              "its UIDs cannot be tracked")
        uidnext = answer.get(b"UIDNEXT")
        self._selected = _Selected(folder, int(answer[b"UIDVALIDITY"]), int(uidnext) if uidnext else None,
                                   int(answer.get(b"EXISTS", 0)), tuple(answer.get(b"PERMANENTFLAGS", ())))
        return self._selected

    # --- polling -------------------------------------------------------------------------

    def _uids_after(self, last_uid: int) -> list[int]:
        found = self._client.search(["UID", f"{last_uid + 1}:*"])
        # "n:*" always matches the highest UID, even when it is below n
        return sorted(uid for uid in found if uid > last_uid)

    def _fetch(self, box: _Selected, uids: list[int]) -> Iterator[FetchedMail]:
        for group in talk.batched(uids, self._chunk_messages):
            with self._talking(f"reading message sizes in {box.folder!r}"):
                sizes = self._still_open(box).fetch(group, ["RFC822.SIZE"])
            for part in talk.by_size(group, sizes, self._chunk_bytes):
                with self._talking(f"fetching mail from {box.folder!r}"):
                    data = self._still_open(box).fetch(part, ["BODY.PEEK[]", "INTERNALDATE"])
                yield from self._mails(box, part, data)

    def _still_open(self, box: _Selected) -> IMAPClient:
        """The connection, with `box` selected as when the poll began (set_aside may select another)."""
        if self._client is None:
            raise SourceUnavailable(f"IMAP server {self._where}: the connection was lost during the poll; "
                                    "the next poll carries on from the last message taken")
        current = self._selected
        if current is None or (current.folder, current.uidvalidity) != (box.folder, box.uidvalidity):
            if self._select_on(self._client, box.folder).uidvalidity != box.uidvalidity:
                raise SourceUnavailable(f"IMAP server {self._where}: folder {box.folder!r} was renumbered during "
                                        "the poll; the next poll offers it again")
        return self._client

    def _mails(self, box: _Selected, uids: list[int], data: dict) -> Iterator[FetchedMail]:
        for uid in uids:
            item = data.get(uid)
            if item is None:
                continue  # expunged by someone else since the search: there is nothing to take
            raw = item.get(b"BODY[]")
            if raw is None:
                raise SourceError(f"IMAP server {self._where} returned no content for message UID {uid} "
                                  f"in {box.folder!r}")
            yield FetchedMail(self.account, box.folder, box.uidvalidity, uid, bytes(raw),
                              talk.aware(item.get(b"INTERNALDATE")))

    # --- setting aside -------------------------------------------------------------------

    def _set_aside_how(self):
        client = self._client
        if self.config.processed_action == "flag":
            return self._flag
        if client.has_capability("MOVE"):
            return self._move
        if client.has_capability("UIDPLUS"):
            return self._copy_and_expunge
        if not self._warned_flag_fallback:
            log.warning("IMAP server %s offers neither MOVE nor UIDPLUS: filed mail is flagged, not moved", self._where)
            self._warned_flag_fallback = True
        return self._flag

    def _move(self, box: _Selected, uid: int) -> None:
        self._ensure_processed_folder()
        self._client.move([uid], self.config.processed_folder)

    def _copy_and_expunge(self, box: _Selected, uid: int) -> None:
        # UID EXPUNGE of this UID alone: other mail marked \Deleted by someone else stays.
        self._ensure_processed_folder()
        self._client.copy([uid], self.config.processed_folder)
        self._client.add_flags([uid], [DELETED], silent=True)
        self._client.uid_expunge([uid])

    def _flag(self, box: _Selected, uid: int) -> None:
        flags = [FLAGGED, FILED_KEYWORD] if b"\\*" in box.permanent_flags else [FLAGGED]
        self._client.add_flags([uid], flags, silent=True)

    def _ensure_processed_folder(self) -> None:
        if self._processed_folder_ready:
            return
        name = self.config.processed_folder
        if not self._client.folder_exists(name):
            log.info("creating folder %r on IMAP server %s for filed mail", name, self._where)
            self._client.create_folder(name)
            with suppress(imap_errors.IMAPClientError):
                self._client.subscribe_folder(name)  # so webmail shows it
        self._processed_folder_ready = True

    # --- IDLE ----------------------------------------------------------------------------

    def _idle(self, exists: int, deadline: float) -> bool:
        client = self._client
        while True:
            client.idle()
            arrived, exists = self._watch(client, exists, min(deadline, time.monotonic() + self._idle_renewal))
            _, late = client.idle_done()
            late_arrival, exists = talk.new_mail(late, exists)
            if arrived or late_arrival:
                return True
            if time.monotonic() >= deadline:
                return False

    def _watch(self, client: IMAPClient, exists: int, until: float) -> tuple[bool, int]:
        """Read IDLE responses until new mail, `until`, or a wake-up with nothing to read."""
        while (left := until - time.monotonic()) > 0:
            responses = client.idle_check(timeout=left)
            if any(response[:1] == (b"BYE",) for response in responses):
                raise SourceUnavailable(f"IMAP server {self._where} closed the connection during IDLE")
            arrived, exists = talk.new_mail(responses, exists)
            if arrived:
                return True, exists
            if not responses and until - time.monotonic() > 0.05:
                # readable but nothing parsed: most likely the server hung up; DONE tells
                return False, exists
        return False, exists
