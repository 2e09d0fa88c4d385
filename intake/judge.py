"""The judging pipeline for one message: bytes → message → documents → nominees → verdict."""

from __future__ import annotations

from datetime import datetime

from campaigns.schema import Profile
from ingest.mime import parse_message
from ingest.types import Message
from nominees.assemble import assemble, is_signature_image
from nominees.kinds import is_parsed_as_document
from parsers import parse_document
from parsers.media import MediaProbe, media_kind, probe_many
from parsers.types import ParsedDocument
from validators.evaluate import Verdict, evaluate


def read_documents(message: Message, profile: Profile) -> dict[int, ParsedDocument]:
    """Every document-like attachment read, keyed by its index in the message."""
    return {
        index: parse_document(attachment, profile.form.title_keywords, profile.limits)
        for index, attachment in enumerate(message.attachments)
        if is_parsed_as_document(attachment.media_type, attachment.filename)
    }


def probe_media_files(message: Message, profile: Profile) -> dict[int, MediaProbe]:
    """Every photo (always: bombs and pictures of the form matter to any campaign) and, where the
    campaign asks for media, every video, read from its bytes; keyed by index in the message."""
    wanted = {
        index: attachment
        for index, attachment in enumerate(message.attachments)
        if not is_signature_image(attachment)
        and (media_kind(attachment) == "photo" or (media_kind(attachment) == "video" and profile.media.required))
    }
    return dict(zip(wanted, probe_many(list(wanted.values()), profile.limits)))


def judge_message(message: Message, profile: Profile) -> Verdict:
    documents = read_documents(message, profile)
    return evaluate(assemble(message, documents, profile, probe_media_files(message, profile)), profile)


def judge(raw: bytes, profile: Profile, received_at: datetime | None = None, received_at_source: str = "imap") -> Verdict:
    """Judge one raw e-mail for a campaign. Never raises for bad input, only for our own bugs."""
    message = parse_message(raw, limits=profile.limits, received_at=received_at, received_at_source=received_at_source)
    return judge_message(message, profile)
