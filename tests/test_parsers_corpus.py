"""Every third-party .docx and .pdf fixture ends in a document or a reason, never an exception.

The expectations come from MANIFEST.tsv: a file noted `encrypted:` that its probe could not
open with the empty password must be "encrypted"; one that opened must be read; a `malformed:`
docx must be "corrupt"; a zero-byte file "empty"; every other file must be read.
"""

import collections
import csv
from pathlib import Path

from campaigns.limits import Limits
from ingest.sniff import sniff
from parsers import parse_document
from parsers.types import UNREADABLE_REASONS, FileData

CORPORA = Path("/work/shared/corpora")
KINDS = {"form", "writeup", "photo_document", "summary", "other"}


def manifest() -> dict[str, str]:
    with open(CORPORA / "MANIFEST.tsv", encoding="utf-8", newline="") as rows:
        return {row["path"]: row["note"] for row in csv.DictReader(rows, delimiter="\t")}


def expected_outcome(path: str, note: str, size: int) -> str | None:
    """None when the file must be read, else the reason it must be unreadable for; "any" if either."""
    if size == 0:
        return "empty"
    if note.startswith("encrypted:"):
        opens_without_password = "empty-pw-decrypt=0" not in note and path.endswith(".pdf")
        return None if opens_without_password else "encrypted"
    if note.startswith("malformed:"):
        return "corrupt" if path.endswith(".docx") else "any"
    return None


FILES = sorted(
    path
    for folder in ("docx", "pdf")
    for path in (CORPORA / folder).iterdir()
    if path.suffix in (".docx", ".pdf")
)


def test_the_corpus_is_there():
    assert len(FILES) >= 100


def test_every_corpus_document(capsys):
    notes = manifest()
    tally: collections.Counter = collections.Counter()
    wrong = []
    for path in FILES:
        data = path.read_bytes()
        relative = f"{path.parent.name}/{path.name}"
        attachment = FileData(path.name, data, sniff(data, path.name))
        parsed = parse_document(attachment, ("巴渝工匠", "推荐表"), Limits())
        assert parsed.kind in KINDS and 0.0 <= parsed.form_score <= 1.0
        outcome = parsed.unreadable.reason if parsed.unreadable else None
        assert outcome is None or outcome in UNREADABLE_REASONS
        assert (parsed.content is None) == (outcome is not None)
        expected = expected_outcome(relative, notes.get(relative, ""), len(data))
        if expected != "any" and outcome != expected:
            wrong.append((relative, expected, outcome))
        tally[f"{path.suffix[1:]} {outcome or parsed.kind}"] += 1
    with capsys.disabled():
        print("\ncorpus tally:", ", ".join(f"{key}: {count}" for key, count in sorted(tally.items())))
    assert wrong == []
