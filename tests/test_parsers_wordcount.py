"""Word's 字数 as CONTRACT §3 states it, checked against strings counted by hand."""

import pytest

from parsers.docx import read_docx
from parsers.wordcount import count_chars
from testing.builders.forms import prose, writeup_docx


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("张三", 2),
        ("张三，男。", 5),  # 张 三 ， 男 。
        ("2017年", 2),  # 2017 年
        ("2017年4月30日24:00", 9),  # 2017 年 4 月 30 日 24 : 00
        ("获得CNC技能大赛一等奖", 10),  # 获 得 CNC 技 能 大 赛 一 等 奖
        ("hello world", 2),
        ("hello, world!", 4),  # hello , world !
        ("COVID-19", 3),  # COVID - 19
        ("ＡＢＣ１２３", 1),  # one full-width run
        ("Ｅ－ｍａｉｌ：ａ＠ｂ．ｃｎ", 9),  # Ｅ － ｍａｉｌ ： ａ ＠ ｂ ． ｃｎ
        ("“巴渝工匠”", 6),  # “ 巴 渝 工 匠 ”
        ("☑组织推荐 ☐社会举荐", 10),
        ("第1名，共10人。", 8),  # 第 1 名 ， 共 10 人 。
        ("  \t\n\u3000", 0),  # white space, the ideographic space too
        ("\u200b\ufeff\u00ad", 0),  # zero-width space, BOM, soft hyphen
        ("✔️", 1),  # the emoji variation selector adds nothing
        ("café", 1),
        ("cafe\u0301", 1),  # e + combining acute is still one run
        ("한국어 カタカナ", 7),  # hangul and kana count per character
        ("𠀀𪚥", 2),  # CJK extension B, outside the BMP
    ],
)
def test_hand_counted(text, expected):
    assert count_chars(text) == expected


def test_prose_builder_is_one_unit_per_character():
    text = prose(1500)
    assert len(text) == 1500
    assert count_chars(text) == 1500


@pytest.mark.parametrize("chars", [1499, 1500, 1501])
def test_writeup_around_the_1500_limit(chars):
    """The count of a real .docx write-up: title and body, not its header or footer."""
    content = read_docx(writeup_docx(chars))
    assert count_chars(content.text) == chars


def test_tables_count_and_white_space_between_cells_does_not():
    assert count_chars("姓名\t张三\n性别\t男") == 7
