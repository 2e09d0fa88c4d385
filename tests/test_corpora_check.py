"""Every third-party file in ../shared/corpora goes through the whole judge, under the hostile-input guard.

Each must end in a verdict (a status and its findings), never an exception, a hang, an
error of ours hidden behind a verdict, or a file written outside the temporary folder
(tests/hostile.py says how each is caught). A broken file must show as a clear finding,
not disappear. E-mails are judged as they are; documents and images as the only
attachment of a plain nomination mail. The folders are read as they are, so files added
later are covered too. Run with -s to see the tally of codes and outcomes per folder.
"""

from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import pytest

from testing.hostile import PROFILE, Guard, Hung, Tally, Trouble

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
FOLDERS = ["eml", "docx", "pdf", "images"]
TALLY = Tally()
TIMEOUTS: Counter = Counter()  # readers stopped by their time limit: the limit working, counted


@pytest.fixture(scope="module", autouse=True)
def _print_tally():
    yield
    print("\n" + "\n".join(TALLY.lines("corpora")))
    print(f"readers stopped at their time limit: {dict(TIMEOUTS) or 'none'}")


def _files(folder: str) -> list[Path]:
    found = sorted(p for p in (CORPORA / folder).glob("*") if p.is_file())
    assert found, f"no corpus files in {CORPORA / folder}"
    return found


def test_every_file_of_the_manifest_is_in_a_folder_judged_here():
    listed = [line.split("\t")[0] for line in (CORPORA / "MANIFEST.tsv").read_text("utf-8").splitlines()[1:] if line.strip()]
    assert listed
    judged = {f"{folder}/{path.name}" for folder in FOLDERS for path in _files(folder)}
    assert set(listed) <= judged, sorted(set(listed) - judged)[:10]


def _wrapped(path: Path) -> bytes:
    """A plain nomination mail carrying the corpus file as its only attachment."""
    message = EmailMessage()
    message["From"] = "unit@example.cn"
    message["To"] = PROFILE.mailbox
    message["Subject"] = "推荐材料"
    message["Date"] = "Mon, 10 Apr 2017 10:00:00 +0800"
    message.set_content("请查收推荐材料。")
    message.add_attachment(path.read_bytes(), maintype="application", subtype="octet-stream", filename=path.name)
    return message.as_bytes()


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_corpus_file_gets_a_clean_verdict(folder, tmp_path, monkeypatch):
    guard = Guard(tmp_path, monkeypatch, TALLY, timeouts=TIMEOUTS)
    failures = []
    for path in _files(folder):
        raw = path.read_bytes() if folder == "eml" else _wrapped(path)
        try:
            verdict = guard.judge(raw, f"corpus {folder}")
        except (Exception, Hung) as exc:  # noqa: BLE001 - every file is tried; all failures are listed at the end
            failures.append(f"{path.name}: {type(exc).__name__}: {exc}"[:2000])
            if not isinstance(exc, (Trouble, Hung, AssertionError)):
                import traceback

                traceback.print_exc()
            continue
        if folder != "eml":
            # a document is material: the mail is never silently dropped as "not a submission"
            assert verdict.status != "ignored", path.name
    assert not failures, "\n".join(failures)
