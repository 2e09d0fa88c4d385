"""The seal reader's sandboxed children: what each costs beyond the looking itself.

A child is forked for a message's seal material (parsers/seal.py `read_seal`). What the reader
needs is imported once in the parent before the fork, never again in every child: PDFium's
bindings and numpy.ma (which np.median loads on first use) cost a third of a child's CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import parsers.seal

_READ_SEAL_HERE = parsers.seal.read_seal_here
ROOT = Path(__file__).resolve().parent.parent

# run in a fresh interpreter: the test process may have imported these modules already
_NEW_MODULES_IN_CHILD = """
import json, sys
import campaigns
import parsers.seal as seal
from testing.builders import forms, seals

limits = campaigns.load("chongqing-bayu-2017").limits
values = seals.random_values(__import__("random").Random(7))
original = seal.read_seal_here

def here(*args):
    before = set(sys.modules)
    reading = original(*args)
    return reading, sorted(set(sys.modules) - before)

seal.read_seal_here = here
found = {}
for name, data in (("推荐表.pdf", forms.form_pdf(values, stamped=True)),
                   ("推荐表.docx", forms.bayu_form_docx(values, stamped=True))):
    reading, new = seal.read_seal(data, name, limits)
    found[name] = {"new": new, "pages": reading.pages}
print(json.dumps(found))
"""


def test_a_seal_child_imports_nothing_what_it_needs_is_loaded_before_the_fork():
    done = subprocess.run([sys.executable, "-c", _NEW_MODULES_IN_CHILD], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    for name, seen in found.items():
        assert seen["pages"] >= 1, (name, seen)  # the reader did look at the file
        assert seen["new"] == [], (name, seen["new"])


# the same for a whole message judged, its seal material read in the message's one child
_NEW_MODULES_IN_A_MESSAGES_CHILD = """
import json, random, sys
import campaigns
import parsers.seal as seal
from ingest.mime import parse_message
from service.judge import judge_message
from testing.builders import forms, seals
from testing.builders.submission import nomination_mail

profile = campaigns.load("chongqing-bayu-2017")
values = seals.random_values(random.Random(7)).but(channel="组织推荐")
original, seen = seal.read_seal_here, sys.argv[1]

def here(*args):
    before = set(sys.modules)
    reading = original(*args)
    with open(seen, "a") as log:
        log.write(json.dumps(sorted(set(sys.modules) - before)) + "\\n")
    return reading

seal.read_seal_here = here
mail = nomination_mail([("推荐表.pdf", forms.form_pdf(values, stamped=True)),
                        ("事迹材料.docx", forms.writeup_docx(900))])
