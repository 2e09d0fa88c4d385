"""The test run's own promise: under `./dev test`, which installs everything, nothing needed is skipped."""

import subprocess
from pathlib import Path

import pytest

from testing.programs import missing

ROOT = Path(__file__).resolve().parent.parent


def test_a_missing_component_fails_the_full_run_and_is_skipped_by_hand(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("INTAKE_TESTS_INSTALLED", "1")
    with pytest.raises(pytest.fail.Exception, match="pg_dump"):
        missing("pg_dump is not installed")
    monkeypatch.delenv("INTAKE_TESTS_INSTALLED")
    with pytest.raises(pytest.skip.Exception):
        missing("pg_dump is not installed")


def test_dev_test_says_everything_is_installed():
    """`./dev test` installs what the tests need before it runs them, and tells them so."""
    script = (ROOT / "dev").read_text(encoding="utf-8")
    test_branch = script[script.index("  test)"):script.index(";;", script.index("  test)"))]
    assert "apt_install" in test_branch and "INTAKE_TESTS_INSTALLED=1" in test_branch
    assert subprocess.run(["bash", "-n", str(ROOT / "dev")]).returncode == 0
