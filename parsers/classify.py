"""Say what a document is: the recommendation form, a write-up, a document of photos, or other."""

from __future__ import annotations

import re

from parsers.types import DocumentContent, Kind, Table
from parsers.wordcount import count_chars

HEADING_LINES = 3  # a title may follow 附件1 and stand over a subtitle
HEADING_CHARS = 40  # a longer paragraph is text, not a heading
GENERIC_FORM_TITLE = re.compile(r"推荐表|申报表|推荐人选|登记表|审批表")
FORM_NAME = re.compile(r"推荐表|申报表|登记表|审批表")
WRITEUP_TITLE = re.compile(r"事迹材料|先进事迹|事迹简介|主要事迹|个人事迹|典型事迹|事迹")
# what comes beside the form and is not it: a unit's cover letter, an envelope (CONTRACT §3)
LETTER_TITLE = re.compile(r"推荐函|推荐信|介绍信|公函|函告|信封")
PHOTO_NAME = re.compile(r"照片|工作照|生活照|相片|图片|合影")
WRITEUP_PROSE_CHARS = (400, 8000)  # a cover letter (推荐函) is shorter; a 事迹材料 runs 800–1500
HAN = re.compile(r"[\u4e00-\u9fff]")
# distinct fields that make a document the form without a title: 4 with name and gender, or 6
# with name (a tender document in the corpus has 姓名, 职务, 职称, 单位名称 and 联系电话)
FORM_LABELS = (4, 6)
NAME_ONLY_SCORE = 0.3  # a document called 推荐表 that does not read as one: a candidate still


def classify(
    filename: str, content: DocumentContent | None, fields: dict, form_keywords: tuple[str, ...]
) -> tuple[Kind, float]:
    """(kind, form score 0..1). Content decides first; the file name only helps.

    `fields` are extract_fields' result for the content (labels found, values or "").
    """
    stem = filename.rsplit(".", 1)[0]
    if content is None:
        return _by_name(stem), NAME_ONLY_SCORE if FORM_NAME.search(stem) else 0.0
    score = form_score(stem, content, fields, form_keywords)
    title = heading(content)
    if _reads_as_form(title, fields, form_keywords):
        return "form", score
    if PHOTO_NAME.search(stem) and content.image_count > 0:
        return "photo_document", score
    if WRITEUP_TITLE.search(title) or WRITEUP_TITLE.search(stem):
        return "writeup", score
    if FORM_NAME.search(stem):
        return "form", max(score, NAME_ONLY_SCORE)
    if len(fields) <= 2 and _chinese_prose(content.text):
        return "writeup", score
    return "other", score


def _chinese_prose(text: str) -> bool:
    """Long enough to be a 事迹材料 and mostly Chinese (an English report is not one)."""
    low, high = WRITEUP_PROSE_CHARS
    if not low <= len(text) <= 4 * high:  # no need to count a book
        return False
    units = count_chars(text)
    return low <= units <= high and len(HAN.findall(text)) >= units * 0.6


def form_score(stem: str, content: DocumentContent, fields: dict, form_keywords: tuple[str, ...]) -> float:
    """How strongly a document says it is the form: its title, its labels, a little its name."""
    title = heading(content)
    score = 0.0
    if form_keywords and all(keyword in title for keyword in form_keywords):
        score += 0.5
    elif GENERIC_FORM_TITLE.search(title):
        score += 0.35
    labels = min(len(fields), 8) / 8
    score += 0.5 * labels if "name" in fields else 0.25 * labels
    if FORM_NAME.search(stem):
        score += 0.1
    return round(min(score, 1.0), 3)


def _reads_as_form(title: str, fields: dict, form_keywords: tuple[str, ...]) -> bool:
    if form_keywords and all(keyword in title for keyword in form_keywords):
        return True
    with_gender, without = FORM_LABELS
    enough_labels = "name" in fields and (
        len(fields) >= without or (len(fields) >= with_gender and "gender" in fields)
    )
    return enough_labels or (GENERIC_FORM_TITLE.search(title) is not None and len(fields) >= 2)


def heading(content: DocumentContent) -> str:
    """The short lines a document opens with, where its title stands (spaces removed).

    Only the opening counts: a cover letter that mentions 推荐表 in its text is no form.
    A title typed into the first row of the table counts too.
    """
    lines: list[str] = []
    for block in content.blocks[:HEADING_LINES]:
        if isinstance(block, Table):
            first = block.rows[0] if block.rows else ()
            if len(first) == 1 and len(first[0]) <= HEADING_CHARS:
                lines.append(first[0])
            break
        if len(block) > HEADING_CHARS:
            break
        lines.append(block)
    return re.sub(r"\s+", "", "".join(lines))


def _by_name(stem: str) -> Kind:
    """For a file we could not read: what its name says it is."""
    if FORM_NAME.search(stem):
        return "form"
    if WRITEUP_TITLE.search(stem):
        return "writeup"
    return "other"
