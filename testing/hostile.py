"""The guard every hostile input is judged under (tests/test_hostile_*.py, tests/test_corpora_check.py).

`Guard.judge(raw)` runs the function behind `intake check` in-process and turns each way a
hostile input can hurt the service into a test failure:

* it raises: the exception goes on as it is;
* it hangs: SIGALRM after `seconds` raises `Hung` (the sandbox's own limits should have
  struck long before: a hang here is one outside any sandbox);
* it hides one of our own errors behind a verdict: the catch-alls that turn an exception
  into an ordinary outcome are watched (see `_InternalErrors`), and anything logged at
  ERROR or with a traceback counts too;
* it writes outside the temporary folder: an audit hook sees every write-mode open,
  mkdir, rename, remove … of this process AND of its forked children (which report
  through an inherited file descriptor, since their memory dies with them); the fresh
  working folder must stay empty and the fresh TMPDIR must be empty again afterwards.

Snapshots of the project folder and /tmp are not used: other sessions edit the project and
write to /tmp while the tests run, so a tree diff there would fail for reasons not ours.
The audit hook covers Python code (ours and the libraries'); a subprocess (bsdtar, ffprobe,
LibreOffice) is checked to inherit the fresh TMPDIR and to run in the watched folders.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import re
import signal
import sys
import tempfile
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import campaigns
import ingest.archives
from core import children
from service.judge import judge
from service.verdict_json import verdict_json

PROFILE = campaigns.load("chongqing-bayu-2017")
STATUSES = {"accepted", "rejected", "needs_review", "ignored"}
INGEST_DIR = os.path.dirname(os.path.abspath(ingest.archives.__file__))
# the generous wall time of one message: a few sandboxed files, each under file_parse_seconds
DEFAULT_SECONDS = int(PROFILE.limits.file_parse_seconds * 2 + 10)

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
# events that change the file system: (index of a path, index of its dir_fd or None), as audited
_PATH_EVENTS = {
    "os.mkdir": ((0, 2),), "os.rename": ((0, 2), (1, 3)), "os.replace": ((0, 2), (1, 3)), "os.remove": ((0, 1),),
    "os.rmdir": ((0, 1),), "os.symlink": ((1, 2),), "os.link": ((0, 2), (1, 3)), "os.truncate": ((0, None),),
    "os.chmod": ((0, 2),), "os.chown": ((0, 3),), "os.utime": ((0, 3),), "os.mkfifo": ((0, 2),), "os.mknod": ((0, 3),),
    "shutil.copyfile": ((1, None),), "shutil.rmtree": ((0, None),), "shutil.move": ((1, None),),
}
# pieces of text that only ever come out of a catch-all around our own bug
HIDDEN_DEFECTS = (
    re.compile(r"could not be taken apart \(\w+\)"),  # ingest.mime.parse_message's last resort
    re.compile(r"^archive .*: \w+$"),  # ingest.archives._expand_one: the child raised
)


class Hung(BaseException):
    """The judging of one input ran past the guard's alarm. Not an Exception, so that no
    catch-all of the pipeline turns it into a verdict."""


class Trouble(AssertionError):
    """A stray write or a hidden internal error, with what was seen."""


class _Audit:
    """One audit hook for the whole test process (hooks cannot be removed), armed only while a
    guarded judge runs. Forked children inherit it, and write what they see to `report_fd`."""

    def __init__(self):
        self.armed = False
        self.owner = os.getpid()
        self.allowed: tuple[str, ...] = ()
        self.report_fd = -1
        self.seen: list[str] = []
        self.installed = False

    def install(self) -> None:
        if not self.installed:
            sys.addaudithook(self._hook)
            self.installed = True

    def _hook(self, event: str, args: tuple) -> None:
        if not self.armed:
            return
        try:
            problem = self._problem(event, args)
        except Exception as exc:  # noqa: BLE001 - the hook must never break what it watches
            problem = f"audit hook failed on {event}: {exc!r}"
        if problem:
            self._say(problem)

    def _say(self, problem: str) -> None:
        if os.getpid() == self.owner:
            self.seen.append(problem)
        else:  # a forked child: its memory is gone when it exits; an inherited fd is not audited
            try:
                line = f"[child {os.getpid()}] {problem}".replace("\n", " ") + "\n"
                os.write(self.report_fd, line.encode("utf-8", "replace"))
            except OSError:
                pass

    def _problem(self, event: str, args: tuple) -> str | None:
        if event == "open":
            path, _mode, flags = args
            if isinstance(path, int) or not isinstance(flags, int) or not flags & _WRITE_FLAGS:
                return None
            return self._outside(event, path)
        if event in _PATH_EVENTS:
            for index, dir_index in _PATH_EVENTS[event]:
                if index < len(args) and args[index] is not None and not isinstance(args[index], int):
                    path = os.fsdecode(args[index])
                    dir_fd = args[dir_index] if dir_index is not None and dir_index < len(args) else None
                    if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(path):
                        # shutil.rmtree and friends name entries relative to an open folder
                        path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
                    found = self._outside(event, path)
                    if found:
                        return found
            return None
        if event == "subprocess.Popen":
            _executable, argv, cwd, env = args
            if env is not None and not self._inside(str(env.get("TMPDIR", ""))):
                return f"subprocess {argv!r} runs with TMPDIR={env.get('TMPDIR')!r}"
            if cwd is not None and not self._inside(os.fspath(cwd)):
                return f"subprocess {argv!r} runs in {cwd!r}"
        return None

    def _inside(self, path: str) -> bool:
        if not path:
            return False
        full = os.path.abspath(path)
        return any(full == root or full.startswith(root + os.sep) for root in self.allowed)

    def _outside(self, event: str, path) -> str | None:
        full = os.path.abspath(os.fsdecode(path))
        if self._inside(full) or full == os.devnull:
            return None
        # the import system caching bytecode of a module imported late is not the product writing
        if os.path.basename(os.path.dirname(full)) == "__pycache__":
            return None
        return f"{event} {full}"


AUDIT = _Audit()
_ALLOWED_ENV, _REPORT_ENV = "HOSTILE_AUDIT_ALLOWED", "HOSTILE_AUDIT_REPORT"


_CHILD = children._child  # the runner's own child, before the guard puts `spawned_child` in its place


def spawned_child(sender, work, memory_bytes, scratch, inherits_maps, caller=None) -> None:
    """core.children's child, audited when it is a fresh interpreter or comes from the fork server:
    those inherit no hook, only the environment, so the guard's folders travel there (the spawn
    pickles this by name). A child forked from the caller has the hook already."""
    if scratch is None:
        _CHILD(sender, work, memory_bytes, scratch, inherits_maps, caller)
        return
    AUDIT.allowed = tuple(os.environ[_ALLOWED_ENV].split(os.pathsep))
    AUDIT.report_fd = os.open(os.environ[_REPORT_ENV], os.O_WRONLY | os.O_APPEND)
    AUDIT.owner = -1  # everything seen here goes to the report
    AUDIT.install()
    AUDIT.armed = True
    _CHILD(sender, work, memory_bytes, scratch, inherits_maps, caller)


class _InternalErrors:
    """Spies on the catch-alls that would turn one of our own exceptions into an outcome.

    * ingest.archives._Unpacker.expand calls `_reason(exc)` for whatever a reader raised,
      library complaint or bug of ours alike: an exception whose innermost frame is in
      ingest/ is ours. It runs in the forked child, so it reports like the audit hook.
    * children.run raises ChildCrashed with the child's traceback text when the child's
      exception would not pickle: a Python error dressed up as a crash, which
      ingest.archives and parsers report as a corrupt file.
    * LimitExceeded("timeout") on inputs this small is a hang inside a sandbox. On the
      corpora's real files it is the limit doing its work (a PDF that takes pdfminer longer
      than file_parse_seconds on a loaded machine): there it is counted, not failed.
    """

    def __init__(self, timeouts: Counter | None = None):
        self.original_reason = ingest.archives._reason
        self.timeouts = timeouts  # None: a timeout is a failure

    def reason(self, exc: Exception) -> str:
        frame = exc.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        if frame is not None and os.path.dirname(os.path.abspath(frame.tb_frame.f_code.co_filename)) == INGEST_DIR:
            AUDIT._say("internal error swallowed as an unreadable archive: "
                       + "".join(traceback.format_exception(exc)).replace("\n", " | "))
        return self.original_reason(exc)

    def _watched(self, original):
        def run(func, *args, fresh: bool = False, **kwargs):
            try:
                return original(func, *args, fresh=fresh, **kwargs)
            except Exception as failure:
                self._look_at(getattr(func, "__name__", str(func)), failure, fresh)
                raise
        return run

    def _watched_each(self, original):
        def run_each(func, work, **kwargs):
            outcomes = original(func, work, **kwargs)
            for outcome in outcomes:
                if outcome.error is not None:
                    self._look_at(getattr(func, "__name__", str(func)), outcome.error, False)
            return outcomes
        return run_each

    def _look_at(self, name: str, failure: Exception, fresh: bool) -> None:
        if isinstance(failure, children.ChildCrashed):
            if "Traceback" in str(failure) or fresh:
                AUDIT._say(f"internal error in a child reported as a crash: {failure}")
        elif isinstance(failure, children.LimitExceeded):
            if failure.kind == "timeout" and self.timeouts is not None:
                self.timeouts[name] += 1
            elif failure.kind == "timeout":
                AUDIT._say(f"{name} hit the sandbox's time limit ({failure.limit} s)")
        elif fresh:  # the callers (parsers/ocr.py) take any failure for an unreadable scan
            AUDIT._say(f"{name} failed in a fresh child: {failure}")

    def patch(self, monkeypatch) -> None:
        monkeypatch.setattr(children, "_child", spawned_child)
        monkeypatch.setattr(children, "run", self._watched(children.run))
        monkeypatch.setattr(children, "run_each", self._watched_each(children.run_each))
        monkeypatch.setattr(ingest.archives, "_reason", self.reason)


class _ErrorLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(f"log {record.name} {record.levelname}: {record.getMessage()}")


def hostile_settings(name: str):
    """Hypothesis settings of a hostile-input module: a fixed, derandomized set under CI=true,
    HOSTILE_EXAMPLES=N examples per test when asked."""
    from hypothesis import HealthCheck, settings

    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    settings.register_profile(
        name,
        max_examples=int(os.environ.get("HOSTILE_EXAMPLES", "40")),
        deadline=None,  # sandboxed children make timings noisy; the guard's alarm catches hangs
        derandomize=in_ci,
        database=None if in_ci else settings.default.database,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.function_scoped_fixture, HealthCheck.large_base_example],
    )
    return settings.get_profile(name)


def _alarm(signum, frame):
    raise Hung("judging one input ran past the guard's alarm")


@dataclass
class Tally:
    """How many inputs each strategy made, and how they ended."""

    inputs: Counter = field(default_factory=Counter)
    outcomes: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, strategy: str, verdict) -> None:
        self.inputs[strategy] += 1
        counts = self.outcomes[strategy]
        counts[f"status:{verdict.status}"] += 1
        for item in verdict.findings:
            counts[item.code] += 1
        for nominee in verdict.nominees:
            for item in nominee.findings:
                counts[item.code] += 1

    def lines(self, title: str) -> list[str]:
        out = [f"{title}: {sum(self.inputs.values())} inputs"]
        for strategy in sorted(self.inputs):
            codes = ", ".join(f"{code} {n}" for code, n in sorted(self.outcomes[strategy].items()))
            out.append(f"  {strategy:28} {self.inputs[strategy]:5}  {codes}")
        total = Counter()
        for counts in self.outcomes.values():
            total.update(counts)
        out.append(f"  {'(all)':28} {sum(self.inputs.values()):5}  " + ", ".join(f"{c} {n}" for c, n in sorted(total.items())))
        return out


class Guard:
    """Judges inputs in-process under the checks above. Made by the `guard` fixture."""

    def __init__(self, root: Path, monkeypatch, tally: Tally, seconds: int = DEFAULT_SECONDS,
                 timeouts: Counter | None = None):
        self.tmp = root / "tmp"
        self.cwd = root / "cwd"
        self.reports = root / "reports"
        for folder in (self.tmp, self.cwd, self.reports):
            folder.mkdir()
        self.monkeypatch = monkeypatch
        self.tally = tally
        self.seconds = seconds
        self.profile = PROFILE
        monkeypatch.setenv("TMPDIR", str(self.tmp))
        monkeypatch.setenv(_ALLOWED_ENV, os.pathsep.join((os.path.realpath(self.tmp), str(self.tmp))))
        monkeypatch.setenv(_REPORT_ENV, str(self.reports / "children.log"))
        monkeypatch.setattr(tempfile, "tempdir", str(self.tmp))  # gettempdir() caches the first answer
        _InternalErrors(timeouts).patch(monkeypatch)
        AUDIT.install()

    def judge(self, raw: bytes, strategy: str, profile=None):
        """The verdict for `raw`, or a failure saying what went wrong."""
        profile = profile or self.profile
        report = self.reports / "children.log"
        report.write_bytes(b"")
        fd = os.open(report, os.O_WRONLY | os.O_APPEND)
        log = _ErrorLog()
        root_logger = logging.getLogger()
        root_logger.addHandler(log)
        previous_cwd = os.getcwd()
        previous_handler = signal.signal(signal.SIGALRM, _alarm)
        AUDIT.seen, AUDIT.report_fd, AUDIT.owner = [], fd, os.getpid()
        AUDIT.allowed = (os.path.realpath(self.tmp), str(self.tmp))
        os.chdir(self.cwd)
        faulthandler.dump_traceback_later(self.seconds + 5, exit=False)  # where it hung, should the alarm not get through
        signal.alarm(self.seconds)
        try:
            AUDIT.armed = True
            verdict = judge(raw, profile, received_at=None, received_at_source="option")
            rendered = verdict_json(verdict, profile.id, "hostile.eml")
        finally:
            AUDIT.armed = False
            signal.alarm(0)
            faulthandler.cancel_dump_traceback_later()
            signal.signal(signal.SIGALRM, previous_handler)
            os.chdir(previous_cwd)
            root_logger.removeHandler(log)
            os.close(fd)
        problems = list(AUDIT.seen) + report.read_text("utf-8", "replace").splitlines() + log.records
        problems += [f"hidden internal error: {d}" for d in verdict.message.defects if any(p.search(d) for p in HIDDEN_DEFECTS)]
        problems += [f"stray file in the working folder: {p}" for p in self.cwd.rglob("*")]
        left = [p for p in self.tmp.rglob("*")]
        problems += [f"left behind in TMPDIR: {p}" for p in left]
        for path in list(self.cwd.iterdir()) + list(self.tmp.iterdir()):  # so one failure does not cascade
            _remove(path)
        if problems:
            raise Trouble(f"{strategy}: " + "\n".join(problems[:20]))
        assert verdict.status in STATUSES
        assert rendered["status"] == verdict.status
        self.tally.add(strategy, verdict)
        return verdict


def write_for_self_test(path: str) -> None:
    """Importable by a spawned child: the self-tests' stray write."""
    with open(path, "w") as handle:
        handle.write("x")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            _remove(child)
        path.rmdir()
    else:
        path.unlink()
