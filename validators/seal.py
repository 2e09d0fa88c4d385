"""The seal rule: a unit's nomination carries its official seal (单位推荐需加盖领导机构或本级工会印章).

The detector (parsers/seal.py) has looked at every page of the nominee's form material
before the rules run (`Nominee.seal`); here only the profile decides what that means:

- the channel needs a seal (`seal.required_for_channels`) and the best confidence over all
  pages is below `seal.uncertain_low`: SEAL_MISSING (reject). Red print and red things in
  photos are not seals: the detector does not count them, and never looks at photos;
- the confidence is in [`uncertain_low`, `uncertain_high`): SEAL_UNCERTAIN (review), and
  likewise when a form could not be looked at (a timeout): a person decides. So is a sighting
  the detector calls doubtful, whatever the band (CONTRACT §3: a grey or black seal on a copy,
  a blue stamp, a ring cut by the edge are never a pass by themselves); `detail.reason` says
  why in a short code and `detail.why` in words for staff;
- no seal needed, but `seal.record_when_seen`: what was seen is reported, never a finding.
"""

from __future__ import annotations

from campaigns.schema import Profile
from nominees.types import NominationFile, Nominee
from parsers.seal import REASONS, SealReading
from validators.findings import Finding, finding


def seal_material(nominee: Nominee) -> tuple[NominationFile, ...]:
    """The files a seal may be on: the nominee's forms (a .docx, a PDF, a scan or photo of the
    page) and scans of theirs that were not recognised as the form (an image-only 附件1.pdf
    beside the .docx). Never their photos or videos."""
    forms = tuple(f for f in nominee.forms if f.unreadable is None)
    scans = tuple(f for f in nominee.files_with_role("other") if _textless_pdf(f))
    return forms + scans


def _textless_pdf(item: NominationFile) -> bool:
    document = item.document
    return (item.attachment.media_type == "application/pdf" and document is not None and document.unreadable is None
            and document.content is not None and not document.content.text.strip())


def seal_rule(nominee: Nominee, profile: Profile) -> list[Finding]:
    """SEAL_MISSING or SEAL_UNCERTAIN where the nominee's channel needs a seal (see the module)."""
    reading = nominee.seal
    if reading is None or not profile.seal_required(nominee.fields.get("channel")):
        return []
    confidence = reading.confidence
    if confidence >= profile.seal.uncertain_high and not reading.reason:
        return []
    if confidence >= profile.seal.uncertain_low or (reading.problems and not reading.present):
        reason = _reason(reading, profile.seal.uncertain_low)
        return [finding("SEAL_UNCERTAIN", nominee.index, severity="review",
                        detail={"filename": reading.where or _names(nominee), "reason": reason,
                                "why": REASONS[reason]})]
    return [finding("SEAL_MISSING", nominee.index, detail={"filename": _names(nominee)})]


def _reason(reading: SealReading, low: float) -> str:
    if reading.reason in REASONS and reading.confidence >= low:
        return reading.reason
    if reading.confidence < low:  # only sent to staff because a file could not be looked at
        return "unreadable"
    return "e_signature" if reading.electronic else "unclear"


def _names(nominee: Nominee) -> str:
    return "、".join(dict.fromkeys(f.attachment.path for f in seal_material(nominee)))


def seal_summary(nominee: Nominee, profile: Profile) -> dict | None:
    """The verdict's `seal` (CONTRACT §4): judged where the channel needs one; where it does not,
    reported only when the campaign records seals and one was seen. None: not judged."""
    reading = nominee.seal
    if reading is None:
        return None
    # the profile's band, not the detector's own cut; a doubtful sighting is never seen as a seal
    seen = reading.confidence >= profile.seal.uncertain_high and not reading.reason
    if profile.seal_required(nominee.fields.get("channel")) or (profile.seal.record_when_seen and seen):
        return {**reading.as_json(), "present": seen}
    return None
