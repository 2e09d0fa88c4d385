"""Real photos and videos made at test time with ffmpeg and Pillow: small, fast, cached for the session."""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import tempfile
import zlib
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw

# container → (ffmpeg muxer, video codec, extension)
_MUXERS = {
    "mp4": ("mp4", "libx264", "mp4"),
    "mov": ("mov", "libx264", "mov"),
    "avi": ("avi", "mpeg4", "avi"),
    "wmv": ("asf", "wmv2", "wmv"),
    "flv": ("flv", "flv1", "flv"),
    "mpg": ("vob", "mpeg2video", "mpg"),
    "3gp": ("3gp", "libx264", "3gp"),
}


@lru_cache(maxsize=None)
def video(seconds: float, container: str = "mp4", size: tuple[int, int] = (64, 48), fps: int = 1) -> bytes:
    """A video of exactly `seconds` (a whole number of frames at `fps`), a plain colour at `fps`
    frames a second (a 5-minute MP4 in ~0.1 s)."""
    muxer, codec, extension = _MUXERS[container]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"v.{extension}"
        command = [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi",
            "-i", f"color=c=0x3366aa:s={size[0]}x{size[1]}:d={seconds}:r={fps}",
            "-c:v", codec, *(["-preset", "ultrafast"] if codec == "libx264" else []),
            "-r", str(fps), "-pix_fmt", "yuv420p", "-f", muxer, str(path),
        ]
        subprocess.run(command, check=True, capture_output=True)
        return path.read_bytes()


# ffmpeg arguments of the MP4/MOV variants a reader of boxes must get right or hand to ffprobe
_VARIANTS = {
    "faststart": ("-movflags", "+faststart"),  # moov before mdat, as phones and web tools write it
    "fragmented": ("-movflags", "frag_keyframe+empty_moov"),  # moof boxes, mvhd without the duration
    "aac": ("-f", "lavfi", "-i", "sine=d={seconds}", "-c:a", "aac"),
    "mp3": ("-f", "lavfi", "-i", "sine=d={seconds}", "-c:a", "libmp3lame"),
    "hevc": ("-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1"),
    "subtitles": ("-f", "srt", "-i", "{srt}", "-c:s", "mov_text"),  # a text track: ffprobe lists it
}


@lru_cache(maxsize=None)
def video_variant(variant: str, seconds: float = 300, container: str = "mp4", fps: int = 1) -> bytes:
    """A small video in one of the _VARIANTS above (the picture as `video` makes it)."""
    with tempfile.TemporaryDirectory() as folder:
        srt = Path(folder) / "s.srt"
        srt.write_text("1\n00:00:00,000 --> 00:00:01,000\n张三\n", encoding="utf-8")
        path = Path(folder) / f"v.{container}"
        extra = [part.format(seconds=seconds, srt=srt) for part in _VARIANTS[variant]]
        inputs = extra if "-i" in extra else []
        command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=0x3366aa:s=64x48:d={seconds}:r={fps}",
                   *inputs, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                   *([] if inputs else extra), "-r", str(fps), "-f", container, str(path)]
        subprocess.run(command, check=True, capture_output=True)
        return path.read_bytes()


@lru_cache(maxsize=None)
def video_with_cover(seconds: float = 300) -> bytes:
    """An MP4 with cover art (a covr picture in its metadata), which ffprobe lists as a stream."""
    with tempfile.TemporaryDirectory() as folder:
        cover, path = Path(folder) / "cover.png", Path(folder) / "v.mp4"
        Image.new("RGB", (64, 48), (200, 30, 30)).save(cover)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=0x3366aa:s=64x48:d={seconds}:r=1",
                        "-i", str(cover), "-map", "0", "-map", "1", "-c:v:0", "libx264", "-preset", "ultrafast",
                        "-pix_fmt", "yuv420p", "-c:v:1", "png", "-disposition:v:1", "attached_pic", str(path)],
                       check=True, capture_output=True)
        return path.read_bytes()


