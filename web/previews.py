"""Pictures of a nominee's files for the page, made from our own decoding, never the sender's bytes.

- a photo: decoded upright under the pixel limit (parsers/pages.py) and encoded again as JPEG,
  a thumbnail and a large view;
- a form or scan: its pages rendered (PDF pages through PDFium, the pictures pasted into a
  .docx, a picture of a page), the seal detector (parsers/seal_detector.py) run on each, and
  what it saw outlined in blue with its confidence;
- a video: one frame taken by ffmpeg (the command built by ffmpeg-python, run here under a time
  limit, killed when it is up, its memory capped through prlimit), encoded again as JPEG.

Photos and pages are decoded in a fresh child process under the campaign's limits (this
process serves pages from threads, so no fork), all of a nominee's files in one child; the
results are kept in `<data_path>/web/previews/` (mode 0700) by the file's sha256.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from campaigns.limits import Limits
from core import children
from core.files import private_folder, write_private

PAGES_SHOWN = 6
THUMB_SIDE, LARGE_SIDE, POSTER_SIDE = 320, 1600, 960
OUTLINE = (29, 78, 216)  # blue: never mistaken for the red of a seal
VERSION = 1  # bump when what is drawn changes: old pictures are made again


@dataclass(frozen=True)
class PagePreview:
    number: int
    suffix: str  # how the seal reading names the page after the file's path: " p1", " 图1", ""
    confidence: float
    kind: str  # "red", "grey" …: the detector's best candidate on the page
    outlined: bool


@dataclass(frozen=True)
class FilePreview:
    kind: str  # "photo" | "pages" | "video" | "none"
    pages: tuple[PagePreview, ...] = ()
    problem: str = ""


def _jpeg(image, side: int, quality: int = 85) -> bytes:
    from PIL import Image

    image = image.copy()
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def _photo(data: bytes, target: Path, max_pixels: int) -> dict:
    from PIL import Image

    from parsers.pages import image_pixels

    image = Image.fromarray(image_pixels(data, long_side=LARGE_SIDE, max_pixels=max_pixels))
    write_private(target.with_name(target.name + "-large.jpg"), _jpeg(image, LARGE_SIDE))
    write_private(target.with_name(target.name + "-thumb.jpg"), _jpeg(image, THUMB_SIDE, 80))
    return {"kind": "photo"}


def _outlined(picture, threshold: float):
    """The page with the detector's best candidate outlined, and what it saw."""
    from PIL import Image, ImageDraw

    from parsers.seal_detector import look

    sighting = look(picture)
    image = Image.fromarray(picture.image)
    outlined = sighting.box is not None and sighting.confidence >= threshold
    if outlined:
        x0, y0, x1, y1 = sighting.box
        pad = max(4, (x1 - x0) // 12)
        draw = ImageDraw.Draw(image)
        draw.ellipse((x0 - pad, y0 - pad, x1 + pad, y1 + pad), outline=OUTLINE, width=4)
        draw.rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), outline=OUTLINE, width=1)
    return image, sighting, outlined


def _pages(data: bytes, filename: str, target: Path, max_pixels: int, threshold: float) -> dict:
    from parsers.pages import kind_of, pictures_of
    from parsers.seal_ink import WORK_SIDE

    kind = kind_of(data, filename)
    pages = []
    for number, picture in enumerate(pictures_of(data, filename, long_side=WORK_SIDE, max_pixels=max_pixels,
                                                 max_pages=PAGES_SHOWN), start=1):
        image, sighting, outlined = _outlined(picture, threshold)
        write_private(target.with_name(f"{target.name}-p{number}.jpg"), _jpeg(image, WORK_SIDE, 88))
        suffix = f" p{number}" if kind == "pdf" else f" 图{number}" if kind == "docx" else ""
        pages.append({"number": number, "suffix": suffix, "confidence": round(sighting.confidence, 2),
                      "kind": sighting.kind, "outlined": outlined})
    return {"kind": "pages", "pages": pages}


def render_batch(jobs: list[tuple[str, str, bytes, str]], folder: str, max_pixels: int, threshold: float) -> dict:
    """In the child: each (sha256, what, bytes, file name) made into pictures under `folder`; the manifests."""
    from parsers.pages import PagesUnreadable

    made = {}
    for sha256, what, data, filename in jobs:
        target = Path(folder) / sha256[:2] / sha256
        private_folder(target.parent)
        try:
            made[sha256 + what] = (_photo(data, target, max_pixels) if what == "photo"
                                   else _pages(data, filename, target, max_pixels, threshold))
        except PagesUnreadable as unreadable:
            made[sha256 + what] = {"kind": "none", "problem": f"无法生成预览：{unreadable}"[:300]}
    return made


def poster_command(source: str, at_seconds: float) -> list[str]:
    """ffmpeg: one frame at `at_seconds`, as PNG on stdout (built with ffmpeg-python)."""
    import ffmpeg

    stream = ffmpeg.input(source, ss=f"{at_seconds:.2f}").output("pipe:", vframes=1, format="image2", vcodec="png")
    return stream.global_args("-v", "error", "-nostdin").compile(cmd=shutil.which("ffmpeg") or "ffmpeg")


