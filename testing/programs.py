"""Programs some tests drive (Chromium, LibreOffice): found on PATH, or the test is skipped.

Under CI=true a missing program is a failed install (`./dev test` installs them), not a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require(names: tuple[str, ...], package: str) -> str:
    """The first of `names` on PATH; else skip the test, or fail it under CI."""
    found = next((path for name in names if (path := shutil.which(name))), None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{names[0]} is required under CI (./dev test installs Debian's {package})")
        pytest.skip(f"no {names[0]} (apt-get install {package})")
    return found


def chromium() -> str:
    return require(("chromium", "chromium-browser"), "chromium")


def soffice() -> str:
    return require(("soffice", "libreoffice"), "libreoffice-writer-nogui")
