"""Recommendation forms and write-ups built in code, as people fill them in Word, WPS and PDF."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, replace

from docx import Document
from docx.oxml import parse_xml
from docx.shared import Pt

CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
_NS = f'xmlns:w="{W_NS}" xmlns:w14="{W14_NS}"'

BAYU_CHANNELS = ("组织推荐", "社会举荐", "个人自荐")
WUHAN_CHANNELS = ("基层单位推荐", "专业学会或行业协会推荐", "职工群众联名推荐", "个人自荐", "技能竞赛选拔")
# how the chosen option is marked: glyphs typed as text, a Word 2010 checkbox content control, a
# legacy FORMCHECKBOX field, w:sym in Wingdings or Wingdings 2, WPS's text in Wingdings 2
MARK_STYLES = ("glyph", "sdt", "formcheckbox", "wingdings", "wingdings2", "wps_text")

DEEDS = (
    "张三同志扎根数控加工一线二十年，先后攻克发动机缸体精密加工等技术难题十余项。",
    "他带领班组开展技术革新，累计为企业节约成本三百余万元，带出高级技师八名。",
)


@dataclass(frozen=True)
class FormValues:
    """What a nominee's form says. Defaults are one plausible nominee."""

    name: str = "张三"
    gender: str = "男"
    birth: str = "1980.05"
    ethnicity: str = "汉族"
    politics: str = "中共党员"
    education: str = "大专"
    id_number: str = "500103198005121234"
    phone: str = "13812345678"
    employer: str = "重庆长安汽车股份有限公司"
    position: str = "数控车工"
    skill_level: str = "高级技师"
    years: str = "20年"
    channel: str = "组织推荐"
    frontline: str = "是"
    unit_category: str = "区、开发区及产业工会"
    recommending_unit: str = "重庆市沙坪坝区总工会"
    deeds: tuple[str, ...] = DEEDS
    honors: str = "2015年获重庆市五一劳动奖章"
    unit_opinion: str = "同意推荐。"

    def but(self, **changes) -> "FormValues":
        return replace(self, **changes)


# ---------------------------------------------------------------- checkbox marks, as WordprocessingML


def _mark_xml(checked: bool, style: str) -> list[str]:
    """The runs (or content control) that draw one checkbox in the given style."""
    if style == "glyph":
        return [f'<w:r {_NS}><w:t>{"☑" if checked else "☐"}</w:t></w:r>']
    if style == "sdt":
        glyph = "☒" if checked else "☐"
        return [
            f'<w:sdt {_NS}><w:sdtPr><w14:checkbox><w14:checked w14:val="{int(checked)}"/>'
            '<w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
            '<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox></w:sdtPr>'
            '<w:sdtContent><w:r><w:rPr><w:rFonts w:ascii="MS Gothic" w:eastAsia="MS Gothic" '
            f'w:hAnsi="MS Gothic" w:hint="eastAsia"/></w:rPr><w:t>{glyph}</w:t></w:r></w:sdtContent></w:sdt>'
        ]
    if style == "formcheckbox":
        state = "<w:checked/>" if checked else ""
        return [
            f'<w:r {_NS}><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/><w:enabled/>'
            f'<w:calcOnExit w:val="0"/><w:checkBox><w:sizeAuto/><w:default w:val="0"/>{state}'
            "</w:checkBox></w:ffData></w:fldChar></w:r>",
            f'<w:r {_NS}><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>',
            f'<w:r {_NS}><w:fldChar w:fldCharType="separate"/></w:r>',
            f'<w:r {_NS}><w:fldChar w:fldCharType="end"/></w:r>',
        ]
    if style == "wingdings":
        return [f'<w:r {_NS}><w:sym w:font="Wingdings" w:char="{"F0FE" if checked else "F0A8"}"/></w:r>']
    if style == "wingdings2":
        return [f'<w:r {_NS}><w:sym w:font="Wingdings 2" w:char="{"F052" if checked else "F0A3"}"/></w:r>']
    if style == "wps_text":  # WPS types the symbol as a letter in the symbol font: R = ☑, £ = ☐
        return [
            f'<w:r {_NS}><w:rPr><w:rFonts w:ascii="Wingdings 2" w:hAnsi="Wingdings 2"/></w:rPr>'
            f'<w:t>{"R" if checked else "£"}</w:t></w:r>'
        ]
    raise ValueError(f"unknown mark style {style}")


