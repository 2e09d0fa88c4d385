"""Peak memory and time per page of the seal reader, in a fresh process as the sandbox runs it.

    .venv/bin/python -m bench.seal_memory [--generated 40]

Reads every real development picture (../shared/seals-real, the largest is a 4000 × 1400
phone photo) as found, as a 4:2:0 JPEG and as an image-only PDF, then `--generated` pictures
of the held-out real-like set, one after the other with `read_seal_here` (what the sandboxed
child runs), and prints the process's peak resident memory (ru_maxrss, the figure the
kernel keeps) before and after, and the mean and slowest time per page.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generated", type=int, default=40)
    args = parser.parse_args()
    from bench.seal_sets import RESAVES, generated_items, real_items, resaved
    from parsers.seal import read_seal_here
    from tests.builders.seals import REAL_HELD_OUT

    items = [resaved(item, how) for how in RESAVES for item in real_items()]
    items += generated_items(range(REAL_HELD_OUT.start, REAL_HELD_OUT.start + args.generated))
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds, pages = [], 0
    for item in items:
        started = time.perf_counter()
        reading = read_seal_here(item.data, item.filename, 100_000_000, 20)
        seconds.append(time.perf_counter() - started)
        pages += max(reading.pages, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(items)} files, {pages} pages: mean {1000 * sum(seconds) / pages:.0f} ms per page "
          f"(median file {1000 * statistics.median(seconds):.0f} ms, slowest {1000 * max(seconds):.0f} ms)")
    print(f"peak resident memory {peak:.0f} MB (before reading, with the test data built: {baseline:.0f} MB)")


if __name__ == "__main__":
    main()
