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


def pytest_collection_modifyitems(items):
    for item in items:
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)
