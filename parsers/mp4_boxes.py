"""An MP4/MOV's duration and streams read from its own boxes, so that ffprobe need not start.

ffprobe costs a process start and a copy of the video to a temporary file (about 130 ms even
for a tiny video); the answer it gives for a sound ISO-BMFF file is written in a few boxes:

- the container's duration is moov/mvhd's duration over its timescale: libavformat's mov
  demuxer sets the format's duration from mvhd alone, rounded to microseconds, and ffprobe
  prints that with six decimals; `seconds` is the same number;
- the streams are moov's traks in order: trak/mdia/hdlr says video or audio, the sample
  entry in stbl/stsd names the codec (and, for video, the width and height).

`read_index` says so only where the boxes are sound: every box within its parent and the
file, one moov with one mvhd of a usable timescale and a positive duration, every track a
video or audio track with its sample tables and a codec named here, its chunks inside the
file, and a video track among them. Anything else (a fragmented MP4, a box running past the
end of the file, a timecode or subtitle track, cover art ffprobe would list as a stream, a
codec not named here, a moov over the limit) raises `Unsound` with the reason, and the
caller asks ffprobe, which then decides exactly as it always did.

Reads are bounded and never take the whole file: 16 bytes for each top-level box header (at
most `limits.video_boxes_max` of them), then the moov box alone, at most
`limits.video_index_max_bytes`. The source is the attachment's bytes or an open file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

from campaigns.limits import Limits

# sample entry → ffmpeg's codec name, as ffprobe prints it; each checked against ffprobe (tests)
VIDEO_CODECS = {"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc", "av01": "av1", "vp09": "vp9",
                "jpeg": "mjpeg"}
AUDIO_CODECS = {"ac-3": "ac3", "ec-3": "eac3", "Opus": "opus", "alac": "alac", ".mp3": "mp3"}
# MPEG-4 systems objectTypeIndication (in esds) of an mp4a / mp4v entry → ffmpeg's codec name
OBJECT_TYPES = {0x40: "aac", 0x66: "aac", 0x67: "aac", 0x68: "aac", 0x69: "mp3", 0x6B: "mp3", 0x20: "mpeg4"}
_FRAGMENTS = {"moof", "mfra", "sidx", "styp", "ssix"}  # a fragmented file: its duration is not in mvhd
_CONTAINERS = {"trak", "mdia", "minf", "stbl"}
_INT64 = 2**63


class Unsound(Exception):
    """The boxes do not tell the duration and streams for certain: ask ffprobe. `reason` is for staff and tests."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Stream:
    kind: str  # "video" | "audio"
    codec: str  # ffmpeg's name, as ffprobe prints it
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Index:
    seconds: float  # the container's duration, as ffprobe prints it
    streams: tuple[Stream, ...]  # in the file's order, as ffprobe lists them


@dataclass(frozen=True)
class Box:
    kind: str
    start: int  # where its body begins
    end: int  # where the box ends


class _Source:
    """Bounded reads from bytes (no copy of the whole) or from an open binary file."""

    def __init__(self, source: bytes | bytearray | memoryview | BinaryIO):
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._view: memoryview | None = memoryview(source)
            self._file = None
            self.size = len(self._view)
        else:
            self._view, self._file = None, source
            self.size = source.seek(0, 2)

    def read(self, offset: int, count: int) -> bytes:
        if self._view is not None:
            return bytes(self._view[offset : offset + count])
        self._file.seek(offset)
        return self._file.read(count)


def read_index(source: bytes | bytearray | memoryview | BinaryIO, limits: Limits) -> Index:
    """The duration and streams from the boxes, or `Unsound` (see the module's docstring)."""
    reader = _Source(source)
    moov = _the_moov(top_level(reader, limits.video_boxes_max))
    if moov.end - moov.start > limits.video_index_max_bytes:
        raise Unsound(f"moov of {moov.end - moov.start} bytes, over {limits.video_index_max_bytes}")
    body = reader.read(moov.start, moov.end - moov.start)
    if b"covr" in body:  # cover art: ffprobe lists it as a stream of its own
        raise Unsound("a cover picture")
    return _index(body, reader.size)


def top_level(reader: _Source, max_boxes: int) -> list[Box]:
    """The top-level boxes, each inside the file and the last ending where the file does."""
    boxes: list[Box] = []
    offset = 0
    while offset < reader.size:
        if len(boxes) >= max_boxes:
            raise Unsound(f"more than {max_boxes} top-level boxes")
        head = reader.read(offset, 16)
        if len(head) < 8:
            raise Unsound(f"{len(head)} stray bytes at the end of the file")
        box = _box(head, offset, reader.size - offset)
        if box.end > reader.size:
            raise Unsound(f"the {box.kind!r} box runs {box.end - reader.size} bytes past the end of the file")
        boxes.append(box)
        offset = box.end
    return boxes


