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
