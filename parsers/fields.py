"""Read the recommendation form's fields: labels (CONTRACT §2) and the values written beside them."""

from __future__ import annotations

import re
from typing import Iterator

from parsers.types import CHECKED, UNCHECKED, DocumentContent, Table

# label as printed (spacing and punctuation removed) → field name. CONTRACT §2's labels, and a
# few more wordings of the same question seen on forms (marked "also").
LABELS: dict[str, str] = {
    "姓名": "name",
    "性别": "gender",
    "出生年月": "birth", "出生日期": "birth", "出生年月日": "birth",  # also
    "民族": "ethnicity",
    "政治面貌": "politics",
    "文化程度": "education", "学历": "education",
    "身份证号": "id_number", "身份证号码": "id_number", "公民身份号码": "id_number",
    "公民身份证号码": "id_number", "身份证件号码": "id_number",  # also
    "联系电话": "phone", "手机": "phone", "手机号码": "phone", "联系方式": "phone",
    "手机号": "phone", "移动电话": "phone", "联系手机": "phone",  # also
    "工作单位": "employer", "单位名称": "employer", "所在单位": "employer",
    "现工作单位": "employer", "工作单位名称": "employer",  # also
    "岗位": "position", "职务": "position", "工种": "position", "从事职业": "position",
    "岗位/工种": "position",
    "技术等级": "skill_level", "技能等级": "skill_level", "职称": "skill_level",
    "从业年限": "years", "工作年限": "years", "从事本职业年限": "years",
    "推荐方式": "channel", "推荐类型": "channel", "申报方式": "channel",
    "是否一线职工": "frontline", "是否为一线职工": "frontline",  # also
    "推荐单位类别": "unit_category",
    "推荐单位": "recommending_unit", "推荐单位名称": "recommending_unit",  # also
    "主要事迹": "deeds", "事迹简介": "deeds", "主要事迹简介": "deeds",
    "获奖情况": "honors", "所获荣誉": "honors", "曾获荣誉": "honors",
    "推荐单位意见": "unit_opinion", "所在单位意见": "unit_opinion",
}
# labels of things we do not read: a cell holding one is still never someone's value
OTHER_LABELS = frozenset({
    "照片", "相片", "近期免冠照片", "一寸照片", "籍贯", "联系人", "通讯地址", "家庭住址", "邮编",
    "邮政编码", "电子邮箱", "邮箱", "备注", "序号", "个人简历", "工作简历", "主要简历", "签字", "盖章",
    "填表日期", "填报日期", "填表人", "填报人", "签名",
    # the foot of the Wuhan form and its kin: 推荐单位（盖章）：…　　填表时间：2018年8月
    "填表时间", "填报时间", "申报时间", "推荐时间", "审核人", "经办人",
})
# fields whose value runs over several lines or paragraphs
LONG_FIELDS = frozenset({"deeds", "honors", "unit_opinion"})
# fields written in digits, whose boxes forms group (6 + 8 + 4 for an ID number)
DIGIT_FIELDS = frozenset({"id_number", "phone"})
_DIGIT_GROUP = re.compile(r"\s*[0-9０-９Xx]{0,8}\s*")
# fields answered by marking one of printed options, which may stand one per cell
OPTION_FIELDS = frozenset({"channel", "gender", "frontline", "unit_category"})

