"""The media rule of CONTRACT §3: 4–5 valid photos OR one valid MP4 of 5–8 minutes, each file judged by its bytes.

The profile's `[media]` section gives every figure; nothing here knows a campaign. Each file
earns at most one finding (corrupt, else wrong container, else wrong duration), and
PHOTO_COUNT is one per nominee. When the rule is met all the same (a bad video beside 4–5
good photos), those findings stay but are lowered to `info`: the rule did not need that file.
When it is not met and the body carries a large-attachment link that may hold the media,
LINK_ATTACHMENT sends the nominee to staff instead of a rejection, and the other media
findings are `info` for staff to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campaigns.schema import Media, Profile
from nominees.types import NominationFile, Nominee, Submission
from parsers.media import BUDGET_PROBLEMS
from validators.findings import Finding, finding


@dataclass(frozen=True)
class _Problem:
    """What is wrong with one file, as the finding it earns."""

    code: str
    detail: dict[str, Any]


def media_rule(nominee: Nominee, profile: Profile) -> list[Finding]:
    """4–5 valid photos or one valid MP4 of the right length; LINK_ATTACHMENT when a link may hold them."""
    media = profile.media
    if not media.required:
        return []  # Wuhan: no media by e-mail; photos and videos are ATTACHMENT_UNSUPPORTED
    photos = [f for f in nominee.files_with_role("photo") if not _unsafe(f)]
    videos = [f for f in nominee.files_with_role("video") if not _unsafe(f)]
    photo_problems = [(f, _photo_problem(f, media)) for f in photos]
    video_problems = [(f, _video_problem(f, media)) for f in videos]
    valid_photos = sum(_photo_count(f) for f, problem in photo_problems if problem is None)
    photos_ok = media.photos_min <= valid_photos <= media.photos_max
    video_ok = any(problem is None for _, problem in video_problems)
    met = photos_ok or video_ok
    lowered = "info" if met or nominee.links else None  # None: the code's own severity (reject)

    problems = [problem for _, problem in (*photo_problems, *video_problems) if problem is not None]
    if valid_photos and not photos_ok:
        problems.insert(0, _Problem("PHOTO_COUNT", {"count": valid_photos}))
    findings = [_finding(problem, nominee, media, lowered) for problem in problems]
    if met:
        return findings
    if nominee.links:
        return [finding("LINK_ATTACHMENT", nominee.index, detail={"filename": link.filename, "url": link.url,
                                                                   "provider": link.provider, "code": link.code})
                for link in nominee.links] + findings
    if not photos and not videos and not _has_unsafe_media(nominee):
        findings.append(_finding(_Problem("MEDIA_MISSING", {}), nominee, media, None))
    return findings


def image_unsafe(submission: Submission, profile: Profile) -> list[Finding]:
    """A picture whose header declares more pixels than the limit is a bomb; photos and videos past
    the message's budget (all of them together) were not read: either way the message is refused.
    One finding per bomb, one per budget with the figure reached and how many files were left."""
    unsafe = [f for f in submission.all_files() if f.probe is not None and f.probe.unsafe]
    findings = [
        finding("ATTACHMENT_UNSAFE",
                detail={"filename": f.attachment.path, "reason": "image_too_large", "pixels": f.probe.pixels},
                reason="image_too_large", entry="")
        for f in unsafe if f.probe.problem == "image_too_large"
    ]
    for reason in BUDGET_PROBLEMS:
        left = [f for f in unsafe if f.probe.problem == reason]
        if left:
            findings.append(finding("ATTACHMENT_UNSAFE", detail={"filename": left[0].attachment.path, "reason": reason,
                                                                 "figure": left[0].probe.figure, "files": len(left)},
                                    reason=reason, entry=""))
    return findings


def _unsafe(nf: NominationFile) -> bool:
    return nf.probe is not None and nf.probe.unsafe


def _has_unsafe_media(nominee: Nominee) -> bool:
    return any(_unsafe(f) for f in nominee.files)


def _photo_count(nf: NominationFile) -> int:
    """An image is one photo; a document of photos (照片.docx) counts its pictures."""
    if nf.document is not None and nf.document.content is not None and nf.probe is None:
        return nf.document.content.image_count
    return 1


def _photo_problem(nf: NominationFile, media: Media) -> _Problem | None:
    probe = nf.probe
    if probe is None:  # a document of photos, read by the document parser
        return None
    name = nf.attachment.path
    if not probe.decodable:
        return _Problem("MEDIA_CORRUPT", {"filename": name, "reason": probe.problem})
    if probe.format not in media.photo_formats:
        return _Problem("MEDIA_CORRUPT", {"filename": name, "reason": "unsupported", "format": probe.format})
    return None


def _video_problem(nf: NominationFile, media: Media) -> _Problem | None:
    probe = nf.probe
    if probe is None:  # not probed (no ffprobe run for it): not ours to judge
        return None
    name = nf.attachment.path
    if not probe.decodable:
        return _Problem("MEDIA_CORRUPT", {"filename": name, "reason": probe.problem, "container": probe.format})
    # the container's duration as it is: 481.004 s is over 481 s, though it shows as 481.0
    exact = probe.seconds
    seconds = round(exact, 2) if exact is not None else None
    long_enough = exact is not None and (
        media.video_min_seconds - media.video_tolerance_seconds
        <= exact
        <= media.video_max_seconds + media.video_tolerance_seconds
    )
    if probe.format not in media.video_containers:
        # one finding per file: a wrong length is said in the same sentence
        return _Problem("VIDEO_FORMAT", {"filename": name, "container": probe.format,
                                         "seconds": None if long_enough else seconds})
    if not long_enough:
        return _Problem("VIDEO_DURATION", {"filename": name, "seconds": seconds})
    return None


def _finding(problem: _Problem, nominee: Nominee, media: Media, severity: str | None) -> Finding:
    return finding(
        problem.code, nominee.index, severity=severity, detail=problem.detail,  # type: ignore[arg-type]
        photos_min=media.photos_min, photos_max=media.photos_max,
        video_min=media.video_min_seconds, video_max=media.video_max_seconds,
    )
