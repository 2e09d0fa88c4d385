"""Programs some tests drive (Chromium, LibreOffice): found on PATH, or the test is skipped.

Under `./dev test` (which installs them all, apt packages included, and says so with
INTAKE_TESTS_INSTALLED=1) or CI=true, a missing program or package is a failed install, not a
skip: a fresh machine must not turn a missing install step into a quiet green run.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require(names: tuple[str, ...], package: str) -> str:
    """The first of `names` on PATH; else skip the test, or fail it under CI."""
    found = next((path for name in names if (path := shutil.which(name))), None)
    if found is None:
        missing(f"no {names[0]} (./dev test installs Debian's {package})")
    return found


def everything_installed() -> bool:
    """Whether this run was started by what installs everything the tests need."""
    return os.environ.get("CI") == "true" or os.environ.get("INTAKE_TESTS_INSTALLED") == "1"


def missing(reason: str, allow_module_level: bool = False):
    """A component the tests need is not here: skipped where a developer runs a subset by hand,
    failed where everything should have been installed."""
    if everything_installed():
        pytest.fail(f"required by the full test run: {reason}")
    pytest.skip(reason, allow_module_level=allow_module_level)


def chromium() -> str:
    return require(("chromium", "chromium-browser"), "chromium")


def soffice() -> str:
    return require(("soffice", "libreoffice"), "libreoffice-writer-nogui")
