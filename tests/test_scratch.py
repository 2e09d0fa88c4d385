"""Nominee material never outside the data folder: the pieces the parsers write to read a file (a video
for ffprobe, a .doc for LibreOffice) go under `<data_path>/tmp/`, a SIGKILL leaves nothing in the
system's temporary folder, and the next start sweeps what the killed process left.

The real `intake run` is killed while the piece exists: ffprobe and soffice are stand-ins on PATH
that only wait, so the piece is there for as long as the test needs (the parsers' own code writes
it, as with the real programs). TMPDIR points at a folder of the test's own, standing for /tmp."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.builders import forms, media
from testing.builders.submission import nomination_mail, photo_jpeg
from testing.faults import Service, brisk_config
from testing.service import ARRIVED, intake, person


def _waiting_programs(folder: Path) -> Path:
    folder.mkdir()
    for name in ("ffprobe", "soffice"):
        program = folder / name
        program.write_text("#!/bin/sh\nexec sleep 120\n")
        program.chmod(0o755)
    return folder


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def _killed_while_reading(tmp_path, mailbox, smtp_server, monkeypatch, raw: bytes, piece: str) -> tuple[Path, Path]:
    mailbox.append(raw, internaldate=ARRIVED)
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(system_tmp))
    monkeypatch.setenv("PATH", f"{_waiting_programs(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    config = brisk_config(tmp_path, mailbox, smtp_server)
    service = Service(config, tmp_path / "service.err")
    scratch = tmp_path / "data" / "tmp"
    process = service.start()
    try:
        service.wait_for(lambda: scratch.is_dir() and any(scratch.rglob(piece)), f"{piece} to be written")
    finally:
        Service.crash(process)  # SIGKILL to the service and its children
    assert _files(system_tmp) == []  # nothing of the nominee's outside the data folder
    return config, scratch


def test_a_video_piece_stays_in_the_data_folder_and_is_swept_after_a_kill(tmp_path, mailbox, smtp_server,
                                                                          monkeypatch):
    files = [("推荐表.docx", forms.bayu_form_docx(person(0))), ("事迹材料.docx", forms.writeup_docx(900)),
             ("事迹视频.mp4", media.video_variant("fragmented", 6))]  # its duration is not in its boxes: ffprobe reads it
    raw = nomination_mail(files, message_id="<video@unit.example.cn>", sender="单位 <unit@example.cn>")
    config, scratch = _killed_while_reading(tmp_path, mailbox, smtp_server, monkeypatch, raw, "intake-video-*.bin")
    left = [p for p in _files(scratch) if p.name.startswith("intake-video-")]
    assert len(left) == 1 and left[0].stat().st_size > 0  # the killed process removed nothing itself
    assert scratch.stat().st_mode & 0o777 == 0o700
    monkeypatch.undo()
    intake(config, "status")  # the next start of anything sweeps what a dead process left
    assert [p for p in _files(scratch) if p.name.startswith("intake-")] == []


def test_a_legacy_form_being_converted_stays_in_the_data_folder(tmp_path, mailbox, smtp_server, monkeypatch):
    legacy = bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 4088  # an OLE compound file's header: an old .doc
    files = [("推荐表.doc", legacy), *((f"照片{i}.jpg", photo_jpeg(i, size=(96, 72))) for i in range(4))]
    raw = nomination_mail(files, message_id="<doc@unit.example.cn>", sender="单位 <unit@example.cn>")
    config, scratch = _killed_while_reading(tmp_path, mailbox, smtp_server, monkeypatch, raw, "input.doc")
    assert any(p.name == "input.doc" for p in _files(scratch))
    monkeypatch.undo()
    intake(config, "status")
    assert not any(p.name == "input.doc" for p in _files(scratch))


@pytest.mark.parametrize("alive", [True, False])
def test_the_sweep_leaves_a_living_process_its_folder(tmp_path, alive):
    import subprocess
    import sys

    from service.scratch import sweep

    data = tmp_path / "data"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from service.scratch import use_private_tmp; "
        f"f = use_private_tmp(Path({str(data)!r})); (f / 'piece.bin').write_bytes(b'x'); print(f, flush=True); "
        "time.sleep(60)")], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    folder = Path(holder.stdout.readline().strip())
    if not alive:
        holder.kill()
        holder.wait()
    try:
        sweep(data / "tmp")
        assert (folder / "piece.bin").exists() is alive
    finally:
        holder.kill()
        holder.wait()
