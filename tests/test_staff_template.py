"""The blank form round trip: `intake template` → filled in (python-docx, as a clerk types into
the cells and ticks ☐ → ☑) → `intake check` accepts it with every field read; and the same
filled form saved again by LibreOffice, as .docx and as .doc (Word 97, as WPS and older Word
users send it, converted back by parsers/legacy.py): both accepted, with the same fields.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document

from staff.form_template import FORM_LABELS
from testing import programs
from testing.builders.forms import prose
from testing.builders.submission import nomination_mail, photo_jpeg
from testing.idcards import id_number

RECEIVED = {"chongqing-bayu-2017": "2017-04-20T10:00:00+08:00", "wuhan-dacheng-2018": "2018-08-20T10:00:00+08:00"}
LABEL_FIELDS = {label: name for name, label in FORM_LABELS.items()}

VALUES = {
    "name": "刘德华", "gender": "男", "birth": "1979.03", "ethnicity": "汉族", "politics": "中共党员",
    "education": "本科", "id_number": id_number(region="420102", birth="19790301", sequence="219"),
    "phone": "13907150123", "employer": "武汉重型机床集团有限公司", "position": "数控镗工", "skill_level": "高级技师",
    "years": "22年", "recommending_unit": "武汉重型机床集团有限公司工会", "deeds": prose(600),
    "honors": "2016年获湖北省五一劳动奖章", "unit_opinion": "同意推荐。", "frontline": "是",
}
CHOICES = {
    "chongqing-bayu-2017": {"channel": "社会举荐"},
    "wuhan-dacheng-2018": {"channel": "职工群众联名推荐", "unit_category": "委办局及大型企事业单位"},
}


def run_intake(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _label_of(text: str) -> str | None:
    return LABEL_FIELDS.get(re.sub(r"（[^）]*）", "", text).strip())


def fill(blank: bytes, values: dict[str, str], choices: dict[str, str]) -> bytes:
    """Type each value into the cell right of its label, and tick the chosen ☐ options."""
    document = Document(io.BytesIO(blank))
    (table,) = document.tables
    for row in table.rows:
        cells = row.cells
        for k, cell in enumerate(cells):
            field = _label_of(cell.text)
            if field is None or k + 1 >= len(cells) or cells[k + 1] is cell:
                continue
            target = cells[k + 1]
            if field in choices:
                for paragraph in target.paragraphs:
                    for run in paragraph.runs:
                        run.text = run.text.replace(f"☐{choices[field]}", f"☑{choices[field]}")
            elif field in values:
                for extra in target.paragraphs[1:]:
                    extra._p.getparent().remove(extra._p)
                target.paragraphs[0].text = values[field]
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def check(campaign: str, form_name: str, form: bytes, folder: Path) -> dict:
    files = [(form_name, form)]
    if campaign == "chongqing-bayu-2017":  # 4–5 photos by e-mail; the 600-character 主要事迹 is the write-up
        files += [(f"刘德华-照片{i}.jpg", photo_jpeg(i, size=(96, 72))) for i in range(1, 5)]
    tag = f"{campaign}-{len(list(folder.glob('*.eml')))}"
    mail = folder / f"{tag}.eml"
    mail.write_bytes(nomination_mail(files, message_id=f"<{tag}@x.cn>"))
    output = run_intake("check", str(mail), "--campaign", campaign, "--received-at", RECEIVED[campaign]).stdout
    return json.loads(output)




def saved_by_libreoffice(sources: list[Path], filter_name: str, folder: Path) -> dict[str, Path]:
    """Each file opened and saved again by LibreOffice (headless, a throwaway profile)."""
    folder.mkdir()
    command = [programs.soffice(), f"-env:UserInstallation={(folder.parent / 'lo-profile').as_uri()}", "--headless",
               "--convert-to", filter_name, "--outdir", str(folder), *map(str, sources)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return {p.stem: p for p in folder.iterdir()}


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """Each campaign's blank form from the command line, then filled in."""
    folder = tmp_path_factory.mktemp("template")
    made = {}
    for campaign in CHOICES:
        blank = folder / f"{campaign}-blank.docx"
        assert "已写出" in run_intake("template", "--campaign", campaign, "-o", str(blank)).stdout
        path = folder / f"{campaign}.docx"
        path.write_bytes(fill(blank.read_bytes(), VALUES, CHOICES[campaign]))
        made[campaign] = path
    return folder, made


