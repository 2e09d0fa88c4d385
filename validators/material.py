"""Rules about what a message carries as a whole: material, forms, unsafe and unknown files."""

from __future__ import annotations

from campaigns.schema import Profile
from nominees.types import Submission
from validators.findings import Finding, finding


def not_submission(submission: Submission, profile: Profile) -> list[Finding]:
    """No material at all: a question, spam or not an e-mail. Staff read it in the log."""
    if (submission.has_material and submission.message.is_mail) or submission.message.unsafe:
        return []
    return [finding("NOT_SUBMISSION")]


def form_missing(submission: Submission, profile: Profile) -> list[Finding]:
    if not submission.has_material or submission.nominees or _read_only_in_part(submission):
        return []
    return [finding("FORM_MISSING", form_title=profile.form.title)]


def _read_only_in_part(submission: Submission) -> bool:
    """A mail too large to open: we cannot say what it lacks, only that it is too large."""
    return any(item.reason == "message_too_large" for item in submission.message.unsafe)


def attachment_unsafe(submission: Submission, profile: Profile) -> list[Finding]:
    """One finding per offending archive or image, naming the first thing wrong with it."""
    first_per_file = {}
    for item in submission.message.unsafe:
        first_per_file.setdefault(item.filename, item)
    return [
        finding("ATTACHMENT_UNSAFE", detail={"filename": item.filename, "reason": item.reason}, reason=item.reason,
                entry=item.entry, figure=item.figure)
        for item in first_per_file.values()
    ]


def attachment_unsupported(submission: Submission, profile: Profile) -> list[Finding]:
    """Files the campaign does not use are kept for staff but not judged."""
    unused = list(submission.unsupported)
    if not profile.media.required:
        unused += [
            f.attachment
            for nominee in submission.nominees
            for f in nominee.files
            if f.role in ("photo", "video")
        ]
    return [
        finding("ATTACHMENT_UNSUPPORTED", detail={"filename": a.path, "media_type": a.media_type})
        for a in unused
    ]


def assignment_ambiguous(submission: Submission, profile: Profile) -> list[Finding]:
    """Material that fits no nominee: staff must say whose it is."""
    if not submission.nominees:
        return []  # no form at all: FORM_MISSING says what matters
    return [
        finding("ASSIGNMENT_AMBIGUOUS", detail={"filename": f.attachment.path})
        for f in submission.unassigned
        if not (f.role in ("photo", "video") and not profile.media.required)
    ]

