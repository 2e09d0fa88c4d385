"""Rules about the recommendation form: that it can be read, and that it is filled in."""

from __future__ import annotations

from campaigns.schema import Profile
from nominees.types import Nominee
from validators.findings import Finding, finding

# .doc/.wps without a converter and forms that arrive only as scans need a person, not a resend
_FOR_STAFF = ("legacy_no_converter",)


def form_unreadable(nominee: Nominee, profile: Profile) -> list[Finding]:
    """A nominee whose every form copy fails to open; a scan-only form waits for staff."""
    if nominee.readable_forms:
        return []
    findings = []
    for form in nominee.forms:
        if form.role == "form_scan":
            findings.append(
                finding("FORM_UNREADABLE", nominee.index, severity="review",
                        detail={"filename": form.attachment.path, "reason": "scan_only"}, reason="scan_only")
            )
            continue
        reason = form.unreadable.reason if form.unreadable else "corrupt"
        severity = "review" if reason in _FOR_STAFF else None
        findings.append(
            finding("FORM_UNREADABLE", nominee.index, severity=severity,
                    detail={"filename": form.attachment.path, "reason": reason}, reason=reason)
        )
    return findings


def field_missing(nominee: Nominee, profile: Profile) -> list[Finding]:
    """Each field the profile requires that the form leaves empty; only for forms we could read.

    A form read only by OCR may have a field OCR did not make out: staff look (CONTRACT §3).
    """
    if not nominee.readable_forms:
        return []
    ocr = nominee.read_by_ocr
    return [
        finding("FIELD_MISSING", nominee.index, severity="review" if ocr else None,
                detail={"field": name, "source": "ocr" if ocr else None})
        for name in profile.form.required_fields
        if not nominee.fields.get(name)
    ]
