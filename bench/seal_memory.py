"""Peak memory and time per page of the seal reader, in a fresh process as the sandbox runs it.

    .venv/bin/python -m bench.seal_memory [--generated 40]

Writes every real development picture (../shared/seals-real, the largest a 4000 × 1400
phone photo) as found, as a 4:2:0 JPEG and as an image-only PDF, and `--generated` pictures
of the held-out real-like set to a temporary folder; then a fresh interpreter that loads only
the reader reads them one after the other with `read_seal_here` (what the sandboxed child
runs) and prints its peak resident memory (VmHWM, the kernel's high-water mark of the
process's resident set) after loading and after reading, and the mean and slowest time per page.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

READER = """
import statistics, sys, time
from pathlib import Path


def high_water():
    # VmHWM belongs to this program's memory map; ru_maxrss would keep the parent's peak across exec
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


from parsers.seal import read_seal_here
import parsers.seal_detector, parsers.pages  # noqa: F401 - loaded before the first file, as in the child
loaded = high_water()
seconds, pages = [], 0
for path in sorted(Path(sys.argv[1]).iterdir()):
    data = path.read_bytes()
    started = time.perf_counter()
    reading = read_seal_here(data, path.name, 100_000_000, 20)
    seconds.append(time.perf_counter() - started)
    pages += max(reading.pages, 1)
peak = high_water()
print(f"{len(seconds)} files, {pages} pages: mean {1000 * sum(seconds) / pages:.0f} ms per page "
      f"(median file {1000 * statistics.median(seconds):.0f} ms, slowest {1000 * max(seconds):.0f} ms)")
print(f"peak resident memory of the reader {peak:.0f} MB (interpreter and reader loaded: {loaded:.0f} MB)")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generated", type=int, default=40)
    args = parser.parse_args()
    from bench.seal_sets import RESAVES, generated_items, real_items, resaved
    from testing.builders.seals import REAL_HELD_OUT

    items = [resaved(item, how) for how in RESAVES for item in real_items()]
    items += generated_items(range(REAL_HELD_OUT.start, REAL_HELD_OUT.start + args.generated))
    with tempfile.TemporaryDirectory() as folder:
        for number, item in enumerate(items):
            (Path(folder) / f"{number:04d}-{item.filename}").write_bytes(item.data)
        root = Path(__file__).resolve().parent.parent
        subprocess.run([sys.executable, "-c", READER, folder], cwd=root, check=True)


if __name__ == "__main__":
    main()
