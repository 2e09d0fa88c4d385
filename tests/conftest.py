"""Fixtures every test module may ask for by name, and the two tiers of the suite.

Real servers come from the testing package: a throwaway Dovecot per session with a fresh
user per test, an SMTP server (aiosmtpd), PostgreSQL where it is installed.

Tiers: a test is `live` when it needs a real server or program (it asks for one of the server
fixtures below, or its module says so: LibreOffice, OCR engines, Chromium, the service run as a
process), and `slow` when it runs many inputs or rounds (hostile input, corpora, fault runs).
`./dev test -m "not live and not slow"` runs the rest (the time is in the README).
"""

import pytest

pytest_plugins = ["testing.dovecot", "testing.smtp_server", "testing.postgres"]

LIVE_FIXTURES = frozenset({"dovecot", "dovecot_tls", "make_dovecot", "mailbox", "smtp_server", "starttls_server",
                           "implicit_tls_server", "auth_server", "test_ca", "postgres_url"})
# whole modules, by what they need or how long they run; one place, so the tiers are seen at a glance
MODULE_TIERS = {
    "test_sources_imap": "live",  # Dovecot, asked for by parameter
    "test_service": "live", "test_staff_review": "live", "test_staff_campaign": "live", "test_forward": "live",
    "test_replies_smtp": "live",  # aiosmtpd and raw sockets
    "test_legacy_convert": "live", "test_staff_template": "live",  # LibreOffice
    "test_ocr_scan": "live", "test_ocr_warm": "live", "test_seal_pipeline": "live",  # RapidOCR and Tesseract
    "test_web_browser": "live",  # Chromium, `intake web` and `intake poll` as processes
    # `intake` run as a process against Dovecot, aiosmtpd, PostgreSQL; systemd-analyze
    "test_service_run": "live", "test_doctor": "live", "test_backup": "live", "test_installation": "live",
    "test_scratch": "live", "test_deploy": "live", "test_failover": "live",
    "test_faults": "slow", "test_hostile_mime": "slow", "test_hostile_archives": "slow",
    "test_corpora_check": "slow", "test_parsers_corpus": "slow", "test_media_corpus": "slow",
    "test_ingest_corpus": "slow",
    # the seal detector over every case of its generated sets: a page or picture per case
    "test_seal_detector": "slow", "test_seal_pictures": "slow",
}
# single tests, by a part of their id
TEST_TIERS = {
    "[postgresql]": "live",  # PostgreSQL, asked for by parameter
    "test_children.py::test_time_limit_kills_the_child_quickly[fresh]": "slow",
    "test_storage_filing.py::test_processes_starting_together_do_not_race_the_migration": "slow",
    # scans read by OCR (RapidOCR, Tesseract): seconds each
    "test_forms_settled.py::test_a_districts_unnamed_stamped_scans_go_to_the_people_they_name": "live",
    "test_forms_settled.py::test_the_stamped_scan_of_the_form_beside_the_docx_still_carries_the_seal": "live",
    "test_seal_rule.py::test_a_blue_stamp_on_the_form_goes_to_staff_not_through": "live",
    "test_seal_rule.py::test_an_editable_docx_beside_a_stamped_scan_is_one_nominee_with_the_seal_on_the_scan": "live",
    "test_seal_rule.py::test_a_doubtful_seal_never_passes_even_where_the_band_is_low": "live",
    "test_seal_rule.py::test_a_grey_photocopy_seal_goes_to_staff_with_the_reason": "live",
    "test_forms_settled.py::test_a_stamped_cover_letter_or_envelope_beside_an_unstamped_form_is_seal_missing": "live",
    # every layout of the form corpus, every real development picture
    "test_forms_corpus.py": "slow",
}


def pytest_ignore_collect(collection_path, config):
    """A module whose whole tier the run leaves out is not even imported: its builders make
    files at import time, seconds the fast tier need not spend."""
    tier = MODULE_TIERS.get(collection_path.stem)
    expression = config.option.markexpr
    if tier is None or not expression:
        return None
    from _pytest.mark.expression import Expression

    return True if not Expression.compile(expression).evaluate(lambda name: name == tier) else None


def pytest_collection_modifyitems(items):
    for item in items:
        tiers = {MODULE_TIERS.get(item.module.__name__.rsplit(".", 1)[-1])}
        tiers |= {tier for part, tier in TEST_TIERS.items() if part in item.nodeid}
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            tiers.add("live")
        for tier in tiers - {None}:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _temporary_folder_as_it_was():
    """A command run in process (click's CliRunner) points TMPDIR and `tempfile` at its data folder's
    scratch (service/scratch.py): put them back, or every later test's Dovecot, Chromium and
    sockets would live under a path too long for a Unix socket (found by a shuffled run)."""
    import os
    import tempfile

    names = ("TMPDIR", "TEMP", "TMP")
    saved = {name: os.environ.get(name) for name in names}
    saved_tempdir = tempfile.tempdir
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    tempfile.tempdir = saved_tempdir
