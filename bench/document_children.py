"""A message's documents read in one sandboxed child against one child a document.

    .venv/bin/python -m bench.document_children [--runs 15] [--ballast-mb 300]

Reads the documents of a usual nomination (the form and the write-up as .docx, a PDF
attachment) with `parsers.parse_documents` (one child for them all, as the judge does) and with
`parsers.parse_document` on each (one child each, as before), and prints the median time of
each way. `--ballast-mb` maps that much in this process first, as a judging worker with its
libraries and caches loaded has: a fork copies the page tables of all of it, so the cost of a
fork grows with the parent.
"""

from __future__ import annotations

import argparse
import statistics
import time

from campaigns.limits import Limits
from ingest.sniff import sniff
from parsers import parse_document, parse_documents
from parsers.types import FileData
from testing.builders import forms

KEYWORDS = ("巴渝工匠", "推荐表")


def _files() -> list[FileData]:
    made = (("推荐表.docx", forms.bayu_form_docx()), ("事迹材料.docx", forms.writeup_docx(1400)),
            ("附件.pdf", forms.writeup_pdf(900)))
    return [FileData(name, data, sniff(data, name)) for name, data in made]


def _median_ms(read, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        read()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--ballast-mb", type=int, default=300)
    options = parser.parse_args()
    ballast = bytearray(options.ballast_mb * 1_000_000)  # noqa: F841 - mapped while the children fork
    files, limits = _files(), Limits()
    parse_documents(files, KEYWORDS, limits)  # the readers' modules imported, as in a worker
    each = _median_ms(lambda: [parse_document(f, KEYWORDS, limits) for f in files], options.runs)
    together = _median_ms(lambda: parse_documents(files, KEYWORDS, limits), options.runs)
    print(f"{len(files)} documents, parent with {options.ballast_mb} MB mapped, median of {options.runs} runs:")
    print(f"  one child a document: {each:6.1f} ms")
    print(f"  one child a message:  {together:6.1f} ms")


if __name__ == "__main__":
    main()
