"""The campaign's blank 推荐表/申报表 as .docx, laid out the way our form reader reads best.

The labels are CONTRACT §2's first wording of each field, every label in its own cell with
the value cell to its right, and the profile's channels as ☐ options in one cell. The same
labels head the columns of the staff export (`staff.export`), so the form, the records and
the spreadsheet speak the same words.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from campaigns.schema import FIELD_NAMES, Profile

# field → the label the form prints (CONTRACT §2, first wording; all are in parsers.fields.LABELS)
FORM_LABELS: dict[str, str] = {
    "name": "姓名",
    "gender": "性别",
    "birth": "出生年月",
    "ethnicity": "民族",
    "politics": "政治面貌",
    "education": "文化程度",
    "id_number": "身份证号码",
    "phone": "联系电话",
    "employer": "工作单位",
    "position": "岗位/工种",
    "skill_level": "技术等级",
    "years": "从业年限",
    "channel": "推荐方式",
    "frontline": "是否一线职工",
    "unit_category": "推荐单位类别",
    "recommending_unit": "推荐单位",
    "deeds": "主要事迹",
    "honors": "获奖情况",
    "unit_opinion": "推荐单位意见",
}
# rows of the form: two short fields side by side, or one across the width
LAYOUT: tuple[tuple[str, ...], ...] = (
    ("name", "gender"),
    ("birth", "ethnicity"),
    ("politics", "education"),
    ("id_number",),
    ("phone", "years"),
    ("employer",),
    ("position", "skill_level"),
    ("channel",),
    ("frontline",),
    ("unit_category",),
    ("recommending_unit",),
    ("deeds",),
    ("honors",),
    ("unit_opinion",),
)
UNCHECKED = "☐"
LONG_ROWS = {"deeds": 12, "honors": 4, "unit_opinion": 4}  # blank lines left for writing
WIDTHS = (Cm(3.0), Cm(5.0), Cm(3.0), Cm(5.0))
EAST_ASIAN_FONT = "宋体"

assert set(FORM_LABELS) == set(FIELD_NAMES)


def form_fields(profile: Profile) -> tuple[str, ...]:
    """The fields this campaign's form asks for, in form order.

    Every field of CONTRACT §2, except 是否一线职工 and 推荐单位类别 where the campaign
    neither requires them nor counts by them (Wuhan's 70% front-line rule and unit quotas).
    """
    selection = profile.selection
    wanted = set(FIELD_NAMES)
    if "frontline" not in profile.form.required_fields and selection.frontline_min_share is None:
        wanted.discard("frontline")
    if "unit_category" not in profile.form.required_fields and not selection.unit_quotas:
        wanted.discard("unit_category")
    return tuple(name for name in FIELD_NAMES if name in wanted)


def options(profile: Profile, field: str) -> tuple[str, ...]:
    """The printed options of a ☐ field; () for a field written in."""
    if field == "channel":
        return tuple(channel.label for channel in profile.channels)
    if field == "unit_category" and profile.selection.unit_quotas:
        return (*(quota.category for quota in profile.selection.unit_quotas), "其他")
    return ()


def options_text(choices: tuple[str, ...]) -> str:
    return "  ".join(f"{UNCHECKED}{choice}" for choice in choices)


def _label(profile: Profile, field: str) -> str:
    label = FORM_LABELS[field]
    if field == "deeds" and profile.writeup.max_chars:
        return f"{label}（{profile.writeup.max_chars}字以内）"
    if field == "frontline":
        # written in, not ☐是 ☐否: a row of unticked boxes still reads as an answer today, so a
        # required 是否一线职工 left blank would not be found missing
        return f"{label}（填是或否）"
    return label


def _placeholder(field: str) -> str:
    if field == "unit_opinion":
        return "\n" * (LONG_ROWS[field] - 2) + "（盖章）\n年    月    日"
    return "\n" * (LONG_ROWS.get(field, 1) - 1)


def _write(cell, text: str, bold: bool = False, center: bool = False) -> None:
    lines = text.split("\n")
    paragraph = cell.paragraphs[0]
    for number, line in enumerate(lines):
        if number:
            paragraph = cell.add_paragraph()
        if line:
            paragraph.add_run(line).bold = bold
        if center:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _east_asian_font(document) -> None:
    style = document.styles["Normal"]
    style.font.size = Pt(11)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)


def _rows(fields: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The layout with the fields this campaign leaves out taken away."""
    rows = []
    for row in LAYOUT:
        kept = tuple(field for field in row if field in fields)
        if kept:
            rows.append(kept)
    return rows


def blank_form(profile: Profile) -> bytes:
    """The campaign's blank form as .docx bytes."""
    document = Document()
    _east_asian_font(document)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    document.add_paragraph("附件")
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(profile.form.title)
    run.bold, run.font.size = True, Pt(18)

    rows = _rows(form_fields(profile))
    table = document.add_table(rows=len(rows), cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, fields in enumerate(rows):
        cells = table.rows[r].cells
        for k, width in enumerate(WIDTHS):
            cells[k].width = width
        if len(fields) == 2:
            for k, field in enumerate(fields):
                _write(cells[2 * k], _label(profile, field), bold=True, center=True)
        else:
            field = fields[0]
            _write(cells[0], _label(profile, field), bold=True, center=True)
            value = cells[1].merge(cells[3])
            choices = options(profile, field)
            _write(value, options_text(choices) if choices else _placeholder(field))

    note = document.add_paragraph()
    note.add_run("填表说明：选项请将“☐”改为“☑”（或在选项后打“√”）；电子版请保持.docx格式发送，"
                 "不要另存为图片。").font.size = Pt(9)
    if profile.paper_copy.required:
        document.add_paragraph().add_run(profile.paper_copy.instructions).font.size = Pt(9)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def form_word(profile: Profile) -> str:
    """What the campaign calls its form: 推荐表, or 申报表 for Wuhan."""
    return "申报表" if "申报表" in profile.form.title else "推荐表"


def default_filename(profile: Profile) -> str:
    """推荐表 or 申报表, after the campaign's own word for it."""
    return f"{profile.id}-{form_word(profile)}.docx"
