"""Videos read by their container: ISO-BMFF brands and boxes walked here, the rest asked of ffprobe.

The container is named from the bytes (CONTRACT §3: MP4 is an ISO-BMFF file whose major or
a compatible brand is isom, iso2–iso6, mp41, mp42, avc1 or M4V; QuickTime `qt  `, 3GP, AVI,
ASF/WMV, FLV and MPEG-PS are not), never from the extension. An MP4/MOV/3GP whose boxes
are sound gives its duration and streams from them (parsers/mp4_boxes.py: what ffprobe
would print, without its process start); any other, and every other container, is read by
ffprobe as a subprocess on a temporary file (an MP4 whose moov comes last cannot be read
from a pipe), under a time limit after which it is killed, and under the memory limit
through prlimit(1). Full decoding is not needed: a video is good when its container is read,
its index is there and it holds a video stream.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from campaigns.limits import DEFAULT_LIMITS, Limits
from parsers import mp4_boxes
from parsers.media import Budget, MediaProbe

MP4_BRANDS = frozenset({"isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "M4V "})
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}  # QuickTime files older than ftyp
_SIGNATURES = (
    (b"0&\xb2u\x8ef\xcf\x11", "asf"),  # WMV, WMA
    (b"FLV\x01", "flv"),
    (b"\x00\x00\x01\xba", "mpeg-ps"),
    (b"\x00\x00\x01\xb3", "mpeg-es"),
    (b"\x1a\x45\xdf\xa3", "mkv"),
)
# ffprobe's format_name → our container name, for what the bytes alone did not tell
_FFPROBE_FORMATS = {"avi": "avi", "asf": "asf", "flv": "flv", "mpeg": "mpeg-ps", "mpegts": "mpeg-ts",
                    "matroska,webm": "mkv", "mpegvideo": "mpeg-es", "rm": "rm", "swf": "swf"}
_ISO_BMFF = ("mp4", "mov", "3gp", "iso-bmff")


def container_of(data: bytes) -> tuple[str, tuple[str, ...]]:
    """The container named from the bytes, and for ISO-BMFF its brands (major first); "unknown" if none."""
    if data[4:8] == b"ftyp":
        brands = ftyp_brands(data)
        major = brands[0] if brands else ""
        if major == "qt  ":
            return "mov", brands
        if major.startswith("3g"):  # 3gp4-6, 3g2a, 3gs7, 3ge…: the major brand decides, whatever is compatible
            return "3gp", brands
        if set(brands) & MP4_BRANDS:
            return "mp4", brands
        return ("mov" if "qt  " in brands else "iso-bmff"), brands
    if data[4:8] in _QUICKTIME_ATOMS and len(data) >= 8:
        return "mov", ()
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "avi", ()
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            if name == "mkv" and b"webm" in data[:64]:
                return "webm", ()
            return name, ()
    if len(data) > 3 * 188 and all(data[k * 188] == 0x47 for k in range(3)):
        return "mpeg-ts", ()
    return "unknown", ()


def ftyp_brands(data: bytes) -> tuple[str, ...]:
    """The ftyp box's major brand and then its compatible brands, as 4-character strings."""
    size = min(struct.unpack_from(">I", data, 0)[0], len(data), 4096)
    major = data[8:12].decode("latin-1")
    compatible = [data[i : i + 4].decode("latin-1") for i in range(16, size - 3, 4)]
    return (major, *compatible)


def top_level_boxes(data: bytes, max_boxes: int = DEFAULT_LIMITS.video_boxes_max) -> tuple[str, ...] | None:
    """The types of the top-level ISO-BMFF boxes in order; None if there are too many to walk."""
    boxes: list[str] = []
    offset = 0
    while offset + 8 <= len(data):
        if len(boxes) >= max_boxes:
            return None
        size = struct.unpack_from(">I", data, offset)[0]
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1 and offset + 16 <= len(data):
            size = struct.unpack_from(">Q", data, offset + 8)[0]
        elif size == 0:  # the last box runs to the end of the file
            break
        if size < 8:
            break  # not a box: the rest is garbage
        offset += size
    return tuple(boxes)


def probe_videos(items: list[tuple[str, bytes, str]], limits: Limits, workers: int = 2,
                 budget: Budget | None = None) -> list[MediaProbe]:
    """Probe (path, bytes, file name) triples, `workers` ffprobe processes at a time; none is
    started once the message's `budget` of time is spent."""
    budget = budget or Budget.of(limits)
    if len(items) == 1 or workers <= 1:
        return [probe_video(*item, limits, budget) for item in items]
    with ThreadPoolExecutor(workers) as pool:  # subprocesses, not forks: threads are safe here
        return list(pool.map(lambda item: probe_video(*item, limits, budget), items))