@pytest.mark.parametrize("campaign", list(CHOICES))
def test_the_blank_form_is_the_campaigns_form_with_its_channels(campaign, filled):
    import campaigns

    folder, _ = filled
    profile = campaigns.load(campaign)
    document = Document(folder / f"{campaign}-blank.docx")
    text = "\n".join(p.text for p in document.paragraphs)
    assert profile.form.title in text
    cells = [cell.text for row in document.tables[0].rows for cell in row.cells]
    assert "  ".join(f"☐{c.label}" for c in profile.channels) in cells
    labels = {_label_of(cell) for cell in cells} - {None}
    assert set(profile.form.required_fields) <= labels
    assert ("frontline" in labels) == (campaign == "wuhan-dacheng-2018")


def test_a_required_answer_left_blank_is_found_missing(filled, tmp_path):
    folder, _ = filled
    blank = (folder / "wuhan-dacheng-2018-blank.docx").read_bytes()
    values = {k: v for k, v in VALUES.items() if k != "frontline"}
    verdict = check("wuhan-dacheng-2018", "附件1.docx", fill(blank, values, CHOICES["wuhan-dacheng-2018"]), tmp_path)
    assert verdict["status"] == "rejected"
    assert [(f["code"], f["detail"]) for f in verdict["nominees"][0]["findings"]] == [
        ("FIELD_MISSING", {"field": "frontline"})]


@pytest.mark.parametrize("campaign", list(CHOICES))
def test_a_filled_template_is_accepted_with_every_field_read(campaign, filled, tmp_path):
    _, made = filled
    verdict = check(campaign, "附件1.docx", made[campaign].read_bytes(), tmp_path)
    assert verdict["status"] == "accepted", verdict
    (nominee,) = verdict["nominees"]
    fields = nominee["fields"]
    for name in ("name", "gender", "birth", "ethnicity", "politics", "education", "employer", "position",
                 "skill_level", "years", "recommending_unit", "honors"):
        assert fields[name] == VALUES[name], name
    assert fields["id_number"] == f"{VALUES['id_number'][:6]}********{VALUES['id_number'][-4:]}"  # masked output
    assert fields["phone"] == "139****0123"
    assert nominee["writeup_chars"] == 600  # 主要事迹 was read (the JSON leaves its text out)
    expected_channel = {"社会举荐": "public", "职工群众联名推荐": "joint"}[CHOICES[campaign]["channel"]]
    assert fields["channel"] == expected_channel
    if campaign == "wuhan-dacheng-2018":
        assert fields["frontline"] == "是"
        assert fields["unit_category"] == "委办局及大型企事业单位"  # the ticked option, not the row


def test_libreoffice_saved_docx_and_doc_read_the_same(filled):
    folder, made = filled
    sources = list(made.values())
    as_docx = saved_by_libreoffice(sources, "docx:MS Word 2007 XML", folder / "lo-docx")
    as_doc = saved_by_libreoffice(sources, "doc:MS Word 97", folder / "lo-doc")
    for campaign, source in made.items():
        original = check(campaign, "附件1.docx", source.read_bytes(), folder)
        resaved = check(campaign, "推荐表-另存.docx", as_docx[source.stem].read_bytes(), folder)
        assert resaved["status"] == "accepted", resaved
        assert resaved["nominees"][0]["fields"] == original["nominees"][0]["fields"]

        legacy = as_doc[source.stem].read_bytes()
        assert legacy.startswith(b"\xd0\xcf\x11\xe0")  # a real Word 97 compound file
        verdict = check(campaign, "推荐表.doc", legacy, folder)
        # converted back to .docx by LibreOffice (parsers/legacy.py) and read like the original
        assert verdict["status"] == "accepted", verdict
        assert verdict["nominees"][0]["fields"] == original["nominees"][0]["fields"]
