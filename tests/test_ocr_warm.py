"""A judging worker's warm OCR process: the models loaded once for message after message, the limits kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.limits import DEFAULT_LIMITS
from parsers import ocr, ocr_worker
from testing.builders import seals
from testing.programs import everything_installed

KEYWORDS = ("巴渝工匠", "推荐表")
# under CI an engine that is missing is a failed install, not a reason to skip (as tests/test_ocr_scan.py)
pytestmark = pytest.mark.skipif("rapidocr" not in ocr.available_engines() and not everything_installed(),
                                reason="rapidocr-onnxruntime missing")


@pytest.fixture
def warm():
    def keep(limits=DEFAULT_LIMITS):
        ocr_worker.keep_warm(limits)
        return limits
    yield keep
    ocr_worker.stop_warm()


def _scan(seed: int):
    data, values, filename = seals.ocr_scan(seed, "scan_pdf")
    return data, filename, values


def test_scans_of_two_messages_are_read_by_one_process_as_a_fresh_child_reads_them(warm):
    first, second = _scan(41), _scan(43)
    fresh = ocr.read_scan(first[0], first[1], KEYWORDS, DEFAULT_LIMITS, "rapidocr")
    limits = warm()
    read_first = ocr.read_scan(first[0], first[1], KEYWORDS, limits, "rapidocr")
    pid = ocr_worker.warm_reader(limits, "rapidocr").pid
    read_second = ocr.read_scan(second[0], second[1], KEYWORDS, limits, "rapidocr")
    assert ocr_worker.warm_reader(limits, "rapidocr").pid == pid
    assert read_first == fresh
    assert read_second.kind == "form" and read_second.fields["name"] == second[2].name


def test_a_warm_process_is_replaced_after_its_pages(warm):
    limits = warm(DEFAULT_LIMITS.model_copy(update={"ocr_pages_per_process": 1}))
    data, filename, values = _scan(41)
    assert ocr.read_scan(data, filename, KEYWORDS, limits, "rapidocr").fields["name"] == values.name
    pid = ocr_worker.warm_reader(limits, "rapidocr").pid  # worn out: this is a new one
    assert ocr.read_scan(data, filename, KEYWORDS, limits, "rapidocr").fields["name"] == values.name
    assert pid is not None and ocr_worker.warm_reader(limits, "rapidocr").pid != pid


def test_a_warm_process_over_its_time_is_killed_and_the_scan_stays_a_scan(warm):
    limits = warm(DEFAULT_LIMITS.model_copy(update={"ocr_seconds_per_page": 0.05}))
    data, filename, _ = _scan(41)
    reader = ocr_worker.warm_reader(limits, "rapidocr")
    reader.read([(data, filename)], KEYWORDS, 1)  # its first request has the start-up's time too
    assert ocr.read_scan(data, filename, KEYWORDS, limits, "rapidocr") is None
    assert not reader.alive()


def test_a_warm_process_out_of_memory_leaves_the_scan_a_scan_and_the_worker_standing(warm):
    limits = warm(DEFAULT_LIMITS.model_copy(update={"ocr_memory_bytes": 200 * 1024 * 1024}))
    data, filename, values = _scan(41)
    reader = ocr_worker.warm_reader(limits, "rapidocr")
    scratch = Path(reader._scratch.name)
    assert ocr.read_scan(data, filename, KEYWORDS, limits, "rapidocr") is None
    assert not reader.alive() and not scratch.exists()  # the capped process ended, its temporary folder with it
    roomy = warm(DEFAULT_LIMITS)
    assert ocr.read_scan(data, filename, KEYWORDS, roomy, "rapidocr").fields["name"] == values.name


def test_the_warm_process_reads_on_one_core_and_leaves_the_other_to_the_judging_workers(warm):
    # ONNX sessions with a pool of their own start a thread per extra core, which spins between
    # runs on a core another worker needs: more CPU a page for no gain when every core is busy
    limits = warm()
    data, filename, values = _scan(41)
    assert ocr.read_scan(data, filename, KEYWORDS, limits, "rapidocr").fields["name"] == values.name
    pid = ocr_worker.warm_reader(limits, "rapidocr").pid
    threads = len(list(Path(f"/proc/{pid}/task").iterdir()))
    assert threads <= 2, f"{threads} threads in the OCR process"  # its own, and one a library keeps idle
