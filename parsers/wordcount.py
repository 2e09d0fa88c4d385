"""Count a write-up's length as Word's 字数 does (CONTRACT §3, WRITEUP_TOO_LONG)."""

from __future__ import annotations

import re

# Characters counted one by one: Han (with extensions, compatibility forms and radicals),
# kana, hangul and bopomofo.
_CJK = (
    "\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003ffff"
)
# combining marks belong to the letter before them (e + ◌́ is one é)
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
# invisible: format characters (zero-width space, joiners, BOM, soft hyphen), variation
# selectors (the emoji one in ✔️), controls, and marks with no letter before them
_INVISIBLE = f"\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff\x00-\x1f\x7f-\x9f{_MARKS}"

# one token per counted unit: a CJK character; a run of letters/digits (Latin, full-width,
# any other alphabet); any other visible character, i.e. a punctuation mark or a symbol
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}](?:[^\W_{_CJK}]|[{_MARKS}])*|[^\s{_INVISIBLE}]")


def count_chars(text: str) -> int:
    """Each CJK character and each punctuation mark is 1, each letter/digit run is 1, spaces 0.

    `2017年` is 2 ("2017" and 年); `COVID-19` is 3; full-width ＡＢＣ１２３ is one run.
    """
    return len(_TOKEN.findall(text))
