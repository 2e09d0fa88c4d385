"""How long `intake check` takes on one message with a .docx form and a write-up.

    .venv/bin/python -m bench.check_speed [--runs 50]

Prints the processing time after start-up (the judge on one message: MIME, both documents
read in their sandboxed children, grouping, rules, JSON), as median and 95th percentile,
and the whole command's wall time including interpreter start-up for comparison.
Target (issue 2): under 0.3 s of processing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import campaigns
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import forms
from testing.builders.submission import nomination_mail
from testing.idcards import id_number


def _message(photos: bool) -> bytes:
    from testing.builders.submission import photo_jpeg

    files = [("附件1.docx", forms.bayu_form_docx(forms.FormValues(id_number=id_number()))),
             ("事迹材料.docx", forms.writeup_docx(1400))]
    if photos:
        files += [(f"照片{i}.jpg", photo_jpeg(i)) for i in range(4)]
    return nomination_mail(files)


def _time_judge(raw: bytes, runs: int) -> list[float]:
    profile = campaigns.load("chongqing-bayu-2017")
    judge(raw, profile)  # warm caches (templates, lazy imports) as a running service has them
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        verdict = judge(raw, profile)
        json.dumps(verdict_json(verdict, profile.id), ensure_ascii=False)
        timings.append(time.perf_counter() - started)
    assert verdict.status == "accepted" or verdict.status == "rejected"
    return timings


def _time_command(raw: bytes, runs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "a.eml"
        path.write_bytes(raw)
        command = [sys.executable, "-m", "cli", "check", str(path), "--campaign", "chongqing-bayu-2017"]
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            timings.append(time.perf_counter() - started)
        return timings


def _time_parse(raw: bytes, runs: int) -> list[float]:
    from ingest.mime import parse_message

    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        parse_message(raw)
        timings.append(time.perf_counter() - started)
    return timings


def _two_megabyte_mail() -> bytes:
    from testing.builders.submission import photo_jpeg

    files = [("附件1.docx", forms.bayu_form_docx())]
    files += [(f"照片{i}.jpg", photo_jpeg(i, size=(900, 700))) for i in range(6)]
    return nomination_mail(files)


def _row(label: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"{label:<44} {statistics.median(ordered) * 1000:>9.1f} {p95 * 1000:>9.1f} {len(ordered):>5}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    plain, with_photos = _message(photos=False), _message(photos=True)
    print(f"{'what':<44} {'median ms':>9} {'p95 ms':>9} {'runs':>5}")
    print(_row(f"judge: docx form + write-up ({len(plain) // 1024} KB)", _time_judge(plain, args.runs)))
    print(_row(f"judge: same + 4 photos ({len(with_photos) // 1024} KB)", _time_judge(with_photos, args.runs)))
    big = _two_megabyte_mail()
    print(_row(f"ingest only: take apart a {len(big) / 1e6:.1f} MB mail", _time_parse(big, args.runs)))
    print(_row("whole command incl. start-up (form + write-up)", _time_command(plain, max(args.runs // 5, 3))))


if __name__ == "__main__":
    main()