# marks written after the option, as printed Chinese forms ask (在括号内打√)
AFTER_MARK_STYLES = ("bracket", "after_glyph")


def add_options(paragraph, options: tuple[str, ...], chosen: str, style: str) -> None:
    """☑组织推荐  ☐社会举荐  ☐个人自荐, the marks drawn in `style`; or, for the styles after the
    option, 组织推荐（√）　社会举荐（　） and 组织推荐√ 社会举荐□."""
    if style in AFTER_MARK_STYLES:
        for option in options:
            if style == "bracket":
                paragraph.add_run(f"{option}（{'√' if option == chosen else '　'}）　")
            else:
                paragraph.add_run(f"{option}{'√' if option == chosen else '□'}  ")
        return
    for option in options:
        for xml in _mark_xml(option == chosen, style):
            paragraph._p.append(parse_xml(xml))
        paragraph.add_run(f"{option}  ")


def options_text(options: tuple[str, ...], chosen: str) -> str:
    """How the reader renders add_options: the normaliser picks the ☑ option from it."""
    return "  ".join(f"{'☑' if option == chosen else '☐'}{option}" for option in options)


# ---------------------------------------------------------------- the unit's seal

# 单位推荐需加盖领导机构或本级工会印章: a unit's 巴渝工匠 form carries its seal, here as the
# stamp picture (电子章) units paste into Word; pass stamped=False for a form without one
SEALED_CHANNELS = ("组织推荐",)


def _stamped(values: FormValues, stamped: bool | None) -> bool:
    return values.channel in SEALED_CHANNELS if stamped is None else stamped


def stamp_png(unit: str = "重庆市沙坪坝区总工会") -> bytes:
    """The unit's round seal as a transparent PNG (testing/builders/seal_drawing.py draws it)."""
    from testing.builders.seals import stamp_png as drawn

    return drawn(unit)


def _paste_stamp(paragraph, unit: str) -> None:
    from docx.shared import Cm

    paragraph.add_run().add_picture(io.BytesIO(stamp_png(unit)), width=Cm(4))


# ---------------------------------------------------------------- forms as .docx


def _set(cell, text: str) -> None:
    """Cell text; a \\n is a new paragraph, as people press Enter inside a cell."""
    lines = text.split("\n")
    cell.paragraphs[0].text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)


