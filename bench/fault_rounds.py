"""Crash safety at size: the real service killed again and again while it takes a full mailbox.

    .venv/bin/python -m bench.fault_rounds [--messages 200] [--rounds 20] [--seed 2017]

Starts a throwaway Dovecot (tests/dovecot.py: root and Debian's dovecot-imapd, as for the
tests) and an aiosmtpd, appends N nominations (every tenth late, so rejected; some senders'
addresses refused with 550), then runs tests/faults.py's rounds: `intake run` SIGKILLed at a
random moment or at a named failpoint in each round, Dovecot stopped and started under it once,
the SMTP server answering 421 and 451 once each; a last run is left to finish. Prints a table
of the rounds and of the checks; exits 1 when a check fails. The CI size is tests/test_faults.py.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from testing.dovecot import Dovecot, require_dovecot
from testing.faults import fault_rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2017)
    options = parser.parse_args()
    require_dovecot()
    server = Dovecot()
    server.start()
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="fault-rounds-") as folder:
            outcome = fault_rounds(server, Path(folder), messages=options.messages, rounds=options.rounds,
                                   seed=options.seed)
    finally:
        server.cleanup()
    print(outcome.table())
    print(f"\nwall time {time.monotonic() - started:.0f} s")
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
