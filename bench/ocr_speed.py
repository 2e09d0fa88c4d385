"""OCR of scanned forms by detection size: fields read, time per page, peak memory of the OCR process.

    .venv/bin/python -m bench.ocr_speed [--scans 24] [--sides 0,1600,1280,1024]

Makes `--scans` degraded scans of filled, stamped forms that the OCR pipeline was not tuned on
(testing/builders/seals.py ocr_scan, seeds 40000 on, as bench/seal_eval.py: half image-only
PDFs at JPEG quality 60, half phone photos, turned, blurred, unevenly lit), then for each
detection size (parsers/ocr_engine.py DET_SIDE; 0 is RapidOCR's own choice, which was 2000 for
our 2000-pixel pages, what ran before) starts a fresh interpreter that loads one warm engine
and reads them all one after the other, as the warm OCR process of a judging worker does
(parsers/ocr_worker.py). Prints per size: the share of the 14 fields read exactly, the fields
misread, the mean time per page (wall, and CPU of all the process's threads), the peak resident
memory of that process (VmHWM) after loading and after reading, and its resident memory after
the first and the last scan (whether a warm worker grows). Then each scan is read again as a
scan beside complete typed forms is (parsers/ocr.py Glance): beside one typed form, the title;
beside several, the title and the table's first row, which must name one of them (two here);
the whole page where the glance does not settle it: how many read as the form with the right
name, the time per scan, and how many had to be read whole.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READER = """
import json, sys, time
from pathlib import Path


def status(key):
    line = next(l for l in open("/proc/self/status") if l.startswith(key + ":"))
    return int(line.split()[1]) / 1024


from campaigns.limits import DEFAULT_LIMITS
from parsers import ocr, ocr_engine

ocr_engine.DET_SIDE = int(sys.argv[2])
ocr_engine.load_rapid()  # as parsers/ocr_worker.py's warm process does before its first request
loaded = status("VmHWM")
rows, resident = [], []
for path in sorted(Path(sys.argv[1]).glob("*.scan")):
    started, cpu = time.perf_counter(), time.process_time()
    [document] = ocr.read_scans_here([(path.read_bytes(), path.stem)], ("巴渝工匠", "推荐表"),
                                     DEFAULT_LIMITS.image_max_pixels, ocr.scan_pages(DEFAULT_LIMITS), "rapidocr")
    rows.append({"name": path.name, "fields": document.fields if document else {},
                 "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu})
    resident.append(status("VmRSS"))
glances, names = {"one": [], "several": []}, json.loads((Path(sys.argv[1]) / "names.json").read_text())
for path in sorted(Path(sys.argv[1]).glob("*.scan")):  # as beside typed forms (parsers/ocr.py Glance)
    for beside, glance in (("one", ocr.Glance()), ("several", ocr.Glance(names=(names[path.name], "某某")))):
        started, cpu = time.perf_counter(), time.process_time()
        [document] = ocr.read_scans_here([(path.read_bytes(), path.stem)], ("巴渝工匠", "推荐表"),
                                         DEFAULT_LIMITS.image_max_pixels, ocr.scan_pages(DEFAULT_LIMITS), "rapidocr",
                                         glance)
        fields = document.fields if document else {}
        glances[beside].append({"name": path.name, "seconds": time.perf_counter() - started,
                                "cpu": time.process_time() - cpu, "form": bool(document)
                                and document.kind == "form", "who": fields.get("name", ""),
                                "whole": "recommending_unit" in fields})
print(json.dumps({"rows": rows, "pages": ocr_engine.pages_read(), "loaded": loaded, "peak": status("VmHWM"),
                  "first": resident[0], "last": resident[-1], "glances": glances}))
"""


def make_scans(folder: Path, count: int) -> dict[str, dict]:
    """The scans as files (NNN-medium.scan) and what each form says, by file name."""
    from testing.builders.seals import ocr_scan

    truth = {}
    for k in range(count):
        seed, medium = 40_000 + k // 2, ("scan_pdf", "photo_jpg")[k % 2]
        data, values, _ = ocr_scan(seed, medium)
        name = f"{k:03d}-{medium}.scan"
        (folder / name).write_bytes(data)
        truth[name] = values.__dict__
    (folder / "names.json").write_text(json.dumps({name: values["name"] for name, values in truth.items()}))
    return truth


def measure(folder: Path, side: int) -> dict:
    done = subprocess.run([sys.executable, "-c", READER, str(folder), str(side)], cwd=ROOT, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(side: int, result: dict, truth: dict[str, dict]) -> None:
    from bench.seal_eval import FIELDS, _same

    rows = result["rows"]
    right = sum(_same(f, row["fields"].get(f, ""), truth[row["name"]][f]) for row in rows for f in FIELDS)
    misread = [f"{row['name'][:3]}/{f}" for row in rows for f in FIELDS
               if not _same(f, row["fields"].get(f, ""), truth[row["name"]][f])]
    seconds = sum(row["seconds"] for row in rows) / max(1, result["pages"])
    cpu = sum(row["cpu"] for row in rows) / max(1, result["pages"])
    label = f"{side}" if side else "RapidOCR's choice (2000)"
    print(f"{label:>24} {right / (len(rows) * len(FIELDS)):>7.3f} {seconds:>8.2f} {cpu:>8.2f} {result['peak']:>8.0f} "
          f"{result['loaded']:>7.0f} {result['first']:>7.0f} {result['last']:>7.0f}   "
          f"{', '.join(misread[:6]) or '-'}{' …' if len(misread) > 6 else ''}")
    for beside, glances in result["glances"].items():
        right = sum(g["form"] and (beside == "one" or g["who"] == truth[g["name"]]["name"]) for g in glances)
        print(f"{'  glance beside ' + beside:>24} {right}/{len(glances)} read as the form"
              f"{' with the right name' if beside == 'several' else ''}, "
              f"{sum(g['seconds'] for g in glances) / max(1, len(glances)):.2f} s/scan "
              f"({sum(g['cpu'] for g in glances) / max(1, len(glances)):.2f} s of CPU), "
              f"{sum(g['whole'] for g in glances)} read whole (the glance did not settle it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scans", type=int, default=24)
    parser.add_argument("--sides", default="0,1600,1280,1024")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        truth = make_scans(Path(folder), args.scans)
        print(f"{args.scans} degraded scans of filled forms (seeds 40000 on), one warm engine per size, "
              "one scan after the other")
        print(f"{'detection side':>24} {'fields':>7} {'s/page':>8} {'CPU s':>8} {'peak MB':>8} {'loaded':>7} {'RSS 1st':>7} "
              f"{'last':>7}   misread (scan/field)")
        for side in (int(s) for s in args.sides.split(",")):
            report(side, measure(Path(folder), side), truth)


if __name__ == "__main__":
    main()
