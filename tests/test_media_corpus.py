"""Every third-party picture in ../shared/corpora/images is judged as a photo of a nomination, never a traceback.

The folder is read as it is, so pictures added later are covered too. Run with -s for the tally.
"""

from collections import Counter
from pathlib import Path

import campaigns
from ingest.sniff import sniff
from parsers.media import probe_media
from parsers.types import FileData
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import forms
from testing.builders.forms import FormValues
from testing.builders.submission import nomination_mail
from testing.idcards import id_number

IMAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "images"
PROFILE = campaigns.load("chongqing-bayu-2017")
STATUSES = {"accepted", "rejected", "needs_review", "ignored"}


def test_every_corpus_image_is_probed_and_judged():
    paths = sorted(p for p in IMAGES.glob("*") if p.is_file())
    assert paths, f"no corpus images in {IMAGES}"
    form = forms.bayu_form_docx(FormValues(id_number=id_number()))
    tally: Counter = Counter()
    for path in paths:
        data = path.read_bytes()
        probe = probe_media(FileData(path.name, data, sniff(data, path.name)), PROFILE.limits)
        tally[f"probe:{probe.problem or 'ok'}"] += 1
        raw = nomination_mail([("推荐表.docx", form), (path.name, data)])
        verdict = judge(raw, PROFILE)
        assert verdict.status in STATUSES, path.name
        verdict_json(verdict, PROFILE.id, path.name)
        for f in (*verdict.findings, *(f for n in verdict.nominees for f in n.findings)):
            tally[f.code] += 1
        if probe.problem in ("corrupt", "unsupported", "empty"):  # a broken picture is said, not lost
            codes = {f.code for n in verdict.nominees for f in n.findings} | {f.code for f in verdict.findings}
            assert codes & {"MEDIA_CORRUPT", "FORM_UNREADABLE", "PHOTO_COUNT"}, (path.name, codes)
    print("\ncorpus images:", dict(sorted(tally.items())))
