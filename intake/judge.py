"""The judging pipeline for one message: bytes → message → documents → nominees → verdict."""

from __future__ import annotations

from datetime import datetime

from campaigns.schema import Profile
from ingest.mime import parse_message
from ingest.types import Message
from nominees.assemble import assemble
from nominees.kinds import is_parsed_as_document
from parsers import parse_document
from parsers.types import ParsedDocument
from validators.evaluate import Verdict, evaluate


def read_documents(message: Message, profile: Profile) -> dict[int, ParsedDocument]:
    """Every document-like attachment read, keyed by its index in the message."""
    return {
        index: parse_document(attachment, profile.form.title_keywords, profile.limits)
        for index, attachment in enumerate(message.attachments)
        if is_parsed_as_document(attachment.media_type, attachment.filename)
    }


def judge_message(message: Message, profile: Profile) -> Verdict:
    return evaluate(assemble(message, read_documents(message, profile), profile), profile)


def judge(raw: bytes, profile: Profile, received_at: datetime | None = None, received_at_source: str = "imap") -> Verdict:
    """Judge one raw e-mail for a campaign. Never raises for bad input, only for our own bugs."""
    message = parse_message(raw, limits=profile.limits, received_at=received_at, received_at_source=received_at_source)
    return judge_message(message, profile)
