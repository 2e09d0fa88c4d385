"""Photos probed with the JPEG decoded at a reduced scale against a full decode: time, memory, same hints.

    .venv/bin/python -m bench.photo_decode [--runs 5] [--no-hints]

Prints, for camera-like JPEGs of the sizes phones take (high-entropy, about 0.45 bytes a
pixel: testing/builders/media.py camera_jpeg), the median time of `parsers.photo.probe_photo`
with the reduced decode (as it runs) and with a full decode (the reduction turned off), and
the peak resident memory (VmHWM) of a fresh interpreter probing five of them each way.
Then, unless --no-hints, the page-like and portrait-like hints of both ways on 626 pictures
(test photos, ../shared/corpora/images, the real seal pictures as found and re-saved, 460
generated pages and phone photos, phone photos of filled forms): they must agree, and each
probe's verdict (decodable, problem, size) must be the same.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

SIZES = ((4000, 3000), (4032, 3024), (3264, 2448), (1920, 1080), (4624, 3472))
ROOT = Path(__file__).resolve().parent.parent
MEMORY = """
import sys
from pathlib import Path
from parsers import photo
if sys.argv[2] == "full":
    photo._decode_smaller = lambda image, factor: 1
def high_water():
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
paths = sorted(Path(sys.argv[1]).iterdir())
loaded = high_water()
for path in paths:
    assert photo.probe_photo(path.name, path.read_bytes(), 100_000_000).decodable
print(f"{high_water():.0f} {loaded:.0f}")
"""


def full_decode(function, *args):
    """`function(*args)` with the reduced JPEG decode turned off: what probing was before."""
    from parsers import photo

    reduced = photo._decode_smaller
    photo._decode_smaller = lambda image, factor: 1
    try:
        return function(*args)
    finally:
        photo._decode_smaller = reduced


def timings(runs: int) -> None:
    from parsers.photo import probe_photo
    from testing.builders.media import camera_jpeg

    print(f"{'camera JPEG':<22} {'MB':>5} {'reduced ms':>11} {'full ms':>9}")
    for size in SIZES:
        data = camera_jpeg(1, size)
        reduced = _median(partial(probe_photo, "p.jpg", data, 100_000_000), runs)
        full = _median(partial(full_decode, probe_photo, "p.jpg", data, 100_000_000), runs)
        print(f"{size[0]}×{size[1]:<17} {len(data) / 1e6:>5.1f} {reduced * 1000:>11.0f} {full * 1000:>9.0f}")
    with tempfile.TemporaryDirectory() as folder:
        for k in range(5):
            (Path(folder) / f"{k}.jpg").write_bytes(camera_jpeg(k, (4000, 3000)))
        peaks = {how: subprocess.run([sys.executable, "-c", MEMORY, folder, how], cwd=ROOT, check=True,
                                     capture_output=True, text=True).stdout.split() for how in ("reduced", "full")}
    print("peak resident memory (VmHWM) of a fresh interpreter probing five 4000×3000 JPEGs one after the other: "
          + ", ".join(f"{how} {peak} MB" for how, (peak, _) in peaks.items())
          + f" (loaded, before the first: {peaks['full'][1]} MB)")


def _median(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pictures():
    """(name, bytes) of every picture the hints are compared on."""
    from bench.seal_sets import generated_items, jpeg420, real_items
    from testing.builders import media
    from testing.builders.seals import REAL_HELD_OUT, REAL_TUNING, ocr_scan

    for k in range(6):
        yield f"jpeg{k}", media.jpeg(k, (320 + 200 * k, 240 + 150 * k))
        yield f"camera{k}", media.camera_jpeg(k, (1600, 1200))
    for orientation in range(1, 9):
        yield f"orientation{orientation}", media.jpeg(2, (1600, 1200), orientation=orientation)
    yield "camera 4000", media.camera_jpeg(1)
    for size, grey in (((620, 877), 250), ((1240, 1754), 235), ((2480, 3508), 245)):
        yield f"page scan {size}", media.page_scan(size, grey)
    yield "portrait", media.id_portrait()
    yield "portrait 2-inch", media.id_portrait((413, 579))
    for path in sorted((ROOT.parent / "shared" / "corpora" / "images").glob("*")):
        yield path.name, path.read_bytes()
    for item in real_items():
        yield item.name, item.data
        yield item.name + " 4:2:0", jpeg420(item.data)
    generated = generated_items(REAL_HELD_OUT) + generated_items(range(REAL_TUNING.start, REAL_TUNING.start + 200))
    for item in generated:
        yield item.name, item.data
    for seed in range(40_000, 40_010):
        yield f"form photo {seed}", ocr_scan(seed, "photo_jpg")[0]


def hints() -> None:
    from parsers.photo import _analysis_factor, probe_photo

    count = reduced_count = 0
    differ: list[str] = []
    for name, data in pictures():
        reduced = probe_photo(name, data, 100_000_000)
        full = full_decode(probe_photo, name, data, 100_000_000)
        count += 1
        reduced_count += reduced.format == "JPEG" and _analysis_factor((reduced.width, reduced.height)) % 2 == 0
        verdict = lambda p: (p.format, p.width, p.height, p.decodable, p.problem, p.orientation)  # noqa: E731
        if verdict(reduced) != verdict(full) or (reduced.page_like, reduced.portrait_like) != (full.page_like,
                                                                                                full.portrait_like):
            differ.append(f"  {name}: reduced {reduced}, full {full}")
    print(f"hints on {count} pictures ({reduced_count} JPEGs decoded at 1/2, 1/4 or 1/8): "
          f"{len(differ)} differ between the reduced and the full decode" + "".join("\n" + d for d in differ))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-hints", action="store_true")
    args = parser.parse_args()
    timings(args.runs)
    if not args.no_hints:
        hints()


if __name__ == "__main__":
    main()
