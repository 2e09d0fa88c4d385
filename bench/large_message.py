"""Peak memory of the service taking one 50 MB message (a form and a big video).

    .venv/bin/python -m bench.large_message [--megabytes 50]

Makes a high-bit-rate 640×360 video once with ffmpeg (cached beside the other benchmark
media, testing/builders/media.py `cache_folder()`; never committed), mails it with a .docx
form and a write-up, APPENDs it to a throwaway Dovecot and runs the real `intake poll
--once` on it (SQLite, replies to a folder). Prints the message's size, the wall time and the
peak memory (VmHWM) of the service process and of its largest child (bench/proctree.py).
Target (issue 7): under 300 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.intake_speed import _states, _write_config
from bench.proctree import run_measured
from bench.synthetic_mailbox import FIRST_ARRIVAL
from testing.dovecot import Dovecot, require_dovecot

TARGET_MB = 300.0
VIDEO_SECONDS = 120
BASE64_GROWTH = 4 / 3 * 78 / 76  # base64 with a line break every 76 characters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=50.0)
    args = parser.parse_args()
    require_dovecot()
    raw = _message(_video(args.megabytes * 1e6 / BASE64_GROWTH))
    server = Dovecot()
    server.start()
    try:
        box = server.add_user(prefix="large")
        box.append(raw, internaldate=FIRST_ARRIVAL)
        with tempfile.TemporaryDirectory(prefix="intake-large-") as folder:
            work = Path(folder)
            config = _write_config(work, box, "INBOX")
            env = {k: v for k, v in os.environ.items() if k not in ("INTAKE_FAILPOINT", "INTAKE_STAGE_TIMES")}
            usage = run_measured([sys.executable, "-m", "cli", "poll", "--once", "--config", str(config)],
                                 env=env, output=work / "poll.txt")
            states = _states(work / "data" / "intake.sqlite3")
            if usage.returncode != 0:
                print((work / "poll.txt").read_text())
    finally:
        server.cleanup()
    peak = max(usage.main_peak_mb, usage.child_peak_mb)
    print(f"{'message MB':>10} {'wall s':>7} {'CPU s':>6} {'peak MB main':>12} {'largest child MB':>16}  filed")
    print(f"{len(raw) / 1e6:>10.1f} {usage.wall:>7.2f} {usage.cpu:>6.2f} {usage.main_peak_mb:>12.0f} "
          f"{usage.child_peak_mb:>16.0f}  {states}")
    print(f"largest child: {usage.child_peak_what}")
    met = peak < TARGET_MB and usage.returncode == 0
    print(f"target: peak memory under {TARGET_MB:.0f} MB: {peak:.0f} MB, {'met' if met else 'NOT met'}")
    raise SystemExit(0 if met else 1)


def _video(size_bytes: float) -> bytes:
    """An MP4 of about `size_bytes`: a moving test pattern at the bit rate that gives that size."""
    from testing.builders.media import cache_folder

    path = cache_folder() / f"large-{VIDEO_SECONDS}s-{size_bytes / 1e6:.0f}MB.mp4"
    if not path.exists():
        print(f"(making {path.name} once with ffmpeg)", file=sys.stderr)
        kilobits = int(size_bytes * 8 / VIDEO_SECONDS / 1000)
        partial = path.with_suffix(".part.mp4")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s=640x360:d={VIDEO_SECONDS}:r=25",
             "-c:v", "libx264", "-preset", "ultrafast", "-b:v", f"{kilobits}k", "-minrate", f"{kilobits}k",
             "-maxrate", f"{kilobits}k", "-bufsize", f"{kilobits}k", "-x264-params", "nal-hrd=cbr",
             "-pix_fmt", "yuv420p", str(partial)], check=True)
        partial.rename(path)
    return path.read_bytes()


def _message(video: bytes) -> bytes:
    from testing.builders import forms
    from testing.builders.submission import nomination_mail

    files = [("张三推荐表.docx", forms.bayu_form_docx()), ("张三事迹材料.docx", forms.writeup_docx(1200)),
             ("张三工作视频.mp4", video)]
    return nomination_mail(files, message_id="<large-1@example.cn>")


if __name__ == "__main__":
    main()
