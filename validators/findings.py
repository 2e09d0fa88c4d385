"""A finding: one problem (or fact) about a message or a nominee, worded for the sender."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from validators.codes import CODES, Severity
from validators.wording import finding_message


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    nominee: int | None = None  # index into the verdict's nominees; None for message-level
    detail: dict[str, Any] = field(default_factory=dict)

    def lowered_to(self, severity: Severity) -> "Finding":
        """The same finding at a lower severity (media the rule did not need, OCR'd fields)."""
        return replace(self, severity=severity)


def finding(
    code: str,
    nominee: int | None = None,
    *,
    severity: Severity | None = None,
    detail: dict[str, Any] | None = None,
    **wording: Any,
) -> Finding:
    """Build a finding of a known code, worded from the templates.

    `detail` is the machine-readable part (CONTRACT §3 keys); `wording` adds what only the
    sentence needs (the limit, the deadline as people read it).
    """
    spec = CODES[code]
    clean = {key: value for key, value in (detail or {}).items() if value is not None}
    return Finding(
        code=code,
        severity=severity or spec.severity,
        message=finding_message(code, {**wording, **clean}),
        nominee=nominee,
        detail=clean,
    )
