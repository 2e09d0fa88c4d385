"""Photos and videos judged by their bytes: what they are, how big, how long, whether they decode.

`probe_media` reads one file; `probe_many` reads all of a message's, in parallel where
it pays: every photo of a message is decoded in ONE sandboxed child (forked, under the time
and memory limits) by a few threads, since Pillow releases the GIL while decoding; videos
are read by ffprobe subprocesses, two at a time, each killed when its time is up. A file
that breaks its batch (a crash, a timeout) is read again on its own, so that one hostile
photo cannot spoil the others. The message as a whole has a `Budget` of decoded pixels and
of time: past it the rest are not read. Nothing here raises for a bad file: see `MediaProbe.problem`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from typing import Iterable, Literal, Sequence

from campaigns.limits import Limits
from core import filekinds
from parsers.types import FileData

MediaKind = Literal["photo", "video"]

# why a file is no valid photo or video; `image_too_large` is a bomb (ATTACHMENT_UNSAFE)
PROBLEMS = (
    "image_too_large",  # the header declares more pixels than limits.image_max_pixels
    "corrupt",  # the decoder (Pillow, ffprobe) cannot read it, or a truncated file
    "no_index",  # an MP4/MOV whose moov atom (the index) is missing: a truncated upload
    "unsupported",  # a picture format we do not read (SVG, PSD…)
    "empty",  # zero bytes
    "timeout",  # the reader took longer than its limit and was killed
    "memory",  # the reader needed more memory than its limit
    "media_pixels_budget",  # not read: the message's photos had used limits.message_media_pixels
    "media_seconds_budget",  # not read: the message's photos and videos had used limits.message_media_seconds
)
# a bomb, and what the message's budget left unread: the message is refused (ATTACHMENT_UNSAFE)
BUDGET_PROBLEMS = ("media_pixels_budget", "media_seconds_budget")
UNSAFE_PROBLEMS = ("image_too_large", *BUDGET_PROBLEMS)


@dataclass(frozen=True)
class MediaProbe:
    """What a photo or video is, read from its bytes; the extension is never trusted."""

    filename: str
    kind: MediaKind
    format: str | None = None  # photos: Pillow's format (JPEG, PNG, HEIF…); videos: the container (mp4, mov, avi…)
    width: int | None = None  # photos: after EXIF orientation; videos: the first video stream's
    height: int | None = None
    bytes: int = 0
    seconds: float | None = None  # videos: the container's duration
    codecs: tuple[str, ...] = ()  # videos: codec names of the streams, e.g. ("h264", "aac")
    brands: tuple[str, ...] = ()  # ISO-BMFF files: the major brand first, then the compatible ones
    decodable: bool = False  # photos: decoded in full; videos: ffprobe read it and its index is there
    problem: str | None = None  # one of PROBLEMS when not decodable (or a bomb)
    explanation: str = ""  # for staff: what the decoder said
    orientation: int = 1  # the EXIF orientation applied to width/height
    page_like: bool = False  # looks like a scanned or photographed document page (white paper, lines of ink)
    portrait_like: bool = False  # looks like a one-inch ID portrait (small, upright, plain background)
    figure: float | None = None  # over the message's budget: the pixels or seconds it had reached

    @property
    def pixels(self) -> int | None:
        return self.width * self.height if self.width is not None and self.height is not None else None

    @property
    def unsafe(self) -> bool:
        """A decompression bomb, or a file past the message's budget: the message is refused as ATTACHMENT_UNSAFE."""
        return self.problem in UNSAFE_PROBLEMS


@dataclass(frozen=True)
class Budget:
    """What reading one message's photos and videos may cost, all files together: decoded pixels
    (limits.message_media_pixels) and wall time (limits.message_media_seconds). The first photo
    the budget cannot pay for closes it: that one and the rest are not read, and are judged
    unsafe with the figure reached."""

    limit: int  # pixels
    seconds: float
    started: float  # time.monotonic() when the message's media began to be read (one clock for every process)
    spent: int = 0  # pixels decoded so far
    closed: bool = False  # a photo was refused for its pixels: so is every later one

    @classmethod
    def of(cls, limits: Limits) -> "Budget":
        return cls(limits.message_media_pixels, limits.message_media_seconds, time.monotonic())

    def left(self) -> float:
        return self.started + self.seconds - time.monotonic()

    def refusal(self, path: str, kind: MediaKind, size: int, pixels: int = 0) -> MediaProbe | None:
        """The probe of a file this budget cannot pay for (time first, then pixels); None: read it."""
        if self.left() <= 0:
            used = round(time.monotonic() - self.started, 1)
            return MediaProbe(path, kind, bytes=size, problem="media_seconds_budget", figure=used,
                              explanation=f"not read: the message's media had taken {used} s, limit {self.seconds:g} s")
        if pixels and (self.closed or self.spent + pixels > self.limit):
            total = self.spent + pixels
            return MediaProbe(path, kind, bytes=size, problem="media_pixels_budget", figure=total,
                              explanation=f"not decoded: the message's photos would reach {total} pixels, "
                                          f"limit {self.limit}")
        return None

    def spend(self, pixels: int) -> "Budget":
        return replace(self, spent=self.spent + pixels)

    def close(self) -> "Budget":
        return replace(self, closed=True)

    def after(self, probes: Iterable[MediaProbe]) -> "Budget":
        """What is left once these photos were read (a decode that failed half way cost as much)."""
        probes = list(probes)
        spent = self.spend(sum(p.pixels or 0 for p in probes if p.kind == "photo" and p.problem not in UNSAFE_PROBLEMS))
        return spent.close() if any(p.problem == "media_pixels_budget" for p in probes) else spent


def media_kind(media_type: str, filename: str) -> MediaKind | None:
    """Whether a file is read as a photo, a video, or not here at all."""
    return {"image": "photo", "video": "video"}.get(filekinds.category(media_type, filename))  # type: ignore[return-value]


def probe_media(file: FileData, limits: Limits) -> MediaProbe:
    """Probe one photo or video (see the module's docstring). Never raises for bad bytes."""
    return probe_many([file], limits)[0]


def probe_many(files: Sequence[FileData], limits: Limits, workers: int | None = None) -> list[MediaProbe]:
    """Probe several files, in their order; photos in one child, videos two at a time."""
    from parsers import photo, video

    workers = workers or max(1, min(os.cpu_count() or 1, 4))
    budget = Budget.of(limits)
    results: dict[int, MediaProbe] = {}
    photos = [(i, f) for i, f in enumerate(files) if media_kind(f.media_type, f.filename) == "photo"]
    videos = [(i, f) for i, f in enumerate(files) if media_kind(f.media_type, f.filename) == "video"]
    if photos:
        probes = photo.probe_photos([(f.path, f.data) for _, f in photos], limits, workers, budget)
        results.update(zip((i for i, _ in photos), probes))
        budget = budget.after(probes)
    if videos:
        probes = video.probe_videos([(f.path, f.data, f.filename) for _, f in videos], limits, min(workers, 2), budget)
        results.update(zip((i for i, _ in videos), probes))
    for i, file in enumerate(files):
        if i not in results:
            results[i] = MediaProbe(file.path, "photo", bytes=file.size, problem="unsupported",
                                    explanation=f"not a photo or video: {file.media_type}")
    return [results[i] for i in range(len(files))]
