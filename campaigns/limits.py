"""Every safety limit of intake, in one place, with its default.

A profile may override any of them in its `[limits]` section. Archive limits apply to
archives that senders attach, not to the zip inside every .docx/.xlsx (CONTRACT §3).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MB = 1_000_000


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # archives sent by people
    archive_total_bytes: int = Field(500 * MB, gt=0, description="all entries unpacked, summed over the message")
    archive_max_entries: int = Field(1000, gt=0, description="entries in one message's archives, all levels")
    archive_max_depth: int = Field(3, gt=0, description="archives inside archives, the outermost is depth 1")
    archive_max_ratio: float = Field(100.0, gt=1, description="unpacked/packed size of one entry ...")
    archive_ratio_min_bytes: int = Field(1 * MB, ge=0, description="... checked only for entries unpacking above this")

    # images
    image_max_pixels: int = Field(100_000_000, gt=0, description="width × height of any picture we decode")

    # any one file's parsing (archives, PDFs, docx, images), in a child process
    file_parse_seconds: float = Field(30.0, gt=0, description="wall time to read one file")
    file_parse_memory_bytes: int = Field(1536 * MB, gt=0, description="address space of the process reading one file")

    # videos: ffprobe reads the container (not every frame) in a subprocess
    probe_seconds: float = Field(20.0, gt=0, description="wall time of ffprobe on one video before it is killed")
    # MP4/MOV read from their own boxes (parsers/mp4_boxes.py) before ffprobe is asked
    video_boxes_max: int = Field(100_000, gt=0, description="top-level boxes of an MP4/MOV walked, 16 bytes read each")
    video_index_max_bytes: int = Field(
        16 * MB, gt=0, description="a moov box (the index) read whole; a larger one is left to ffprobe")

    # all the photos and videos of one message together: past either, the rest are not read and the
    # message is refused (ATTACHMENT_UNSAFE), as a bomb is: forty small HEIC files that each decode
    # to 100 megapixels cost what one message may, not forty times that
    message_media_pixels: int = Field(
        2_000_000_000, gt=0, description="pixels decoded from all of one message's photos (160 twelve-megapixel ones)")
    message_media_seconds: float = Field(
        180.0, gt=0, description="wall time reading all of one message's photos and videos")

    # seals, scans and old Word files (parsers/seal.py, parsers/ocr.py, parsers/legacy.py)
    seal_seconds_per_page: float = Field(
        2.0, gt=0, description="wall time the seal detector may take per page, on top of file_parse_seconds")
    ocr_seconds_per_page: float = Field(30.0, gt=0, description="wall time to read one scanned page with OCR")
    ocr_memory_bytes: int = Field(
        3072 * MB, gt=0, description="address space of the process reading a scan with OCR (the ONNX runtime maps a lot)")
    ocr_pages_per_process: int = Field(
        200, gt=0, description="pages a warm OCR process reads before a fresh one replaces it (parsers/ocr_worker.py)")
    convert_seconds: float = Field(60.0, gt=0, description="wall time of LibreOffice converting one .doc/.wps, killed after")

    # a message itself
    message_max_bytes: int = Field(200 * MB, gt=0, description="raw size of one e-mail we take apart")
    mime_max_parts: int = Field(2000, gt=0, description="MIME parts walked in one message")
    pdf_max_pages: int = Field(200, gt=0, description="pages of one PDF read for text")


DEFAULT_LIMITS = Limits()
