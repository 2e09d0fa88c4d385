"""The whole judge (the `intake check` path) over a folder of realistic nominations, one per layout
that offices and mail clients produce (CONTRACT §2 and issue 14), asserting every field read.

The folder is written once per session as .eml files; each is judged as `intake check` judges
it, and the fields read are compared with what the form says. The accuracy over all fields is
printed (`pytest tests/test_forms_corpus.py -s`) and must be complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

import campaigns
from service.judge import judge
from service.verdict_json import verdict_json
from testing.builders import archives, eml, forms, seals
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.idcards import id_number

CITY, WUHAN = "chongqing-bayu-2017", "wuhan-dacheng-2018"
CHANNEL_IDS = {"组织推荐": "organization", "社会举荐": "public", "个人自荐": "self", "基层单位推荐": "organization",
               "职工群众联名推荐": "joint", "技能竞赛选拔": "competition"}
# the fields every layout carries, and those of the Wuhan form besides
CORE = ("name", "gender", "id_number", "phone", "employer", "position", "channel")


@dataclass(frozen=True)
class Case:
    layout: str
    raw: bytes
    values: FormValues
    campaign: str = CITY
    fields: tuple[str, ...] = CORE
    unit: str | None = None  # the recommending unit the report groups by; None: not asserted


def _person(n: int, **changes) -> FormValues:
    return FormValues(id_number=id_number(sequence=f"{n:03d}"), **changes)


def _wuhan_person(n: int, **changes) -> FormValues:
    values = dict(name="江一", id_number=id_number(region="420102", sequence=f"{n:03d}"), channel="基层单位推荐",
                  recommending_unit="武汉市江岸区总工会", employer="武汉重型机床集团有限公司")
    return FormValues(**(values | changes))


def _photos(name: str, count: int = 4, size=(96, 64)) -> list[tuple[str, bytes]]:
    return [(f"{name}工作照{i}.jpg", photo_jpeg(i, size=size)) for i in range(1, count + 1)]


def _mail(files, **kwargs) -> bytes:
    return nomination_mail(files, **kwargs)


def _wuhan_mail(files) -> bytes:
    return nomination_mail(files, to="2942292164@qq.com", sent=datetime(2018, 8, 20, 10, tzinfo=SHANGHAI))


def _docx_cases() -> list[Case]:
    cases = []
    for n, style in enumerate(forms.MARK_STYLES, 1):  # glyphs, content controls, FORMCHECKBOX, Wingdings, WPS
        values = _person(n, channel=("组织推荐", "社会举荐", "个人自荐")[n % 3])
        cases.append(Case(f"table, merged cells, marks: {style}",
                          _mail([("附件1.docx", forms.bayu_form_docx(values, mark_style=style)), *_photos("张三")]),
                          values, fields=(*CORE, "recommending_unit"), unit=values.recommending_unit))
    for n, style in enumerate(forms.AFTER_MARK_STYLES, 10):
        values = _person(n, channel="社会举荐")
        cases.append(Case(f"Chongqing form, marks after the option: {style}",
                          _mail([("附件1.docx", forms.chongqing_form_docx(values, mark_style=style)), *_photos("张三")]),
                          values, unit=values.recommending_unit))
    values = _person(20, name="李四", gender="女")
    cases.append(Case("Chongqing form, one character per box",
                      _mail([("李四推荐表.docx", forms.chongqing_form_docx(values, boxed=True)), *_photos("李四")]),
                      values, unit=values.recommending_unit))
    values = _person(21, name="王五", recommending_unit="重庆钢铁股份有限公司工会",
                     unit_opinion="经我单位研究，同意推荐。\n重庆钢铁股份有限公司工会")
    cases.append(Case("Chongqing form, the unit under the seal",
                      _mail([("附件1.docx", forms.chongqing_form_docx(values, by_decision=False)), *_photos("王五")]),
                      values, unit=values.recommending_unit))
    for n, (layout, build) in enumerate((("paragraphs", forms.paragraph_form_docx),
                                         ("label and value in one cell", forms.same_cell_form_docx),
                                         ("table nested in a content control", forms.nested_form_docx),
                                         ("company letterhead", forms.letterhead_form_docx)), 30):
        values = _person(n)
        # the nested layout carries the table alone: no 推荐单位 line, an opinion without a unit
        unit = "" if build is forms.nested_form_docx else values.recommending_unit
        cases.append(Case(layout, _mail([("附件1.docx", build(values)), *_photos("张三")]), values, unit=unit))
    return cases


def _wuhan_cases() -> list[Case]:
    wuhan = (*CORE, "frontline", "recommending_unit")
    values = _wuhan_person(40, channel="职工群众联名推荐", frontline="否", recommending_unit="武汉市江汉区总工会")
    cases = [Case("Wuhan form, options one per cell", _wuhan_mail([("申报表.docx", forms.wuhan_form_docx(values))]),
                  values, WUHAN, wuhan, unit=values.recommending_unit)]
    for n, style in enumerate(forms.AFTER_MARK_STYLES, 41):
        values = _wuhan_person(n, gender="女", frontline="否")
        cases.append(Case(f"Wuhan form, unit and 填表时间 on one line, marks: {style}",
                          _wuhan_mail([("江一-申报表.docx", forms.wuhan_official_form_docx(values, mark_style=style))]),
                          values, WUHAN, wuhan, unit="武汉市江岸区总工会"))
    values = _wuhan_person(45, name="自荐甲", channel="个人自荐", recommending_unit="", unit_category="")
    cases.append(Case("Wuhan self-nomination, no unit before 填表时间",
                      _wuhan_mail([("申报表.docx", forms.wuhan_official_form_docx(values))]), values, WUHAN,
                      (*CORE, "frontline"), unit=""))
    return cases


def _pdf_and_scan_cases() -> list[Case]:
    values = _person(50)
    cases = [Case("PDF with a text layer", _mail([("推荐表.pdf", forms.form_pdf(values)), *_photos("张三")]), values,
                  fields=(*CORE, "recommending_unit"))]
    scanned = _person(51, name="赵六", employer="重庆长安汽车股份有限公司")
    scan, scanned, name = seals.ocr_scan(5, "scan_pdf", values=scanned)
    cases.append(Case("scanned PDF read by OCR", _mail([(name, scan), *_photos(scanned.name)]), scanned,
                      fields=("name", "id_number", "phone", "channel")))
    return cases


def _mail_client_cases() -> list[Case]:
    cases = []
    values = _person(60)
    form = ("附件1.docx", forms.bayu_form_docx(values))
    cases.append(Case("QQ Mail, photos put into the body",
                      eml.qq_mail("您好，推荐材料见附件，照片见正文。", [form], inline=_photos("张三", size=(800, 600))),
                      values))
    values = _person(61, name="孙七")
    name = eml.b_words("孙七推荐表.docx", "GBK", split_bytes=7)
    foxmail = eml.message(eml.multipart(
        "mixed", eml.text("您好，附件是孙七的推荐材料。"),
        eml.attachment(forms.bayu_form_docx(values), f'name="{name}"'),
        *(eml.attachment(data, f'name="{eml.b_words(n)}"', ctype="image/jpeg") for n, data in _photos("孙七"))),
        mailer="Foxmail 7.2.9.115[cn]")
    cases.append(Case("Foxmail, GBK names split mid-character", foxmail, values))
    values = _person(62, name="周八")
    cases.append(Case("Outlook, files inside winmail.dat",
                      eml.outlook_mail("您好，附件是推荐材料。", [("周八推荐表.docx", forms.bayu_form_docx(values)),
                                                           *_photos("周八")]), values))
    values = _person(63, name="吴九")
    cases.append(Case("Apple Mail, resource forks beside the files",
                      eml.apple_mail("您好，附件是推荐材料。", [("吴九推荐表.docx", forms.bayu_form_docx(values)),
                                                         *_photos("吴九")]), values))
    values, other = _person(64, name="郑十"), _person(65, name="冯一", gender="女")
    entries = [(f"{v.name}/{v.name}推荐表.docx", forms.bayu_form_docx(v)) for v in (values, other)]
    entries += [(f"{v.name}/{n}", d) for v in (values, other) for n, d in _photos(v.name)]
    entries += [("__MACOSX/郑十/._郑十推荐表.docx", b"\x00\x05\x16\x07\x00\x02\x00\x00" + b"\x00" * 40)]
    zipped = archives.zip_bytes(entries, name_encoding="gbk")
    cases.append(Case("a district's zip made on a Mac, GBK names", _mail([("推荐材料.zip", zipped)]), values))
    cases.append(Case("the second person of that zip", _mail([("推荐材料.zip", zipped)]), other))
    values = _person(66, channel="个人自荐")
    body = ("“巴渝工匠”推荐表\n"
            f"姓名：{values.name}　性别：{values.gender}\n身份证号码：{values.id_number}\n联系电话：{values.phone}\n"
            f"工作单位：{values.employer}\n岗位/工种：{values.position}\n推荐方式：个人自荐\n主要事迹：\n"
            + "\n".join(values.deeds))
    cases.append(Case("the form typed into the mail's body", _mail(_photos("张三"), body=body), values))
    return cases


def all_cases() -> list[Case]:
    return [*_docx_cases(), *_wuhan_cases(), *_pdf_and_scan_cases(), *_mail_client_cases()]


def expected(values: FormValues, field: str) -> str:
    if field == "channel":
        return CHANNEL_IDS[values.channel]
    return getattr(values, field)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[tuple[Case, object, dict]]:
    """Each case written as an .eml file in one folder, then judged from that file as `intake check` does."""
    folder = tmp_path_factory.mktemp("forms-corpus")
    judged = []
    for number, case in enumerate(all_cases(), 1):
        path = folder / f"{number:02d}.eml"
        path.write_bytes(case.raw)
        profile = campaigns.load(case.campaign)
        verdict = judge(path.read_bytes(), profile)
        judged.append((case, verdict, verdict_json(verdict, profile.id)))
    return judged


def _nominee(verdict, values: FormValues):
    return next((n for n in verdict.submission.nominees if n.fields.get("name") == values.name), None)


def test_every_layout_reads_every_field(corpus):
    wrong, total = [], 0
    for case, verdict, _shown in corpus:
        nominee = _nominee(verdict, case.values)
        for field in case.fields:
            total += 1
            read = nominee.fields.get(field, "") if nominee else None
            if read != expected(case.values, field):
                wrong.append(f"{case.layout}: {field} read {read!r}, the form says {expected(case.values, field)!r}")
    accuracy = (total - len(wrong)) / total
    print(f"\nforms corpus: {len(corpus)} nominations, {total} fields, accuracy {accuracy:.1%}")
    assert wrong == [], "\n".join(wrong)


def test_every_layout_is_judged_as_a_complete_nomination(corpus):
    troubles = []
    for case, _verdict, shown in corpus:
        if shown["status"] != "accepted":
            found = [f["code"] for f in shown["findings"]] + [f["code"] for n in shown["nominees"] for f in n["findings"]]
            troubles.append(f"{case.layout}: {shown['status']} {found}")
    assert troubles == [], "\n".join(troubles)


def test_the_report_groups_by_the_real_recommending_unit(corpus):
    from nominees.normalise import recommending_unit_of

    wrong = []
    for case, verdict, _shown in corpus:
        if case.unit is None:
            continue
        nominee = _nominee(verdict, case.values)
        unit = recommending_unit_of(nominee.fields) if nominee else None
        if unit != case.unit:
            wrong.append(f"{case.layout}: {unit!r} instead of {case.unit!r}")
    assert wrong == [], "\n".join(wrong)