def truncated_mp4(seconds: int = 300) -> bytes:
    """An MP4 cut short as a failed upload is: ffmpeg writes moov last, so the index is gone."""
    data = video(seconds, "mp4", (64, 48), 5)
    moov = data.rfind(b"moov")
    assert moov > len(data) // 2, "ffmpeg put moov first; the test needs it last"
    return data[: moov - 100]


def jpeg(seed: int = 0, size: tuple[int, int] = (96, 64), orientation: int | None = None, quality: int = 85) -> bytes:
    """A noisy camera-like JPEG; `orientation` writes an EXIF Orientation tag."""
    rng = random.Random(seed)
    noise = Image.effect_noise(size, 50).convert("RGB")
    tint = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = Image.blend(noise, tint, 0.5)
    buffer = io.BytesIO()
    if orientation is None:
        image.save(buffer, "JPEG", quality=quality)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def camera_jpeg(seed: int = 0, size: tuple[int, int] = (4000, 3000), quality: int = 90) -> bytes:
    """A high-entropy camera-sized JPEG (gradient + shapes + random grain): decodes as slowly as a real one."""
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(base)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle([x, y, x + rng.randrange(100, 900), y + rng.randrange(100, 700)], fill=colour)
    grain = Image.frombytes("RGB", size, random.Random(seed).randbytes(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    Image.blend(base, grain, 0.25).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def heic(size: tuple[int, int] = (96, 64), seed: int = 0) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.open(io.BytesIO(jpeg(seed, size))).save(buffer, "HEIF", quality=60)
    return buffer.getvalue()


def heic_flood(count: int, size: tuple[int, int] = (10000, 9999)) -> list[bytes]:
    """`count` small HEIC files (about 23 KB) that each decode to `size` (just under 100 megapixels):
    one plain picture, encoded once per machine (it takes x265 some seconds) and kept in
    `cache_folder()`, each copy made distinct by a trailing ISO-BMFF `free` box the decoder skips."""
    import pillow_heif

    cached = cache_folder() / f"flat-{size[0]}x{size[1]}.heic"
    if not cached.exists():
        pillow_heif.register_heif_opener()
        buffer = io.BytesIO()
        Image.new("RGB", size, (120, 130, 140)).save(buffer, "HEIF", quality=0, enc_params={"preset": "ultrafast"})
        scratch = cached.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_bytes(buffer.getvalue())
        scratch.replace(cached)
    data = cached.read_bytes()
    return [data + struct.pack(">I", 12) + b"free" + struct.pack(">I", k) for k in range(count)]


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width × height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def page_scan(size: tuple[int, int] = (620, 877), grey: int = 250) -> bytes:
    """A scanned form page: white paper, a title, table rules and lines of dark text, a red seal."""
    image = Image.new("RGB", size, (grey, grey, grey))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle([w * 0.3, 40, w * 0.7, 62], fill=(20, 20, 20))  # the title
    y = 100
    while y < h - 60:
        draw.line([40, y, w - 40, y], fill=(30, 30, 30), width=2)  # a table rule
        for x in range(60, w - 120, 90):
            draw.rectangle([x, y + 10, x + 60, y + 22], fill=(40, 40, 40))  # a word
        y += 42
    draw.ellipse([w - 200, h - 220, w - 80, h - 100], outline=(220, 30, 30), width=5)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def id_portrait(size: tuple[int, int] = (295, 413), background: tuple[int, int, int] = (67, 142, 219)) -> bytes:
    """A one-inch ID photo: a plain blue background, a head and shoulders in the middle."""
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse([w * 0.3, h * 0.18, w * 0.7, h * 0.58], fill=(230, 190, 160))  # face
    draw.ellipse([w * 0.28, h * 0.12, w * 0.72, h * 0.3], fill=(30, 25, 20))  # hair
    draw.rectangle([w * 0.1, h * 0.65, w * 0.9, h], fill=(20, 30, 60))  # jacket
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def cache_folder() -> Path:
    """Where benchmarks keep the big media they make once."""
    folder = Path(os.environ.get("INTAKE_BENCH_CACHE", Path(tempfile.gettempdir()) / "intake-bench-media"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