def probe_video(path: str, data: bytes, filename: str, limits: Limits, budget: Budget | None = None) -> MediaProbe:
    """One video: its container from the bytes, its index, then duration and streams from its
    boxes where they are sound, else from ffprobe."""
    if not data:
        return MediaProbe(path, "video", problem="empty", explanation="zero bytes")
    if budget is not None and (refused := budget.refusal(path, "video", len(data))) is not None:
        return refused
    container, brands = container_of(data)
    base = dict(filename=path, kind="video", bytes=len(data), brands=brands)
    if container in _ISO_BMFF:
        boxes = top_level_boxes(data, limits.video_boxes_max)
        if boxes is not None and "moov" not in boxes:
            return MediaProbe(**base, format=container, problem="no_index",
                              explanation=f"no moov atom among the top-level boxes {list(boxes)[:8]}")
        try:
            return from_boxes(mp4_boxes.read_index(data, limits), base, container)
        except mp4_boxes.Unsound:
            pass  # ffprobe decides, as it did for every video before
    return probe_with_ffprobe(data, base, container, limits, budget)


def from_boxes(index: mp4_boxes.Index, base: dict, container: str) -> MediaProbe:
    """The probe ffprobe would have given, from a sound index (it holds a video track)."""
    first = next(stream for stream in index.streams if stream.kind == "video")
    return MediaProbe(**base, format=container, width=first.width, height=first.height, seconds=index.seconds,
                      codecs=tuple(stream.codec for stream in index.streams), decodable=True)


def probe_with_ffprobe(data: bytes, base: dict, container: str, limits: Limits,
                       budget: Budget | None = None) -> MediaProbe:
    """Duration and streams as ffprobe reads them; `base` holds the file's name, size and brands."""
    seconds = min(limits.probe_seconds, budget.left()) if budget is not None else limits.probe_seconds
    try:
        report = _ffprobe(data, limits, seconds)
    except subprocess.TimeoutExpired:
        if budget is not None and seconds < limits.probe_seconds:  # the message's time ran out, not the file's
            return budget.refusal(base["filename"], "video", len(data)) or MediaProbe(**base, format=container, problem="timeout")
        return MediaProbe(**base, format=container, problem="timeout",
                          explanation=f"ffprobe took longer than {limits.probe_seconds} s and was killed")
    except _ProbeFailed as failed:
        return MediaProbe(**base, format=container, problem=failed.problem, explanation=failed.explanation)
    if container == "unknown":
        container = _FFPROBE_FORMATS.get(report.get("format", {}).get("format_name", ""), "unknown")
    streams = report.get("streams", [])
    pictures = [s for s in streams if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")]
    seconds = _seconds(report, streams)
    first = pictures[0] if pictures else {}
    probe = MediaProbe(**base, format=container, width=first.get("width"), height=first.get("height"),
                       seconds=seconds, codecs=tuple(s.get("codec_name", "?") for s in streams))
    if not pictures:
        return _with(probe, problem="corrupt", explanation="no video stream")
    if seconds is None:
        return _with(probe, problem="corrupt", explanation="no duration in the container")
    return _with(probe, decodable=True)


def _with(probe: MediaProbe, **changes) -> MediaProbe:
    return replace(probe, **changes)


def _seconds(report: dict, streams: list[dict]) -> float | None:
    """The container's duration; the longest stream's when the container does not say."""
    for value in (report.get("format", {}).get("duration"), *(s.get("duration") for s in streams)):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if seconds > 0:
            return seconds
    return None


class _ProbeFailed(Exception):
    def __init__(self, problem: str, explanation: str):
        super().__init__(explanation)
        self.problem, self.explanation = problem, explanation


def _command(path: str, limits: Limits) -> list[str]:
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:  # an installation fault, not the sender's: never judged as a bad file
        raise RuntimeError("ffprobe is not installed (Debian package ffmpeg; ./dev installs it)")
    command = [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path]
    prlimit = shutil.which("prlimit")
    if prlimit:
        command = [prlimit, f"--as={limits.file_parse_memory_bytes}", "--", *command]
    return command


def _ffprobe(data: bytes, limits: Limits, seconds: float) -> dict:
    with tempfile.NamedTemporaryFile(prefix="intake-video-", suffix=".bin") as handle:
        handle.write(data)
        handle.flush()
        completed = subprocess.run(_command(handle.name, limits), capture_output=True,
                                   timeout=seconds, stdin=subprocess.DEVNULL)
    error = completed.stderr.decode("utf-8", "replace").strip()
    if completed.returncode != 0:
        memory = "Cannot allocate memory" in error or "bad_alloc" in error
        return _raise("memory" if memory else "corrupt", error or f"ffprobe exit {completed.returncode}")
    try:
        return json.loads(completed.stdout or b"{}")
    except ValueError:
        return _raise("corrupt", "ffprobe printed no JSON")


def _raise(problem: str, explanation: str):
    raise _ProbeFailed(problem, explanation[:300])