def _box(head: bytes, offset: int, room: int) -> Box:
    """One box from its header at `offset`; `room` is what is left of its parent (size 0 runs to there)."""
    size, kind = struct.unpack_from(">I", head)[0], head[4:8].decode("latin-1")
    header = 8
    if size == 1:
        if len(head) < 16:
            raise Unsound(f"the {kind!r} box's 64-bit size is cut off")
        size, header = struct.unpack_from(">Q", head, 8)[0], 16
    elif size == 0:
        size = room
    if size < header:
        raise Unsound(f"the {kind!r} box is smaller than its header")
    return Box(kind, offset + header, offset + size)


def _the_moov(boxes: list[Box]) -> Box:
    kinds = [box.kind for box in boxes]
    if _FRAGMENTS & set(kinds):
        raise Unsound("a fragmented file")
    moovs = [box for box in boxes if box.kind == "moov"]
    if len(moovs) != 1:
        raise Unsound(f"{len(moovs)} moov boxes")
    return moovs[0]


def children(body: bytes, start: int, end: int) -> list[Box]:
    """The boxes inside a container's body, which they must fill exactly."""
    found: list[Box] = []
    offset = start
    while offset < end:
        if end - offset < 8:
            raise Unsound("stray bytes inside a box")
        box = _box(body[offset : offset + 16], offset, end - offset)
        if box.end > end:
            raise Unsound(f"the {box.kind!r} box runs past its parent")
        found.append(box)
        offset = box.end
    return found


def _one(boxes: list[Box], kind: str, *alternatives: str) -> Box:
    matching = [box for box in boxes if box.kind in (kind, *alternatives)]
    if len(matching) != 1:
        raise Unsound(f"{len(matching)} {kind!r} boxes where one belongs")
    return matching[0]


def _index(body: bytes, file_size: int) -> Index:
    boxes = children(body, 0, len(body))
    if any(box.kind in ("mvex", "cmov") for box in boxes):
        raise Unsound("a fragmented or compressed index")
    seconds = movie_seconds(body, _one(boxes, "mvhd"))
    streams = tuple(_stream(body, trak, file_size) for trak in boxes if trak.kind == "trak")
    if not any(stream.kind == "video" for stream in streams):
        raise Unsound("no video track")  # ffprobe says what there is instead
    return Index(seconds, streams)