verdict = judge_message(parse_message(mail, limits=profile.limits), profile)
print(json.dumps([n.seal.present for n in verdict.submission.nominees]))
"""


def test_a_message_s_child_imports_nothing_for_the_seal_it_is_loaded_before_the_fork(tmp_path):
    """The message's child is forked for its documents, before the seal stage: the seal reader is
    loaded first, or the child would import it on every process's first message, its ~330 MB of
    mappings counted against the child's memory limit."""
    seen = tmp_path / "seen.jsonl"
    done = subprocess.run([sys.executable, "-c", _NEW_MODULES_IN_A_MESSAGES_CHILD, str(seen)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [True]
    assert [json.loads(line) for line in seen.read_text().splitlines()] == [[]]


def _process_starts(monkeypatch) -> list[str]:
    """The name of every process started from here on (forked, spawned or from the fork server)."""
    import multiprocessing.process

    started = []
    real = multiprocessing.process.BaseProcess.start
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start",
                        lambda process: started.append(process.name) or real(process))
    return started


def _material():
    import random

    from testing.builders import forms, seals

    first, second = (seals.random_values(random.Random(seed)) for seed in (11, 12))
    return [("甲推荐表.pdf", forms.form_pdf(first, stamped=True)),
            ("甲推荐表.docx", forms.bayu_form_docx(first, stamped=False)),  # no picture pasted in: no child
            ("乙推荐表.docx", forms.bayu_form_docx(second, stamped=True))]


def test_a_message_s_seal_material_is_read_in_one_child_and_each_file_once(monkeypatch):
    import campaigns
    from ingest.mime import parse_message
    from service.judge import SealReadings
    from testing.builders.submission import nomination_mail

    profile = campaigns.load("chongqing-bayu-2017")
    message = parse_message(nomination_mail(_material()), limits=profile.limits)
    started = _process_starts(monkeypatch)
    seals = SealReadings(profile)
    seals.read(list(message.attachments))
    assert len(started) == 1, started
    readings = {a.path: seals.of(a) for a in message.attachments}  # read already: no child more
    assert len(started) == 1, started
    assert readings["甲推荐表.pdf"].present and readings["乙推荐表.docx"].present
    assert not readings["甲推荐表.docx"].present and readings["甲推荐表.docx"].pages == 0


def _dies_on_the_broken_one(data: bytes, filename: str, *args):
    """The seal reader, but a native crash on 坏.pdf (in the clean process too: it imports this by name)."""
    if filename == "坏.pdf":
        os._exit(70)
    return _READ_SEAL_HERE(data, filename, *args)


def test_a_file_that_breaks_the_seal_reader_fails_alone_and_the_others_are_still_read(monkeypatch):
    """One file kills its child (a native library dying on its bytes): it alone is tried again in a
    clean process, where it fails as a problem for staff; the files after it are read in a new child."""
    import campaigns

    limits = campaigns.load("chongqing-bayu-2017").limits
    monkeypatch.setattr(parsers.seal, "read_seal_here", _dies_on_the_broken_one)
    (pdf_name, pdf), _, (docx_name, docx) = _material()
    started = _process_starts(monkeypatch)
    good, broken, after = parsers.seal.read_seals([(pdf, pdf_name), (b"%PDF-1.4 broken", "坏.pdf"), (docx, docx_name)],
                                                  limits)
    assert good.present and after.present
    assert not broken.present and broken.problems and broken.problems[0].startswith("坏.pdf")
    # the message's child until the crash, a new one for the rest, the clean one for the broken file
    assert len(started) == 3, started


def test_a_nominations_documents_photos_and_seal_are_read_in_one_child(monkeypatch):
    """The form, the write-up, the photos and the form's stamp: each stage forked its own child,
    about 20 ms of CPU a fork on a judging worker; now the message has one."""
    import random

    import campaigns
    from ingest.mime import parse_message
    from service.judge import judge_message
    from testing.builders import forms, seals
    from testing.builders.submission import nomination_mail, photo_jpeg

    profile = campaigns.load("chongqing-bayu-2017")
    values = seals.random_values(random.Random(21))
    mail = nomination_mail([("推荐表.docx", forms.bayu_form_docx(values, stamped=True)),
                            ("事迹材料.pdf", forms.form_pdf(values, stamped=False)),
                            *((f"照片{k}.jpg", photo_jpeg(k, (1600, 1200))) for k in range(3))])
    message = parse_message(mail, limits=profile.limits)
    started = _process_starts(monkeypatch)
    requests = _requests_sent(monkeypatch)
    verdict = judge_message(message, profile)
    assert len(started) == 1, started
    assert [n.seal.present for n in verdict.submission.nominees] == [True], verdict
    # the photos reach the child where it inherited them, not copied into the piece that probes them
    assert max(requests) < min(len(a.data) for a in message.attachments if a.filename.endswith(".jpg")), requests


def _requests_sent(monkeypatch) -> list[int]:
    """The size of each piece of work the caller sends its kept child."""
    import core.children

    sizes: list[int] = []
    pickled = core.children._pickled

    def measured(work, inherited):
        request = pickled(work, inherited)
        sizes.append(len(request))
        return request

    monkeypatch.setattr(core.children, "_pickled", measured)
    return sizes
