"""The web console's list and search on a campaign of 10,000 nominees: server time per page (SQLite).

    .venv/bin/python -m bench.web_speed [--nominees 10000] [--rounds 20]

Fills a fresh SQLite database straight through the tables (testing/console.py: names, units,
ID numbers, statuses, a fifth with a finding), then asks the console for the first page of
全部推荐, a few searches and a filter, logged in, in-process; prints the median and the worst of
the server's own time (its Server-Timing header) for each. Goal: under 200 ms each. Then the
roster downloaded as .xlsx, whole and filtered, once each (wall time in the process).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from service.runtime import open_runtime
from testing import console
from web import accounts
from web.app import create_app

PASSWORD = "benchmark password"


def server_ms(response) -> float:
    return float(re.search(r"dur=([\d.]+)", response.headers["server-timing"])[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominees", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="web-speed-") as scratch:
        runtime = open_runtime(console.write_config(Path(scratch)))
        started = time.perf_counter()
        console.fill(runtime.engine, options.nominees)
        print(f"filled {options.nominees:,} nominees in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        accounts.add_user(runtime.engine, "bench", "clerk", PASSWORD, actor="bench")
        client = console.logged_in(TestClient(create_app(runtime), base_url="http://127.0.0.1"), "bench", PASSWORD)
        tail = console.id_number(sequence="417")[-4:]
        asks = {
            "list, first page (newest first)": {},
            "list, page 100": {"page": "100"},
            "search by name (王)": {"q": "王"},
            f"search by ID tail ({tail})": {"q": tail},
            "search by unit, sorted by name": {"q": "渝中区", "sort": "name", "dir": "asc"},
            "filter: needs review with a finding code": {"status": "needs_review", "code": "PHOTO_COUNT"},
        }
        print(f"{'page':46} {'median ms':>10} {'worst ms':>9} {'rows':>7}")
        for label, params in asks.items():
            times, total = [], ""
            for _ in range(options.rounds):
                response = client.get("/nominees", params=params)
                assert response.status_code == 200, response.text[-500:]
                times.append(server_ms(response))
                total = re.search(r"共 (\d+) 人", response.text)[1]
            print(f"{label:46} {statistics.median(times):10.1f} {max(times):9.1f} {total:>7}")
        _downloads(client, options.nominees)
        runtime.engine.dispose()


def _downloads(client, nominees: int) -> None:
    """The roster as .xlsx, whole and filtered (ID and phone in full, audited): seconds, not a page's ms."""
    for label, params in (("roster .xlsx, every nominee", {}), ("roster .xlsx, needs review", {"status": "needs_review"})):
        started = time.perf_counter()
        response = client.get("/nominees/roster.xlsx", params=params)
        assert response.status_code == 200, response.text[-500:]
        print(f"{label:46} {1000 * (time.perf_counter() - started):10.1f} {'':9} {len(response.content) // 1024:>5} KB")


if __name__ == "__main__":
    main()