def movie_seconds(body: bytes, mvhd: Box) -> float:
    """mvhd's duration in seconds exactly as ffprobe prints the format's: rounded to the microsecond."""
    version = _field(body, mvhd, 0, "B")
    timescale, duration = (_field(body, mvhd, 20, "I"), _field(body, mvhd, 24, "Q")) if version == 1 else \
        (_field(body, mvhd, 12, "I"), _field(body, mvhd, 16, "I"))
    if version > 1 or not 0 < timescale < 2**31:  # libavformat reads the timescale as a signed int
        raise Unsound(f"mvhd version {version}, timescale {timescale}")
    unknown = 2**64 - 1 if version == 1 else 2**32 - 1
    if duration == 0 or duration == unknown:
        raise Unsound("no duration in mvhd")
    micro = (duration * 1_000_000 + timescale // 2) // timescale  # av_rescale, rounding to the nearest
    if micro >= _INT64:
        raise Unsound("a duration beyond what ffprobe counts")
    return float("%f" % (micro * (1 / 1_000_000)))  # ffprobe: microseconds × 1e-6, printed with %f


def _field(body: bytes, box: Box, at: int, code: str) -> int:
    size = struct.calcsize(">" + code)
    if box.start + at + size > box.end:
        raise Unsound(f"the {box.kind!r} box is too short")
    return struct.unpack_from(">" + code, body, box.start + at)[0]


def _stream(body: bytes, trak: Box, file_size: int) -> Stream:
    """One track as ffprobe lists it: video or audio, its codec, a video's size."""
    parts = children(body, trak.start, trak.end)
    _one(parts, "tkhd")
    media = children(body, *_span(_one(parts, "mdia")))
    handler = _handler(body, _one(media, "hdlr"))
    if _field(body, _one(media, "mdhd"), 0, "B") > 1 or _media_timescale(body, _one(media, "mdhd")) == 0:
        raise Unsound("a track without a timescale")
    info = children(body, *_span(_one(media, "minf")))
    table = children(body, *_span(_one(info, "stbl")))
    _check_samples(body, table, file_size)
    entry = _sample_entry(body, _one(table, "stsd"))
    if handler == "vide":
        return _video(body, entry)
    if handler == "soun":
        return Stream("audio", _audio_codec(body, entry))
    raise Unsound(f"a {handler!r} track")


def _span(box: Box) -> tuple[int, int]:
    return box.start, box.end


def _handler(body: bytes, hdlr: Box) -> str:
    if hdlr.end - hdlr.start < 12:
        raise Unsound("a short hdlr box")
    return body[hdlr.start + 8 : hdlr.start + 12].decode("latin-1")


def _media_timescale(body: bytes, mdhd: Box) -> int:
    return _field(body, mdhd, 20 if _field(body, mdhd, 0, "B") == 1 else 12, "I")


def _check_samples(body: bytes, table: list[Box], file_size: int) -> None:
    """The sample tables are there, count something, and point inside the file."""
    for kind in ("stts", "stsc"):
        if _field(body, _one(table, kind), 4, "I") == 0:
            raise Unsound(f"an empty {kind}")
    sizes = _one(table, "stsz", "stz2")
    if _field(body, sizes, 8, "I") == 0:
        raise Unsound("a track without samples")
    chunks = _one(table, "stco", "co64")
    count = _field(body, chunks, 4, "I")
    width = 8 if chunks.kind == "co64" else 4
    if count == 0 or 8 + count * width > chunks.end - chunks.start:
        raise Unsound(f"a chunk table of {count} entries that does not fit its box")
    offsets = struct.unpack_from(f">{count}{'Q' if width == 8 else 'I'}", body, chunks.start + 8)
    if max(offsets) >= file_size:
        raise Unsound("chunks beyond the end of the file")


def _sample_entry(body: bytes, stsd: Box) -> Box:
    """stsd's one sample entry (several would let the codec change within the track)."""
    if _field(body, stsd, 4, "I") != 1:
        raise Unsound("not one sample entry")
    entries = children(body, stsd.start + 8, stsd.end)
    if len(entries) != 1:
        raise Unsound("not one sample entry")
    return entries[0]


def _video(body: bytes, entry: Box) -> Stream:
    codec = VIDEO_CODECS.get(entry.kind) or (_object_type(body, entry) if entry.kind == "mp4v" else None)
    if codec is None:
        raise Unsound(f"a video codec {entry.kind!r} not named here")
    width, height = _field(body, entry, 24, "H"), _field(body, entry, 26, "H")
    if not (width and height):
        raise Unsound("a video track without its size")
    return Stream("video", codec, width, height)


def _audio_codec(body: bytes, entry: Box) -> str:
    codec = AUDIO_CODECS.get(entry.kind) or (_object_type(body, entry) if entry.kind == "mp4a" else None)
    if codec is None:
        raise Unsound(f"an audio codec {entry.kind!r} not named here")
    return codec


def _object_type(body: bytes, entry: Box) -> str | None:
    """The codec an mp4a/mp4v entry's esds names (its DecoderConfigDescriptor's objectTypeIndication)."""
    at = body.find(b"esds", entry.start, entry.end)
    if at < 0:
        return None
    end = min(entry.end, at - 4 + struct.unpack_from(">I", body, at - 4)[0])
    offset = at + 8  # the type, then the full box's version and flags
    tag, offset = _descriptor(body, offset, end)
    if tag != 0x03 or offset + 3 > end:
        return None
    flags = body[offset + 2]
    offset += 3 + (2 if flags & 0x80 else 0)  # ES_ID, flags, then what the flags add
    if flags & 0x40:
        offset += 1 + body[offset] if offset < end else 0
    offset += 2 if flags & 0x20 else 0
    tag, offset = _descriptor(body, offset, end)
    if tag != 0x04 or offset >= end:
        return None
    return OBJECT_TYPES.get(body[offset])


def _descriptor(body: bytes, offset: int, end: int) -> tuple[int | None, int]:
    """An MPEG-4 descriptor's tag and where its payload starts (its length: up to 4 bytes of 7 bits)."""
    if offset >= end:
        return None, offset
    tag = body[offset]
    offset += 1
    for _ in range(4):
        if offset >= end:
            return None, offset
        more = body[offset] & 0x80
        offset += 1
        if not more:
            break
    return tag, offset