_SPACE = r"[^\S\n]"  # white space within a line; a class naming U+3000 costs 25 ms to compile
_NOTE = re.compile(r"[（(][^）)]*[）)]")  # （盖章） （请在□内打√） after a label
_LABEL_JUNK = re.compile(r"[\s:：*＊]")
# a label in running text, spaced or not; longest first so 推荐单位意见 wins over 推荐单位.
# Labels we do not read are there too: 填表日期： ends the value before it.
_LABEL_ALTERNATION = "|".join(
    f"{_SPACE}*".join(re.escape(ch) for ch in label)
    for label in sorted({*LABELS, *OTHER_LABELS}, key=len, reverse=True)
)
_INLINE_LABEL = re.compile(
    r"(?<![^\s，,；;。、.．)）】|:：])"  # at the start, or after a space or a separator
    rf"(?P<label>{_LABEL_ALTERNATION})"
    rf"{_SPACE}*(?:[（(][^）)\n]{{0,20}}[）)])?"  # 推荐单位（盖章）
    rf"{_SPACE}*(?P<colon>[:：])?"
)
_PLACEHOLDER = re.compile(r"[\s（()）:：_盖章签字年月日公章]*")  # （盖章） 年 月 日: nothing written
_OPTION_WORDS = re.compile(r"推荐|举荐|自荐|选拔")
# a label we know with its colon, glued to the value before it: `…总工会填表日期：`, `…公司岗位：`
_KNOWN_LABEL_COLON = re.compile(
    rf"(?P<label>{_LABEL_ALTERNATION}){_SPACE}*(?:[（(][^）)\n]{{0,20}}[）)])?{_SPACE}*(?P<colon>[:：])"
)
_BRACKETED_MARK = re.compile(r"[（(][^\S\n]*[√✓✔☑■]?[^\S\n]*[）)]")
# a label we do not know, after a gap: `武汉市江岸区总工会　　填表时间：2018年8月` ends at the gap
_UNKNOWN_LABEL = re.compile(
    rf"(?:{_SPACE}{{2,}}|[\t\u3000])[\u4e00-\u9fff]{{2,8}}(?:[（(][^）)\n]{{0,10}}[）)])?{_SPACE}*[:：]"
)


def label_field(cell: str) -> str | None:
    """The field a table cell labels, if the cell is exactly a label."""
    return LABELS.get(_label_key(cell))


def is_label(cell: str) -> bool:
    key = _label_key(cell)
    return key in LABELS or key in OTHER_LABELS


def _label_key(cell: str) -> str:
    return _LABEL_JUNK.sub("", _NOTE.sub("", cell)).replace("／", "/")


def extract_fields(content: DocumentContent) -> dict[str, str]:
    """Field name → raw value, for every label found.

    A label found with nothing written beside it gives "" (so a blank form still shows its
    labels); a field whose label is absent is left out. The first value written wins; a blank
    one is replaced by a later one. Values are only stripped of white space, colons and
    fill-in underscores.
    """
    fields: dict[str, str] = {}
    for field, value in _pairs(content):
        value = value.strip(" \t\r\n\u3000\xa0:：_")
        if field not in fields or (_is_blank(fields[field]) and not _is_blank(value)):
            fields[field] = value
    if "channel" not in fields:
        channel = _unlabelled_channel(content.text)
        if channel:
            fields["channel"] = channel
    return fields


def _is_blank(value: str) -> bool:
    return _PLACEHOLDER.fullmatch(value) is not None


def _pairs(content: DocumentContent) -> Iterator[tuple[str, str]]:
    """(field, value) in document order: tables cell by cell, paragraphs line by line."""
    paragraphs: list[str] = []
    for block in content.blocks:
        if isinstance(block, Table):
            yield from text_pairs("\n".join(paragraphs))
            paragraphs = []
            yield from table_pairs(block)
        else:
            paragraphs.append(block)
    yield from text_pairs("\n".join(paragraphs))


def table_pairs(table: Table) -> Iterator[tuple[str, str]]:
    """A label cell's value is the cell to its right, else the cell under it."""
    for r, row in enumerate(table.rows):
        for i, cell in enumerate(row):
            field = label_field(cell)
            if field is None:
                if not is_label(cell):
                    yield from text_pairs(cell)  # 姓名：张三 in one cell
                continue
            right = list(row[i + 1:])
            if right and not is_label(right[0]):
                yield field, _right_value(field, right)
            elif all(is_label(c) or not c.strip() for c in row):  # a row of headings
                yield field, _value_below(table, r, i)
            else:
                yield field, ""


def _right_value(field: str, right: list[str]) -> str:
    """The cells right of a label up to the next label: the first, or all of them joined where
    they hold one character each (an ID number one digit per box) or the options one per cell
    (☑组织推荐 | ☐社会举荐 | ☐个人自荐)."""
    cells = []
    for cell in right:
        if is_label(cell):
            break
        cells.append(cell)
    if len(cells) >= 2 and all(len(cell.strip()) <= 1 for cell in cells):
        return "".join(cell.strip() for cell in cells)
    if field in DIGIT_FIELDS and len(cells) >= 2 and all(_DIGIT_GROUP.fullmatch(cell) for cell in cells):
        return "".join(cell.strip() for cell in cells)  # 500103 | 19800512 | 1234: boxes in groups
    if field in OPTION_FIELDS:
        return " ".join(option for option in cells if option.strip())
    return _until_unknown_label(field, right[0])


