"""Old Word (.doc) and WPS (.wps) forms converted to .docx by LibreOffice, then read as any .docx.

LibreOffice runs headless as its own process group, in a temporary folder that holds the
input, the output and a throwaway user profile (so that runs never share or lock a profile,
and nothing is left behind), with HOME pointed there too. It is killed, with everything it
started, when `seconds` are up. A .wps from WPS Office is Word-compatible, but LibreOffice
takes the extension .wps for MS Works: the file is always handed over as `input.doc` and
LibreOffice recognises what it really is from its bytes (RTF included).

Without LibreOffice on the machine the form goes to staff (CONTRACT §3: FORM_UNREADABLE,
`legacy_no_converter`, needs_review), and so does a file LibreOffice cannot convert or
takes too long over: WPS Office may well open what LibreOffice does not, and a sender is
never turned away because our converter failed. The explanation says which it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections import OrderedDict
from pathlib import Path

from parsers.types import DocumentUnreadable

_NAMES = ("soffice", "libreoffice")


def converter() -> str | None:
    """The LibreOffice program on this machine's PATH, if any."""
    return next((found for name in _NAMES if (found := shutil.which(name))), None)


_CONVERTED: OrderedDict[str, bytes] = OrderedDict()  # sha256 → .docx: the form is read, then looked at for the seal
_KEEP = 8


def convert_to_docx(data: bytes, seconds: float) -> bytes:
    """The .docx LibreOffice makes of a .doc/.wps/.rtf; DocumentUnreadable when it cannot."""
    key = hashlib.sha256(data).hexdigest()
    if key in _CONVERTED:
        _CONVERTED.move_to_end(key)
        return _CONVERTED[key]
    made = _convert(data, seconds)
    _CONVERTED[key] = made
    while len(_CONVERTED) > _KEEP:
        _CONVERTED.popitem(last=False)
    return made


def _convert(data: bytes, seconds: float) -> bytes:
    program = converter()
    if program is None:
        raise DocumentUnreadable(
            "legacy_no_converter",
            "old Word/WPS format and no converter installed (apt-get install libreoffice-writer-nogui)",
        )
    with tempfile.TemporaryDirectory(prefix="intake-legacy-") as folder:
        work = Path(folder)
        source = work / "input.doc"
        source.write_bytes(data)
        (work / "out").mkdir()
        command = [
            program, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--invisible",
            "--nologo", "--norestore", "--nodefault", "--nolockcheck",
            "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(work / "out"), str(source),
        ]
        environment = {**os.environ, "HOME": folder, "TMPDIR": folder}
        _run(command, environment, seconds)
        made = work / "out" / "input.docx"
        if not made.is_file() or made.stat().st_size == 0:
            raise DocumentUnreadable("legacy_no_converter", "LibreOffice could not convert it to .docx")
        return made.read_bytes()


def _run(command: list[str], environment: dict[str, str], seconds: float) -> None:
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=environment, start_new_session=True)
    try:
        process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise DocumentUnreadable("legacy_no_converter",
                                 f"LibreOffice took longer than {seconds:g} s and was stopped") from None
    finally:
        _kill_group(process)  # soffice.bin and its helpers, should any outlive the launcher


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
