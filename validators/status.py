"""How findings become statuses (CONTRACT §3): reject > review > accepted; ignore ends judging."""

from __future__ import annotations

from typing import Iterable, Literal

Status = Literal["accepted", "rejected", "needs_review", "ignored"]


def nominee_status(severities: Iterable[str]) -> Status:
    severities = set(severities)
    if "reject" in severities:
        return "rejected"
    if "review" in severities:
        return "needs_review"
    return "accepted"


def message_status(severities: Iterable[str], nominee_statuses: Iterable[str]) -> Status:
    """The worst of the message's own findings and its nominees' statuses."""
    statuses = set(nominee_statuses)
    severities = set(severities)
    if "ignore" in severities:
        return "ignored"
    if "reject" in severities or "rejected" in statuses:
        return "rejected"
    if "review" in severities or "needs_review" in statuses:
        return "needs_review"
    return "accepted"
