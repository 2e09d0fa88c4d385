"""Judging messages on both cores while the service stores and files them in order.

The service takes each message into the ledger (bytes first), hands its judging here and
files the verdicts strictly in the order the mail arrived, so every message still goes
raw bytes → ledger row → judged → filed → moved (service/intake.py). A worker reads the
message from the blob store rather than through a pipe, so a big message is not copied
three times on its way. Workers never touch the service's database or mail connection.

Where workers come from depends on the process asking:
- one thread (`intake poll --once`, the staff commands): forked from it, in milliseconds, with
  everything imported; the first message of a poll is judged in the process itself (most
  polls bring one message or none, and they should not pay for workers);
- several threads (`intake run`: the scheduler's, IMAP IDLE, the web companion): forked from
  Python's fork server instead, a process started fresh (not forked) the first time it is
  needed, which imports the judging code once and stays single-threaded. A fork copies
  whatever locks the other threads hold at that instant, so forking the service itself
  could leave a worker waiting on one for ever (seen once in CI's kill rounds). Every
  message is then judged in a worker, so the per-document sandboxes (core/children.py) are
  forked from a worker's single thread too, never from the service.

A worker dies with the process it was forked from (PR_SET_PDEATHSIG), and the fork server
with the service (service/forkserver.py): a killed service leaves no worker behind.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime

from campaigns.schema import Profile
from core import children
from ingest.types import Message
from parsers import ocr_worker
from service import forkserver, stagetimes
from service.judge import judge, judge_message
from storage.blobs import BlobStore
from validators.evaluate import Verdict

WORKERS = min(2, os.cpu_count() or 1)

_worker_state: tuple[BlobStore, Profile] | None = None


@dataclass
class Pending:
    """One message handed over for judging; its verdict comes with `Judging.verdict`."""

    sha256: str
    received_at: datetime | None
    future: Future
    pool_generation: int


class Judging:
    def __init__(self, blobs: BlobStore, profile: Profile, workers: int = WORKERS):
        self.blobs = blobs
        self.profile = profile
        self.workers = workers
        # verdicts awaited at once, filed in arrival order: enough for the other workers to go on
        # while one reads a scanned form (about 2.2 s of OCR, against 0.2 s for most messages: some
        # 11 messages a worker). On bench/intake_speed.py at 2 a worker 4.64 msg/s, at 8 a worker
        # 4.94–5.23 with the cores 84–92% busy, at 16 a worker 5.89 with them 95–99% busy (1.66
        # cores for the service's processes, Dovecot has the rest); the service's peak 217 → 245
        # → 254–260 MB
        self.ahead = 16 * workers
        self._pool: ProcessPoolExecutor | None = None
        self._generation = 0
        self._submitted = 0

    def __enter__(self) -> "Judging":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def threaded(self) -> bool:
        """Asked each time: a Judging kept by the service outlives the moment it was made (see the module's docstring)."""
        return threading.active_count() > 1

    def submit(self, sha256: str, raw: bytes, received_at: datetime | None) -> Pending:
        self._submitted += 1
        if not self.threaded and (self._submitted == 1 or self.workers < 2):
            return Pending(sha256, received_at, self._judged_here(raw, received_at), self._generation)
        return Pending(sha256, received_at, self._running_pool().submit(_judge_stored, sha256, received_at),
                       self._generation)

    def verdict(self, pending: Pending) -> Verdict:
        """The message's verdict, or what its judging raised."""
        try:
            verdict, totals = pending.future.result()
        except BrokenProcessPool:
            if pending.pool_generation == self._generation:
                self._discard_pool()  # the first to see the crash: its message is the suspect, and fails
                raise
            # judged alongside the message that crashed the pool: judged again by the new one
            verdict, totals = self._running_pool().submit(_judge_stored, pending.sha256, pending.received_at).result()
        stagetimes.add(totals)
        return verdict

    def judge_parsed(self, message: Message) -> Verdict:
        """A message the service put together (a follow-up with the files it keeps of the nominee it
        completes) judged as a worker judges: in a worker where the service has threads, so its
        sandboxes are never forked from the service. A crashed worker fails this message (retried
        later), as it fails a stored one."""
        if not self.threaded:
            return judge_message(message, self.profile)
        future = self._running_pool().submit(_judge_parsed, message)
        try:
            verdict, totals = future.result()
        except BrokenProcessPool:
            self._discard_pool()
            raise
        stagetimes.add(totals)
        return verdict

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _judged_here(self, raw: bytes, received_at: datetime | None) -> Future:
        future: Future = Future()
        try:
            future.set_result((judge(raw, self.profile, received_at=received_at, received_at_source="imap"), {}))
        except Exception as exc:  # noqa: BLE001 - handed to the service with the verdict, as a worker's would be
            future.set_exception(exc)
        return future

    def _running_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_context(self.threaded),
                                             initializer=_start_worker,
                                             initargs=(os.getpid(), self.blobs, self.profile))
        return self._pool

    def _discard_pool(self) -> None:
        pool, self._pool = self._pool, None
        self._generation += 1
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _context(threaded: bool) -> multiprocessing.context.BaseContext:
    return forkserver.context() if threaded else multiprocessing.get_context("fork")


def _start_worker(service_pid: int, blobs: BlobStore, profile: Profile) -> None:
    global _worker_state
    _die_with(service_pid)
    _worker_state = (blobs, profile)
    ocr_worker.keep_warm(profile.limits)  # a worker judges message after message: the OCR models stay loaded
    stagetimes.taken()  # what the service had counted before the fork is the service's
    stagetimes.time_the_judge()


def _die_with(service_pid: int) -> None:
    """A killed service must not leave workers behind, holding its output pipes open (Linux).

    The worker's parent is the service, or the fork server that dies with it (service/forkserver.py).
    A worker forked just as the service was killed may find either gone already; it ends then: left
    running, it took the work queued before the kill and blocked for ever writing a verdict into the
    pipe only the dead service read (a test under load caught it)."""
    children.die_with_parent(children.FORK_SERVER_PID)  # None where the service forked it itself
    if not children.alive(service_pid):  # a killed service not yet reaped is a zombie: gone too
        os._exit(1)


def _judge_stored(sha256: str, received_at: datetime | None) -> tuple[Verdict, dict[str, float]]:
    blobs, profile = _worker_state
    verdict = judge(blobs.get(sha256), profile, received_at=received_at, received_at_source="imap")
    return verdict, stagetimes.taken()


def _judge_parsed(message: Message) -> tuple[Verdict, dict[str, float]]:
    _, profile = _worker_state
    return judge_message(message, profile), stagetimes.taken()