def _poster(data: bytes, target: Path, seconds: float | None, limits: Limits) -> dict:
    from PIL import Image

    at = min(1.0, (seconds or 0) / 3)
    with tempfile.NamedTemporaryFile(prefix="intake-poster-", suffix=".bin") as handle:
        handle.write(data)
        handle.flush()
        command = poster_command(handle.name, at)
        prlimit = shutil.which("prlimit")
        if prlimit:
            command = [prlimit, f"--as={limits.file_parse_memory_bytes}", "--", *command]
        try:
            # run() kills ffmpeg when its time is up
            done = subprocess.run(command, capture_output=True, timeout=limits.probe_seconds, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return {"kind": "none", "problem": f"ffmpeg 超过 {limits.probe_seconds:g} 秒未取出画面，已终止"}
    if done.returncode != 0 or not done.stdout:
        return {"kind": "none", "problem": "ffmpeg 未能取出画面：" + done.stderr.decode("utf-8", "replace")[:200]}
    try:
        frame = Image.open(io.BytesIO(done.stdout))
        frame.load()
    except Exception as error:  # noqa: BLE001 - whatever ffmpeg wrote, it is not shown unless Pillow reads it
        return {"kind": "none", "problem": f"画面无法读取：{type(error).__name__}"}
    if frame.width * frame.height > limits.image_max_pixels:
        return {"kind": "none", "problem": "画面过大"}
    private_folder(target.parent)
    write_private(target.with_name(target.name + "-poster.jpg"), _jpeg(frame, POSTER_SIDE))
    return {"kind": "video"}


class Previews:
    """The pictures of files, made once and kept under `folder` by sha256 (a manifest says what is there)."""

    def __init__(self, folder: Path, limits: Limits, seal_threshold: float):
        self.folder = private_folder(folder)
        self.limits, self.threshold = limits, seal_threshold

    def picture(self, sha256: str, name: str) -> Path | None:
        """One kept picture (`thumb`, `large`, `p2`, `poster`); None when there is none."""
        path = self.folder / sha256[:2] / f"{sha256}-{name}.jpg"
        return path if path.is_file() else None

    def _manifest_path(self, sha256: str, what: str) -> Path:
        return self.folder / sha256[:2] / f"{sha256}-{what}-v{VERSION}.json"

    def _known(self, sha256: str, what: str) -> FilePreview | None:
        try:
            data = json.loads(self._manifest_path(sha256, what).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return FilePreview(data["kind"], tuple(PagePreview(**p) for p in data.get("pages", ())), data.get("problem", ""))

    def _keep(self, sha256: str, what: str, manifest: dict) -> None:
        private_folder(self.folder / sha256[:2])
        write_private(self._manifest_path(sha256, what), json.dumps(manifest, ensure_ascii=False).encode())

    def _child(self, jobs: list[tuple[str, str, bytes, str]]) -> dict:
        pages = sum(PAGES_SHOWN if what == "pages" else 1 for _, what, _, _ in jobs)
        seconds = self.limits.file_parse_seconds + self.limits.seal_seconds_per_page * pages + 10
        return children.run(render_batch, jobs, str(self.folder), self.limits.image_max_pixels, self.threshold,
                            seconds=seconds, memory_bytes=self.limits.file_parse_memory_bytes, fresh=True)

    def _render(self, jobs: list[tuple[str, str, bytes, str]]) -> None:
        """All in one child; where that fails, each on its own, so one bad file costs only its own picture."""
        try:
            made = self._child(jobs)
        except children.ChildFailed as failure:
            if len(jobs) > 1:
                for job in jobs:
                    self._render([job])
                return
            made = {jobs[0][0] + jobs[0][1]: {"kind": "none", "problem": f"无法生成预览：{failure}"[:300]}}
        for sha256, what, _, _ in jobs:
            self._keep(sha256, what, made.get(sha256 + what, {"kind": "none", "problem": "无法生成预览"}))

    def prepare(self, files: list[tuple[str, str, bytes | None, str, float | None]]) -> dict[str, FilePreview]:
        """(sha256, what, bytes, file name, video seconds) → its preview, making what is missing.
        `what` is "photo", "pages" or "video"; bytes None: the mail was purged, nothing to show."""
        jobs, videos = [], []
        for sha256, what, data, filename, seconds in files:
            if data is not None and self._known(sha256, what) is None:
                (videos if what == "video" else jobs).append((sha256, what, data, filename, seconds))
        if jobs:
            self._render([(sha256, what, data, filename) for sha256, what, data, filename, _ in jobs])
        for sha256, what, data, _, seconds in videos:
            self._keep(sha256, what, _poster(data, self.folder / sha256[:2] / sha256, seconds, self.limits))
        return {sha256 + what: (self._known(sha256, what) or FilePreview("none", problem="原始邮件已删除，没有文件"))
                for sha256, what, _, _, _ in files}
