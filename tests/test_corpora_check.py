"""Every third-party e-mail, .docx and PDF in ../shared/corpora goes through the whole judge.

Each must end in a verdict (a status and its findings), never an exception; a broken file
must show as a clear finding, not disappear. The folders are read as they are, so files
added later are covered too. Run with -s to see the tally of codes.
"""

from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import pytest

import campaigns
from intake.judge import judge
from intake.report import verdict_json

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
PROFILE = campaigns.load("chongqing-bayu-2017")
STATUSES = {"accepted", "rejected", "needs_review", "ignored"}


def _files(folder: str) -> list[Path]:
    found = sorted((CORPORA / folder).glob("*"))
    assert found, f"no corpus files in {CORPORA / folder}"
    return found


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


def _tally(verdicts) -> Counter:
    counts = Counter()
    for verdict in verdicts:
        counts[verdict.status] += 1
        for f in verdict.findings:
            counts[f.code] += 1
        for nominee in verdict.nominees:
            for f in nominee.findings:
                counts[f.code] += 1
    return counts


def test_every_corpus_email_gets_a_verdict():
    verdicts = []
    for path in _files("eml"):
        verdict = judge(path.read_bytes(), PROFILE)
        assert verdict.status in STATUSES, path.name
        verdict_json(verdict, PROFILE.id, path.name)  # renders without error
        verdicts.append(verdict)
    print("\ncorpus e-mails:", dict(sorted(_tally(verdicts).items())))


@pytest.mark.parametrize("folder", ["docx", "pdf"])
def test_every_corpus_document_sent_as_an_attachment_gets_a_verdict(folder):
    verdicts = []
    for path in _files(folder):
        verdict = judge(_wrapped(path), PROFILE)
        assert verdict.status in STATUSES, path.name
        # a document is material: the mail is never silently dropped as "not a submission"
        assert verdict.status != "ignored", path.name
        verdict_json(verdict, PROFILE.id, path.name)
        verdicts.append(verdict)
    print(f"\ncorpus {folder}:", dict(sorted(_tally(verdicts).items())))
