"""Rules that need the service's memory of earlier mail: duplicates and resubmissions.

The service looks the history up and hands it in; the rules stay pure functions of it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from nominees.types import Nominee
from validators.evaluate import Verdict
from validators.findings import Finding, finding
from validators.status import message_status


@dataclass(frozen=True)
class EarlierNominee:
    """The current record of the same person in this campaign (not superseded)."""

    record_id: int
    status: str
    intake_number: str | None
    received_at: str  # as people read it
    completed: bool = False  # this filing is a follow-up judged together with that one's files


def identity_key(fields: dict[str, str]) -> str | None:
    """The same person: the ID number, else name + employer; None when neither can be known."""
    if fields.get("id_number"):
        return f"id:{fields['id_number']}"
    if fields.get("name") and fields.get("employer"):
        return f"name:{fields['name']}|{fields['employer']}"
    return None


def duplicate_message(earlier_record_id: int | None) -> list[Finding]:
    if earlier_record_id is None:
        return []
    return [finding("DUPLICATE_MESSAGE", detail={"earlier": earlier_record_id})]


def resubmission(nominee: Nominee, status: str, earlier: EarlierNominee | None) -> tuple[list[Finding], str]:
    """The RESUBMISSION finding and the nominee's status once the earlier filing is known.

    The newest supersedes, except that a resubmission judged worse than an accepted one
    goes to staff to choose (CONTRACT §3), instead of silently replacing a good nomination.
    """
    if earlier is None:
        return [], status
    worse_than_accepted = earlier.status == "accepted" and status != "accepted"
    found = finding(
        "RESUBMISSION",
        nominee.index,
        severity="review" if worse_than_accepted else "info",
        detail={"earlier": earlier.record_id, "earlier_intake_number": earlier.intake_number,
                "completed": earlier.completed or None},
        name=nominee.name,
        worse=worse_than_accepted,
        earlier_at=earlier.received_at,
    )
    return [found], "needs_review" if worse_than_accepted else status


def with_history(verdict: Verdict, earlier: dict[int, EarlierNominee]) -> Verdict:
    """The verdict with RESUBMISSION findings for nominees filed before (keyed by nominee index)."""
    if verdict.status == "ignored" or not earlier:
        return verdict
    nominees = []
    for nominee_verdict in verdict.nominees:
        found, status = resubmission(nominee_verdict.nominee, nominee_verdict.status,
                                     earlier.get(nominee_verdict.nominee.index))
        nominees.append(replace(nominee_verdict, status=status, findings=nominee_verdict.findings + tuple(found)))
    severities = [f.severity for f in verdict.findings]
    statuses = [n.status for n in nominees]
    return replace(verdict, nominees=tuple(nominees), status=message_status(severities, statuses))


def as_duplicate(verdict: Verdict, earlier_record_id: int) -> Verdict:
    return replace(verdict, status="ignored", findings=tuple(duplicate_message(earlier_record_id)), nominees=())

