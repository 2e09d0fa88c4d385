"""Fixtures every test module may ask for by name, and the two tiers of the suite.

Real servers come from the testing package: a throwaway Dovecot per session with a fresh
user per test, an SMTP server (aiosmtpd), PostgreSQL where it is installed.

Tiers: a test is `live` when it needs a real server or program (it asks for one of the server
fixtures below, or its module says so: LibreOffice, OCR engines, Chromium, the service run as a
process), and `slow` when it runs many inputs or rounds (hostile input, corpora, fault runs).
`./dev test -m "not live and not slow"` runs the rest in well under a minute.
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
    "test_ocr_scan": "live",  # RapidOCR and Tesseract
    # `intake` run as a process against Dovecot, aiosmtpd, PostgreSQL; systemd-analyze
    "test_service_run": "live", "test_doctor": "live", "test_backup": "live", "test_installation": "live",
    "test_scratch": "live", "test_deploy": "live", "test_failover": "live",
    "test_faults": "slow", "test_hostile_mime": "slow", "test_hostile_archives": "slow",
    "test_corpora_check": "slow", "test_parsers_corpus": "slow", "test_media_corpus": "slow",
    "test_ingest_corpus": "slow",
}
# single tests, by a part of their id
TEST_TIERS = {
    "[postgresql]": "live",  # PostgreSQL, asked for by parameter
    "test_children.py::test_time_limit_kills_the_child_quickly[fresh]": "slow",
    "test_storage_filing.py::test_processes_starting_together_do_not_race_the_migration": "slow",
}


def pytest_collection_modifyitems(items):
    for item in items:
        tiers = {MODULE_TIERS.get(item.module.__name__.rsplit(".", 1)[-1])}
        tiers |= {tier for part, tier in TEST_TIERS.items() if part in item.nodeid}
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            tiers.add("live")
        for tier in tiers - {None}:
            item.add_marker(getattr(pytest.mark, tier))
