"""Run every rule, collect every finding, decide once (CONTRACT §3 "How a verdict is reached")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from campaigns.schema import Profile
from ingest.types import Message
from nominees.types import Nominee, Submission
from validators import envelope, form, identity, material, media, seal, writeup
from validators.findings import Finding

Status = Literal["accepted", "rejected", "needs_review", "ignored"]

# Judging stops at the first of these that finds something; the finding is reported alone.
IGNORE_RULES: tuple[Callable[[Message, Profile], list[Finding]], ...] = (envelope.auto_reply,)
IGNORE_SUBMISSION_RULES: tuple[Callable[[Submission, Profile], list[Finding]], ...] = (material.not_submission,)

MESSAGE_RULES: tuple[Callable[[Message, Profile], list[Finding]], ...] = (envelope.late,)
SUBMISSION_RULES: tuple[Callable[[Submission, Profile], list[Finding]], ...] = (
    material.attachment_unsafe,
    media.image_unsafe,
    material.form_missing,
    material.assignment_ambiguous,
    material.attachment_unsupported,
)
NOMINEE_RULES: tuple[Callable[[Nominee, Profile], list[Finding]], ...] = (
    form.form_unreadable,
    form.field_missing,
    identity.id_number_valid,
    identity.phone_valid,
    writeup.writeup_present,
    writeup.writeup_length,
    media.media_rule,
    seal.seal_rule,
)


@dataclass(frozen=True)
class NomineeVerdict:
    nominee: Nominee
    status: Status
    findings: tuple[Finding, ...]
    seal: dict | None = None  # CONTRACT §4's seal object; None where not judged (validators/seal.py)


@dataclass(frozen=True)
class Verdict:
    submission: Submission
    status: Status
    findings: tuple[Finding, ...]  # message-level
    nominees: tuple[NomineeVerdict, ...]

    @property
    def message(self) -> Message:
        return self.submission.message


def _worst(severities: list[str]) -> Status:
    if "reject" in severities:
        return "rejected"
    if "review" in severities:
        return "needs_review"
    return "accepted"


def _ignored(submission: Submission, profile: Profile) -> list[Finding]:
    for rule in IGNORE_RULES:
        if found := rule(submission.message, profile):
            return found[:1]
    for rule in IGNORE_SUBMISSION_RULES:
        if found := rule(submission, profile):
            return found[:1]
    return []


def evaluate(submission: Submission, profile: Profile) -> Verdict:
    if ignored := _ignored(submission, profile):
        return Verdict(submission, "ignored", tuple(ignored), ())

    message_findings = [f for rule in MESSAGE_RULES for f in rule(submission.message, profile)]
    message_findings += [f for rule in SUBMISSION_RULES for f in rule(submission, profile)]
    # a message-level reject or review reaches every nominee in the message
    inherited = [f.severity for f in message_findings if f.severity in ("reject", "review")]

    nominee_verdicts = []
    for nominee in submission.nominees:
        own = tuple(f for rule in NOMINEE_RULES for f in rule(nominee, profile))
        status = _worst([f.severity for f in own] + inherited)
        nominee_verdicts.append(NomineeVerdict(nominee, status, own, seal.seal_summary(nominee, profile)))

    statuses = [v.status for v in nominee_verdicts]
    severities = [f.severity for f in message_findings]
    if "rejected" in statuses:
        severities.append("reject")
    if "needs_review" in statuses:
        severities.append("review")
    return Verdict(submission, _worst(severities), tuple(message_findings), tuple(nominee_verdicts))
