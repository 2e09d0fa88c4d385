"""A stored message judged again as it was judged the first time: with the files a follow-up kept."""

from __future__ import annotations

from service.judge import judge_message
from service.runtime import Runtime
from storage.db import session as new_session
from storage.models import MessageRow
from storage.stored import Shelf
from validators.evaluate import Verdict


def rejudged(runtime: Runtime, row: MessageRow) -> Verdict | None:
    """The message's verdict by today's rules; None when `intake purge` removed its raw mail."""
    with new_session(runtime.engine) as session:
        message = Shelf(session, runtime.blobs, runtime.profile.limits).as_judged(row)
    return None if message is None else judge_message(message, runtime.profile)