def _save(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _title(document, text: str) -> None:
    document.add_paragraph("附件")
    heading = document.add_paragraph()
    heading.add_run(text).font.size = Pt(18)


def bayu_form_docx(values: FormValues = FormValues(), mark_style: str = "glyph", stamped: bool | None = None) -> bytes:
    """The 巴渝工匠推荐表: an 8-column grid, 照片 spanning four rows, 主要事迹 across the width."""
    document = Document()
    _title(document, "2017年度“巴渝工匠”推荐表")
    table = document.add_table(rows=9, cols=8)
    table.style = "Table Grid"
    cell = table.cell
    photo = cell(0, 6).merge(cell(3, 7))
    _set(photo, "照片")
    for (r, c), text in {
        (0, 0): "姓  名", (0, 1): values.name, (0, 2): "性　别", (0, 3): values.gender,
        (0, 4): "出生年月：", (0, 5): values.birth,
        (1, 0): "民  族", (1, 1): values.ethnicity, (1, 2): "政治面貌", (1, 3): values.politics,
        (1, 4): "文化程度", (1, 5): values.education,
        (2, 0): "身份证号码", (2, 4): "联系电话", (2, 5): values.phone,
        (3, 0): "工作单位",
        (4, 0): "岗位/工种", (4, 1): values.position, (4, 2): "技术等级", (4, 3): values.skill_level,
        (4, 4): "从业年限",
        (5, 0): "推荐方式",
        (6, 0): "主要\n事迹",
        (7, 0): "获奖情况",
        (8, 0): "推荐单位意见",
    }.items():
        _set(cell(r, c), text)
    _set(cell(2, 1).merge(cell(2, 3)), values.id_number)
    _set(cell(3, 1).merge(cell(3, 5)), values.employer)
    _set(cell(4, 5).merge(cell(4, 7)), values.years)
    add_options(cell(5, 1).merge(cell(5, 7)).paragraphs[0], BAYU_CHANNELS, values.channel, mark_style)
    _set(cell(6, 1).merge(cell(6, 7)), "\n".join(values.deeds))
    _set(cell(7, 1).merge(cell(7, 7)), values.honors)
    opinion = cell(8, 1).merge(cell(8, 7))
    _set(opinion, f"{values.unit_opinion}\n\n（盖章）\n2017年4月10日")
    if _stamped(values, stamped):
        _paste_stamp(opinion.add_paragraph(), values.recommending_unit)
    document.add_paragraph(f"推荐单位（盖章）：{values.recommending_unit}")
    document.add_paragraph("填表日期：2017年4月10日")
    return _save(document)


def wuhan_form_docx(values: FormValues = FormValues(channel="基层单位推荐"), mark_style: str = "glyph") -> bytes:
    """武汉“大城工匠”推荐人选申报表: options one per cell, 事迹简介 as a heading row over its text."""
    document = Document()
    _title(document, "第二届武汉“大城工匠”推荐人选申报表")
    table = document.add_table(rows=12, cols=7)
    table.style = "Table Grid"
    cell = table.cell
    _set(cell(0, 6).merge(cell(2, 6)), "照片")
    for (r, c), text in {
        (0, 0): "姓名", (0, 1): values.name, (0, 2): "性别", (0, 3): values.gender,
        (0, 4): "出生日期", (0, 5): values.birth,
        (1, 0): "民族", (1, 1): values.ethnicity, (1, 2): "政治面貌", (1, 3): values.politics,
        (1, 4): "学历", (1, 5): values.education,
        (2, 0): "身份证号", (2, 4): "手机号码", (2, 5): values.phone,
        (3, 0): "单位名称",
        (4, 0): "从事职业", (4, 1): values.position, (4, 2): "职称", (4, 3): values.skill_level,
        (4, 4): "工作年限",
        (5, 0): "是否一线职工", (5, 3): "推荐单位类别",
        (6, 0): "推荐单位",
        (7, 0): "申报方式",
        (10, 0): "所获荣誉",
        (11, 0): "所在单位意见",
    }.items():
        _set(cell(r, c), text)
    _set(cell(2, 1).merge(cell(2, 3)), values.id_number)
    _set(cell(3, 1).merge(cell(3, 6)), values.employer)
    _set(cell(4, 5).merge(cell(4, 6)), values.years)
    add_options(cell(5, 1).merge(cell(5, 2)).paragraphs[0], ("是", "否"), values.frontline, mark_style)
    _set(cell(5, 4).merge(cell(5, 6)), values.unit_category)
    _set(cell(6, 1).merge(cell(6, 6)), values.recommending_unit)
    for k, option in enumerate(WUHAN_CHANNELS):
        add_options(cell(7, 1 + k).paragraphs[0], (option,), values.channel, mark_style)
    cell(7, 6).merge(cell(7, 5))
    _set(cell(8, 0).merge(cell(8, 6)), "事迹简介（1000字以内）")
    _set(cell(9, 0).merge(cell(9, 6)), "\n".join(values.deeds))
    _set(cell(10, 1).merge(cell(10, 6)), values.honors)
    _set(cell(11, 1).merge(cell(11, 6)), f"{values.unit_opinion}\n（盖章）  年  月  日")
    return _save(document)


def paragraph_form_docx(values: FormValues = FormValues(), mark_style: str = "glyph", stamped: bool | None = None) -> bytes:
    """The form typed as paragraphs, several `label：value` pairs on a line."""
    document = Document()
    document.add_paragraph("“巴渝工匠”推荐表")
    for line in (
        f"姓名：{values.name}    性别：{values.gender}    出生年月：{values.birth}",
        f"民族：{values.ethnicity}    政治面貌：{values.politics}    文化程度：{values.education}",
        f"身份证号码：{values.id_number}",
        f"联系电话：{values.phone}",
        f"工作单位：{values.employer}",
        f"岗位/工种：{values.position}    技术等级：{values.skill_level}    从业年限：{values.years}",
    ):
        document.add_paragraph(line)
    add_options(document.add_paragraph("推荐方式："), BAYU_CHANNELS, values.channel, mark_style)
    document.add_paragraph("主要事迹：")
    for paragraph in values.deeds:
        document.add_paragraph(paragraph)
    document.add_paragraph(f"获奖情况：{values.honors}")
    document.add_paragraph(f"推荐单位意见：{values.unit_opinion}")
    document.add_paragraph(f"推荐单位（盖章）：{values.recommending_unit}")
    if _stamped(values, stamped):
        _paste_stamp(document.add_paragraph(), values.recommending_unit)
    return _save(document)


def same_cell_form_docx(values: FormValues = FormValues(), stamped: bool | None = None) -> bytes:
    """A table whose cells each hold `label：value`, the way some units retype the form."""
    document = Document()
    document.add_paragraph("“巴渝工匠”推荐表")
    table = document.add_table(rows=6, cols=2)
    table.style = "Table Grid"
    for (r, c), text in {
        (0, 0): f"姓名：{values.name}", (0, 1): f"性别：{values.gender}",
        (1, 0): f"出生年月：{values.birth}", (1, 1): f"联系电话：{values.phone}",
        (2, 0): f"工作单位：{values.employer}", (2, 1): f"岗位：{values.position}",
        (3, 0): f"推荐方式：{options_text(BAYU_CHANNELS, values.channel)}",
        (3, 1): f"身份证号：{values.id_number}",
    }.items():
        _set(table.cell(r, c), text)
    _set(table.cell(4, 0).merge(table.cell(4, 1)), "主要事迹：\n" + "\n".join(values.deeds))
    _set(table.cell(5, 0).merge(table.cell(5, 1)), f"推荐单位（盖章）：{values.recommending_unit}")
    if _stamped(values, stamped):
        _paste_stamp(document.add_paragraph(), values.recommending_unit)
    return _save(document)


def nested_form_docx(values: FormValues = FormValues(), stamped: bool | None = None) -> bytes:
    """The form's table inside a one-cell layout table, wrapped in a content control."""
    inner = Document(io.BytesIO(bayu_form_docx(values, stamped=False)))  # a picture would not move with the table
    form_table = inner.tables[0]._tbl
    document = Document()
    document.add_paragraph("“巴渝工匠”推荐表")
    outer = document.add_table(rows=1, cols=1)
    outer.cell(0, 0)._tc.append(form_table)
    outer.cell(0, 0)._tc.append(parse_xml(f"<w:p {_NS}/>"))  # a cell must end with a paragraph
    sdt = parse_xml(f"<w:sdt {_NS}><w:sdtPr/><w:sdtContent/></w:sdt>")
    outer._tbl.addprevious(sdt)
    sdt[1].append(outer._tbl)
    if _stamped(values, stamped):
        _paste_stamp(document.add_paragraph(), values.recommending_unit)
    return _save(document)


# ---------------------------------------------------------------- write-ups and photo documents

_PROSE = (
    "该同志爱岗敬业，刻苦钻研，在数控加工领域积累了丰富经验。"
    "他坚持以师带徒，毫无保留地传授技艺，培养了一批技术骨干。"
    "面对进口设备故障频发的难题，他带队攻关，自主研制专用夹具，效率提高三成。"
    "多年来，他参与企业技术改造项目二十余项，获得国家专利五项。"
)


def prose(chars: int) -> str:
    """Chinese prose of exactly `chars` characters, each a Han character or a full-width mark."""
    text = _PROSE * (chars // len(_PROSE) + 1)
    return text[:chars]


def writeup_docx(chars: int, title: str = "张三同志先进事迹材料", paragraph_chars: int = 300) -> bytes:
    """A 事迹材料: a title and paragraphs, `chars` characters in all by Word's count."""
    body = prose(chars - len(title))
    document = Document()
    document.add_paragraph(title)
    for start in range(0, len(body), paragraph_chars):
        document.add_paragraph(body[start : start + paragraph_chars])
    section = document.sections[0]
    section.header.paragraphs[0].text = "巴渝工匠评选材料之二"  # not counted: a header
    section.footer.paragraphs[0].text = "第1页"
    return _save(document)


def png_bytes(color: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def photo_docx(count: int, caption: str = "张三工作照") -> bytes:
    document = Document()
    document.add_paragraph(caption)
    for k in range(count):
        document.add_picture(io.BytesIO(png_bytes((40 * k % 255, 120, 60))))
    return _save(document)


# ---------------------------------------------------------------- broken and hostile packages


def encrypted_docx(password: str = "pass", values: FormValues = FormValues()) -> bytes:
    """The form saved with a password: an OLE2 file holding EncryptionInfo and EncryptedPackage."""
    from msoffcrypto.format.ooxml import OOXMLFile

    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(bayu_form_docx(values))).encrypt(password, encrypted)
    return encrypted.getvalue()


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    """A download cut short."""
    return data[: int(len(data) * keep)]


def with_document_xml(docx: bytes, rewrite) -> bytes:
    """The same package with word/document.xml passed through `rewrite(str) -> str`."""
    source = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = rewrite(data.decode("utf-8")).encode("utf-8")
            target.writestr(item, data)
    return out.getvalue()


def entity_docx(declaration: str, reference: str) -> bytes:
    """A document whose XML declares entities (XXE, billion laughs) and uses one in its text."""

    def rewrite(xml: str) -> str:
        xml = re.sub(r"^<\?xml[^>]*\?>", "", xml).lstrip()
        prolog = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
        xml = f"{prolog}\n<!DOCTYPE w:document [{declaration}]>\n{xml}"
        return xml.replace("<w:t>XXE</w:t>", f"<w:t>before {reference} after</w:t>", 1)

    document = Document()
    document.add_paragraph("XXE")
    return with_document_xml(_save(document), rewrite)


def inflating_docx(paragraphs: int, chars: int = 1000) -> bytes:
    """`paragraphs` paragraphs of `chars` characters: megabytes of XML packed into a small zip."""
    document = Document()
    document.add_paragraph("PLACEHOLDER")
    more = f"<w:p><w:r><w:t>{'工' * chars}</w:t></w:r></w:p>" * (paragraphs - 1)

    def inflate(xml: str) -> str:
        end = xml.index("</w:p>", xml.index("PLACEHOLDER")) + len("</w:p>")
        return (xml[:end] + more + xml[end:]).replace("PLACEHOLDER", "工" * chars)

    return with_document_xml(_save(document), inflate)


# ---------------------------------------------------------------- PDFs with a text layer


def _pdf():
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("wqy", fname=CJK_FONT)
    pdf.set_font("wqy", size=11)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    return pdf


def form_pdf(values: FormValues = FormValues(), title: str = "2017年度“巴渝工匠”推荐表", stamped: bool | None = None,
             letterhead: str | None = None) -> bytes:
    """The form printed to PDF: a ruled table pdfplumber can find. The font has no ☑, so the
    chosen option is marked ■ and the others □, as such PDFs usually are. `letterhead`: the
    company's name in red beside its round red emblem (the name around a star, as many state
    companies' emblems are) at the top of the page, as Word prints a page header."""
    pdf = _pdf()
    if letterhead:  # the emblem round, red and with the name around it: a seal in all but its place
        pdf.image(io.BytesIO(stamp_png(letterhead)), x=pdf.l_margin, y=1, w=19)
        pdf.set_text_color(210, 30, 35)
        pdf.set_xy(pdf.l_margin + 22, 7)
        pdf.cell(0, 8, letterhead)
        pdf.set_text_color(0, 0, 0)
        pdf.set_y(24)
    pdf.set_font_size(16)
    pdf.cell(0, 12, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font_size(11)
    width = 30.0  # six columns of 30 mm
    options = "   ".join(f"{'■' if o == values.channel else '□'}{o}" for o in BAYU_CHANNELS)
    grid = (  # (text, columns spanned)
        (("姓名", 1), (values.name, 1), ("性别", 1), (values.gender, 1), ("出生年月", 1), (values.birth, 1)),
        (("民族", 1), (values.ethnicity, 1), ("政治面貌", 1), (values.politics, 1),
         ("文化程度", 1), (values.education, 1)),
        (("身份证号码", 1), (values.id_number, 3), ("联系电话", 1), (values.phone, 1)),
        (("工作单位", 1), (values.employer, 5)),
        (("岗位/工种", 1), (values.position, 1), ("技术等级", 1), (values.skill_level, 1),
         ("从业年限", 1), (values.years, 1)),
        (("推荐方式", 1), (options, 5)),
    )
    for row in grid:
        for text, span in row:
            pdf.cell(width * span, 10, text, border=1)
        pdf.ln(10)
    top, height = pdf.get_y(), 30
    pdf.rect(pdf.l_margin, top, width, height)
    pdf.rect(pdf.l_margin + width, top, width * 5, height)
    pdf.cell(width, height, "主要事迹")
    pdf.set_xy(pdf.l_margin + width, top + 1)
    pdf.multi_cell(width * 5, 7, "\n".join(values.deeds))
    pdf.set_xy(pdf.l_margin, top + height)
    pdf.cell(width, 10, "推荐单位意见", border=1)
    pdf.cell(width * 5, 10, f"{values.unit_opinion}（盖章）", border=1, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    top = pdf.get_y()
    pdf.cell(0, 10, f"推荐单位（盖章）：{values.recommending_unit}", new_x="LMARGIN", new_y="NEXT")
    if _stamped(values, stamped):  # the 电子章 laid over 推荐单位（盖章）, as Word/WPS print it
        pdf.image(io.BytesIO(stamp_png(values.recommending_unit)), x=95, y=top - 20, w=40)
    return bytes(pdf.output())


def writeup_pdf(chars: int, title: str = "张三同志先进事迹材料") -> bytes:
    pdf = _pdf()
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 7, prose(chars - len(title)))
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """A page that is only a picture: what a scanner makes of the stamped form."""
    pdf = _pdf()
    pdf.image(io.BytesIO(png_bytes((250, 250, 250), (800, 1100))), x=10, y=10, w=190)
    return bytes(pdf.output())


def encrypted_pdf(user_password: str = "", owner_password: str = "owner") -> bytes:
    """The form PDF encrypted; with an empty user password it opens like any other."""
    from fpdf.enums import EncryptionMethod

    pdf = _pdf()
    pdf.set_encryption(owner_password=owner_password, user_password=user_password,
                       encryption_method=EncryptionMethod.AES_128)
    pdf.cell(0, 10, "2017年度“巴渝工匠”推荐表", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 10, "姓名：张三    性别：男", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# ---------------------------------------------------------------- the forms as offices really type them


def _unit_opinion_text(values: FormValues, by_decision: bool) -> str:
    if by_decision and values.recommending_unit:
        return f"经{values.recommending_unit}研究，{values.unit_opinion}\n\n（盖章）\n2017年4月10日"
    return f"{values.unit_opinion}\n\n（盖章）\n2017年4月10日"


def chongqing_form_docx(values: FormValues = FormValues(), mark_style: str = "bracket", stamped: bool | None = None,
                        boxed: bool = False, by_decision: bool = True) -> bytes:
    """The 巴渝工匠推荐表 as the city printed it: no 推荐单位 cell (the unit is named only in
    推荐单位意见, 经…研究 or under its seal), marks in brackets after the options, and with
    `boxed` the 身份证号码 and 联系电话 one character per box."""
    document = Document()
    _title(document, "“巴渝工匠”推荐表")
    id_cells = 18 if boxed else 1
    cols = 2 + id_cells + 2 if boxed else 8
    table = document.add_table(rows=7, cols=cols)
    table.style = "Table Grid"
    cell = table.cell
    last = cols - 1
    pairs = ((values.name, "姓  名"), (values.gender, "性  别"), (values.birth, "出生年月"))
    row0 = [cell(0, 0), cell(0, 1), cell(0, 2), cell(0, 3), cell(0, 4), cell(0, last)]
    for k, (value, label) in enumerate(pairs):
        _set(row0[2 * k], label)
        _set(row0[2 * k + 1] if k < 2 else cell(0, 5).merge(cell(0, last)), value)
    _set(cell(1, 0), "身份证号码")
    if boxed:
        for k, digit in enumerate(values.id_number[:18]):
            _set(cell(1, 1 + k), digit)
        _set(cell(1, 19), "联系电话")
        _set(cell(1, 20), values.phone)
    else:
        _set(cell(1, 1).merge(cell(1, 4)), values.id_number)
        _set(cell(1, 5), "联系电话")
        _set(cell(1, 6).merge(cell(1, last)), values.phone)
    _set(cell(2, 0), "工作单位")
    _set(cell(2, 1).merge(cell(2, 4)), values.employer)
    _set(cell(2, 5), "岗位/工种")
    _set(cell(2, 6).merge(cell(2, last)), values.position)
    _set(cell(3, 0), "推荐方式")
    add_options(cell(3, 1).merge(cell(3, last)).paragraphs[0], BAYU_CHANNELS, values.channel, mark_style)
    _set(cell(4, 0), "主要事迹")
    _set(cell(4, 1).merge(cell(4, last)), "\n".join(values.deeds))
    _set(cell(5, 0), "获奖情况")
    _set(cell(5, 1).merge(cell(5, last)), values.honors)
    _set(cell(6, 0), "推荐单位意见")
    opinion = cell(6, 1).merge(cell(6, last))
    _set(opinion, _unit_opinion_text(values, by_decision))
    if _stamped(values, stamped):
        _paste_stamp(opinion.add_paragraph(), values.recommending_unit)
    return _save(document)


def wuhan_official_form_docx(values: FormValues = FormValues(channel="基层单位推荐"), mark_style: str = "bracket",
                             filled: str = "2018年8月") -> bytes:
    """武汉“大城工匠”推荐人选申报表 as offices fill it: `推荐单位（盖章）：…　　填表时间：…` on one
    line over the table (no 推荐单位 cell), 是否一线职工 and 推荐单位类别 ticked in brackets."""
    document = Document()
    _title(document, "第二届武汉“大城工匠”推荐人选申报表")
    document.add_paragraph(f"推荐单位（盖章）：{values.recommending_unit}　　　　填表时间：{filled}")
    table = document.add_table(rows=8, cols=6)
    table.style = "Table Grid"
    cell = table.cell
    for (r, c), text in {
        (0, 0): "姓名", (0, 1): values.name, (0, 2): "性别", (0, 3): values.gender,
        (0, 4): "出生年月", (0, 5): values.birth,
        (1, 0): "身份证号码", (1, 4): "手机号码", (1, 5): values.phone,
        (2, 0): "工作单位", (3, 0): "岗位/工种", (3, 2): "技术等级", (3, 3): values.skill_level,
        (3, 4): "从业年限", (3, 5): values.years,
        (4, 0): "是否一线职工", (4, 2): "推荐单位类别",
        (5, 0): "申报方式", (6, 0): "主要事迹", (7, 0): "所获荣誉",
    }.items():
        _set(cell(r, c), text)
    _set(cell(1, 1).merge(cell(1, 3)), values.id_number)
    _set(cell(2, 1).merge(cell(2, 5)), values.employer)
    _set(cell(3, 1), values.position)
    add_options(cell(4, 1).paragraphs[0], ("是", "否"), values.frontline, mark_style)
    add_options(cell(4, 3).merge(cell(4, 5)).paragraphs[0], WUHAN_UNIT_CATEGORIES, values.unit_category, mark_style)
    add_options(cell(5, 1).merge(cell(5, 5)).paragraphs[0], WUHAN_CHANNELS, values.channel, mark_style)
    _set(cell(6, 1).merge(cell(6, 5)), "\n".join(values.deeds))
    _set(cell(7, 1).merge(cell(7, 5)), values.honors)
    return _save(document)


WUHAN_UNIT_CATEGORIES = ("区、开发区及产业工会", "委办局、大型企业")


# ---------------------------------------------------------------- what travels beside the form


def _letter_page(title: str, lines: list[str], unit: str, stamped: bool, size: tuple[int, int] = (1240, 1754)):
    """A printed page: a title, lines of text, the unit and date at the foot, its seal over them."""
    from PIL import Image, ImageDraw

    from testing.builders.seals import font

    page = Image.new("RGB", size, (250, 250, 248))
    draw = ImageDraw.Draw(page)
    width = size[0]
    draw.text((width // 2, 180), title, fill=(20, 20, 20), font=font(64), anchor="mm")
    y = 320
    for line in lines:
        draw.text((150, y), line, fill=(25, 25, 25), font=font(34))
        y += 62
    draw.text((width - 620, y + 120), unit, fill=(25, 25, 25), font=font(34))
    draw.text((width - 560, y + 190), "2017年4月10日", fill=(25, 25, 25), font=font(34))
    if stamped:
        stamp = Image.open(io.BytesIO(stamp_png(unit))).convert("RGBA").resize((300, 300))
        page.paste(stamp, (width - 600, y + 20), stamp)
    return page


def cover_letter_jpeg(values: FormValues = FormValues(), stamped: bool = True, title: str = "推  荐  函") -> bytes:
    """The stamped letter (推荐函) a unit sends with its forms, photographed or scanned: no form, no table."""
    lines = ["重庆市总工会：",
             f"　　经{values.recommending_unit}研究，现推荐{values.name}同志参加2017年度",
             "“巴渝工匠”评选活动，其推荐表、事迹材料及照片附后，",
             "请予审核。", "", "　　特此函告。"]
    page = _letter_page(title, lines, values.recommending_unit, stamped)
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def envelope_jpeg(values: FormValues = FormValues()) -> bytes:
    """The envelope the paper copy went in, photographed: the office's address, the unit's seal."""
    lines = ["寄：重庆市渝中区中山三路131号", "重庆市总工会 经济技术部 收", "", "内装：“巴渝工匠”推荐材料"]
    page = _letter_page("信  封", lines, values.recommending_unit, True, size=(1600, 900))
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def letterhead_logo_png(size: int = 240) -> bytes:
    """A company's round red logo, as letterheads print it: a ring, a star, no unit name around it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, size - 8, size - 8), outline=(210, 30, 35, 255), width=size // 14)
    centre, radius = size / 2, size / 4
    points = []
    import math

    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.4
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((centre + r * math.cos(angle), centre + r * math.sin(angle)))
    draw.polygon(points, fill=(210, 30, 35, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def letterhead_form_docx(values: FormValues = FormValues(), company: str = "重庆长安汽车股份有限公司",
                         stamped: bool | None = None) -> bytes:
    """The form typed on the company's letterhead: its red round logo and name in the page header."""
    from docx.shared import Cm

    document = Document(io.BytesIO(bayu_form_docx(values, stamped=stamped)))
    header = document.sections[0].header.paragraphs[0]
    header.add_run().add_picture(io.BytesIO(letterhead_logo_png()), width=Cm(1.6))
    header.add_run(f"  {company}")
    return _save(document)
