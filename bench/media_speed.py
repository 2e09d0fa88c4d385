"""How fast photos and videos are judged, and how much memory it takes.

    .venv/bin/python -m bench.media_speed [--runs 20]

Prints a table:
- probing a 6-minute 1080p MP4 (25 fps, low bit rate; made once with ffmpeg and cached in
  $INTAKE_BENCH_CACHE or the temp folder): `parsers.media.probe_media`, which reads a sound
  MP4's own boxes (parsers/mp4_boxes.py); then the same file through ffprobe, as every video
  was read before and an unsound one still is (temporary file and process included). Target
  (issue 4): under 150 ms median.
- judging one message with a .docx form, a write-up and 5 camera-like 4000×3000 JPEGs
  (high-entropy: gradient, shapes and random grain, about 5 MB each): `service.judge.judge`
  in a fresh process, so that its peak memory is the judge's own. Target: under 1.5 s, peak
  memory under 400 MB. Peak memory is ru_maxrss of the judging process plus that of its
  largest child (the photo sandbox); since a forked child's RSS counts the pages it shares
  with its parent, the sum over-counts: it is an upper bound.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

VIDEO_SECONDS = 360
PHOTOS = 5


def _video(cache: Path) -> Path:
    path = cache / f"bench-1080p-{VIDEO_SECONDS}s.mp4"
    if not path.exists():
        print(f"(making {path.name} once with ffmpeg, about a minute)", file=sys.stderr)
        partial = path.with_suffix(".part.mp4")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s=1920x1080:d={VIDEO_SECONDS}:r=25",
             "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "300k", "-pix_fmt", "yuv420p", str(partial)],
            check=True,
        )
        partial.rename(path)
    return path


def _message(cache: Path) -> Path:
    path = cache / f"bench-{PHOTOS}-camera-photos.eml"
    if not path.exists():
        from testing.builders import forms
        from testing.builders.media import camera_jpeg
        from testing.builders.submission import nomination_mail
        from testing.idcards import id_number

        files = [("附件1.docx", forms.bayu_form_docx(forms.FormValues(id_number=id_number()))),
                 ("事迹材料.docx", forms.writeup_docx(1200))]
        files += [(f"张三工作照{k + 1}.jpg", camera_jpeg(k + 1)) for k in range(PHOTOS)]
        path.write_bytes(nomination_mail(files))
    return path


def _time_probe(path: Path, runs: int) -> list[float]:
    from campaigns.limits import Limits
    from ingest.sniff import sniff
    from parsers.media import probe_media
    from parsers.types import FileData

    data = path.read_bytes()
    attachment = FileData(path.name, data, sniff(data, path.name))
    probe = probe_media(attachment, Limits())
    assert probe.decodable and probe.format == "mp4" and probe.width == 1920, probe
    return _timed(lambda: probe_media(attachment, Limits()), runs)


def _time_ffprobe(path: Path, runs: int) -> list[float]:
    """The same video through ffprobe (the fallback for an MP4 whose boxes are not sound)."""
    from campaigns.limits import Limits
    from parsers import video

    data = path.read_bytes()
    container, brands = video.container_of(data)
    base = dict(filename=path.name, kind="video", bytes=len(data), brands=brands)
    assert video.probe_with_ffprobe(data, base, container, Limits()).decodable
    return _timed(lambda: video.probe_with_ffprobe(data, base, container, Limits()), runs)


def _timed(work, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return timings


def judge_in_this_process(eml: str, runs: int) -> None:
    """The measured side: a fresh interpreter judging the message; prints JSON.

    Peak memory is read after the first (cold) judge, as a service judging one message has
    it; then `runs` more are timed, with a garbage collection between them (outside the
    timing), since the pipeline's reference cycles would otherwise keep whole messages alive
    until the collector happens to run.
    """
    import campaigns
    from service.judge import judge

    profile = campaigns.load("chongqing-bayu-2017")
    raw = Path(eml).read_bytes()
    started = time.perf_counter()
    verdict = judge(raw, profile)
    first = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    photos = [f for n in verdict.nominees for f in n.nominee.files if f.role == "photo"]
    summary = {"first": first, "own_mb": own, "child_mb": child, "status": verdict.status, "photos": len(photos),
               "bytes": len(raw), "decoded": all(f.probe and f.probe.decodable for f in photos)}
    del verdict, photos
    timings = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        judge(raw, profile)
        timings.append(time.perf_counter() - started)
    print(json.dumps({**summary, "timings": timings}))


def _row(label: str, timings: list[float], target: str) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"{label:<58} {statistics.median(ordered) * 1000:>9.1f} {p95 * 1000:>9.1f} {len(ordered):>5}  {target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--judge-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.judge_child:
        judge_in_this_process(args.judge_child, args.runs)
        return
    from testing.builders.media import cache_folder

    cache = cache_folder()
    video, eml = _video(cache), _message(cache)
    probe_timings = _time_probe(video, args.runs)
    ffprobe_timings = _time_ffprobe(video, args.runs)
    runs = max(3, args.runs // 4)
    child = subprocess.run([sys.executable, "-m", "bench.media_speed", "--judge-child", str(eml), "--runs", str(runs)],
                           check=True, capture_output=True, text=True)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["status"] == "accepted" and result["photos"] == PHOTOS and result["decoded"], result
    peak = result["own_mb"] + result["child_mb"]
    print(f"{'what':<58} {'median ms':>9} {'p95 ms':>9} {'runs':>5}  target")
    print(_row(f"probe: 6-min 1080p MP4 ({video.stat().st_size / 1e6:.1f} MB), from its boxes", probe_timings,
               "< 150 ms median"))
    print(_row("the same MP4 through ffprobe (the fallback)", ffprobe_timings, "< 150 ms median"))
    print(_row(f"judge: form + write-up + {PHOTOS} × 4000×3000 JPEG ({result['bytes'] / 1e6:.0f} MB mail)",
               result["timings"], "< 1500 ms"))
    print(f"{'judge, first run in a fresh process (cold)':<58} {result['first'] * 1000:>9.1f}")
    print(f"{'peak RSS: judging process':<58} {result['own_mb']:>8.0f} MB")
    print(f"{'peak RSS: largest child (photo sandbox)':<58} {result['child_mb']:>8.0f} MB")
    print(f"{'peak RSS: process + child (upper bound)':<58} {peak:>8.0f} MB  < 400 MB")


if __name__ == "__main__":
    main()
