"""Staff acts from the console through the staff functions, with the reply previewed first.

The preview is a dry run: the act runs as the command would, on one database connection whose
transaction is rolled back at the end, so what staff read is the reply the act composes, and
nothing is kept. The act itself then runs again and sends only a reply that says what the
preview said (a digest of recipient, subject and text); if the records changed in between
(another person's act took the number), it stops and shows the new reply instead.
"""

from __future__ import annotations

import email
import hashlib
import logging
import threading
from dataclasses import dataclass, replace
from email import policy
from typing import Any, Callable

from service.lock import Busy
from service.runtime import Runtime
from service.sending import send_outbox
from staff.answer import Answering
from staff.lookup import Cancelled
from storage.models import ReplyRow

log = logging.getLogger("intake")


@dataclass(frozen=True)
class ReplyPreview:
    to_addr: str
    subject: str
    text: str
    held_reason: str | None

    @property
    def digest(self) -> str:
        return hashlib.sha256("\x00".join((self.to_addr, self.subject, self.text)).encode()).hexdigest()


def reply_preview(reply: ReplyRow) -> ReplyPreview:
    message = email.message_from_bytes(reply.raw, policy=policy.default)
    body = message.get_body(("plain",))
    return ReplyPreview(reply.to_addr, str(message["Subject"] or ""), body.get_content() if body else "",
                        reply.held_reason)


Act = Callable[[Runtime, Answering], Any]


class Changed(Cancelled):
    """The reply the act composed now differs from the one staff were shown."""

    def __init__(self, preview: ReplyPreview):
        super().__init__("回复内容与预览不同（记录在此期间有变化），未做任何更改；请核对新的回复。")
        self.preview = preview


def dry_run(runtime: Runtime, act: Act) -> tuple[Any, ReplyPreview | None]:
    """The act's outcome and its reply, all of it rolled back."""
    shown: list[ReplyPreview] = []

    def capture(reply: ReplyRow) -> bool:
        shown.append(reply_preview(reply))
        return True

    with runtime.engine.connect() as connection:
        transaction = connection.begin()
        try:
            # sessions bound to a connection in a transaction never commit it (SQLAlchemy's
            # "join an external transaction"): every commit inside the act stays in it
            outcome = act(replace(runtime, engine=connection), Answering(send=True, confirm=capture))
        finally:
            transaction.rollback()
    return outcome, shown[0] if shown else None


def for_real(runtime: Runtime, act: Act, digest: str, send: bool) -> Any:
    """The act, kept; with `send`, its reply goes only if it is the one previewed."""
    if not send:
        return act(runtime, Answering(send=False))
    changed: list[ReplyPreview] = []

    def same(reply: ReplyRow) -> bool:
        preview = reply_preview(reply)
        if preview.digest != digest:
            changed.append(preview)
            return False
        return True

    try:
        return act(runtime, Answering(send=True, confirm=same))
    except Cancelled:
        if changed:
            raise Changed(changed[0]) from None
        raise


def send_soon(runtime: Runtime) -> None:
    """Send the outbox now, in the background, as `intake review` does; the service's send job
    retries whatever does not go."""

    def send() -> None:
        try:
            send_outbox(runtime)
        except Busy:
            pass  # the service is sending: the reply goes with it
        except Exception as exc:  # noqa: BLE001 - the reply is queued and safe; the send job retries it
            log.warning("工作台发送回复未成功，服务将重试：%s", exc)

    threading.Thread(target=send, name="web-send", daemon=True).start()
