"""Fixtures shared by the test modules."""

# A real throwaway Dovecot per session, with a fresh user per test (see tests/dovecot.py).
from tests.dovecot import dovecot, dovecot_tls, make_dovecot, mailbox  # noqa: F401