def _until_unknown_label(field: str, value: str) -> str:
    """A short value ends where another label begins: one we do not read after a gap
    (`…总工会　　填表时间：…`), or one we know with its colon, gap or not (`…总工会填表日期：…`)."""
    if field in LONG_FIELDS:
        return value
    cuts = [m.start() for m in (_UNKNOWN_LABEL.search(value), _KNOWN_LABEL_COLON.search(value)) if m]
    return value[: min(cuts)] if cuts else value


def _value_below(table: Table, r: int, i: int) -> str:
    """The cell under a label in a row of labels (主要事迹 across the table, its text below)."""
    if r + 1 >= len(table.rows):
        return ""
    below = table.rows[r + 1]
    if table.columns:
        start = table.columns[r][i]
        matches = [k for k, column in enumerate(table.columns[r + 1]) if column == start]
        index = matches[0] if matches else None
    else:
        index = i if i < len(below) else None
    if index is None or is_label(below[index]):
        return ""
    return below[index]


def text_pairs(text: str) -> Iterator[tuple[str, str]]:
    """Pairs typed as text: `姓名：张三    性别：男`, a label alone on a line and its value after."""
    lines = text.split("\n")
    hits = [_line_hits(line) for line in lines]
    for n, line in enumerate(lines):
        for k, hit in enumerate(hits[n]):
            end = hits[n][k + 1].start() if k + 1 < len(hits[n]) else len(line)
            field = LABELS.get(_label_key(hit.group("label")))
            if field is None:
                continue
            value = _until_unknown_label(field, line[hit.end():end]).strip()
            if k + 1 == len(hits[n]):
                value = _continue(field, value, lines[n + 1:], hits[n + 1:])
            yield field, value


def _line_hits(line: str) -> list[re.Match]:
    """Labels on a line: followed by a colon, or by a space when they lead the line or a
    second label confirms the line is a row of pairs (`姓名 张三 性别 男`, a PDF's table)."""
    found = [m for m in _INLINE_LABEL.finditer(line)]
    spaced = [
        m for m in found
        if m.group("colon") is None
        and _followed_by_space(line, m.end())
        and _label_key(m.group("label")) in LABELS
    ]
    with_colon = [m for m in found if m.group("colon") is not None]
    keep = set(with_colon)
    if spaced and (len(found) >= 2 or not line[: spaced[0].start()].strip()):
        keep.update(spaced)
    hits = [m for m in found if m in keep]
    if not hits:
        return hits  # 他在工作单位：里表现突出: a label inside a word, no pair on the line
    # after a first label, one glued to the value before it starts a pair too (…公司岗位：数控车工)
    glued = [m for m in _KNOWN_LABEL_COLON.finditer(line, hits[0].end())
             if not any(h.start() <= m.start() < h.end() or m.start() <= h.start() < m.end() for h in found)]
    return sorted(hits + glued, key=lambda m: m.start())


def _followed_by_space(line: str, end: int) -> bool:
    return end >= len(line) or line[end - 1].isspace() or line[end].isspace()


def _continue(field: str, value: str, rest: list[str], rest_hits: list[list]) -> str:
    """A value that goes on below its label: a long field's paragraphs, or a short one's line."""
    if value and field not in LONG_FIELDS:
        return value
    taken = [value] if value else []
    for line, hits in zip(rest, rest_hits):
        if hits:
            break
        if field in LONG_FIELDS:
            taken.append(line)
        elif line.strip():  # 姓名： and 张三 on the next line, as PDFs sometimes come out
            return line.strip() if len(line.strip()) <= 40 else value
    return "\n".join(taken)


def _unlabelled_channel(text: str) -> str:
    """A row of marked options with no label before it: ☑组织推荐 ☐社会举荐 ☐个人自荐."""
    for line in text.split("\n"):
        marks = sum(line.count(mark) for mark in (CHECKED, UNCHECKED, "□", "☒", "■"))
        marks += len(_BRACKETED_MARK.findall(line))  # 组织推荐（√）　社会举荐（　）
        if marks >= 2 and _OPTION_WORDS.search(line):
            return line.strip()
    return ""
