"""Form values as rules expect them: NFKC, trimmed, phones split, the chosen channel found."""

from __future__ import annotations

import re
import unicodedata

from campaigns.schema import Channel
from core import inert

# Marks people use for "this option is chosen"; ☐ □ and friends are the unchosen ones.
CHECK_MARKS = "☑☒■√✓✔✅▇◼●◉▣"
_CHECK = f"[{CHECK_MARKS}]\ufe0f?"
_BOX = "[☐□◻○◯]"


def clean_text(value: str) -> str:
    """NFKC (full-width digits and letters to ASCII), control and bidi characters gone (a value
    stored is shown in terminals and sheets), whitespace folded, edges trimmed."""
    text = unicodedata.normalize("NFKC", inert.text(value))
    return re.sub(r"\s+", " ", text).strip(" ：:;；,，")


def clean_name(value: str) -> str:
    """Chinese names carry no inner spaces; forms pad them (`张  三`)."""
    text = clean_text(value)
    if re.fullmatch(r"[\u3400-\u9fff·•\s]+", text):
        text = re.sub(r"\s+", "", text)
    return text


def clean_id_number(value: str) -> str:
    return re.sub(r"[\s\-]", "", clean_text(value)).upper()


_PHONE_CANDIDATE = re.compile(r"[+]?[\d(（][\d\-\s()（）]{5,}\d(?:\s*(?:转|ext\.?|x|分机)\s*\d{1,6})?", re.I)


_EXTENSION = re.compile(r"(转|ext\.?|x|分机)", re.I)


def phone_candidates(value: str) -> list[str]:
    """Each number in a phone cell, without separators or the +86 prefix.

    A cell often holds several numbers (`138xxxx5678 / 023-6386 0109`); the rule passes when
    one of them is valid. An extension is kept after a `#`.
    """
    text = clean_text(value)
    numbers = []
    for match in _PHONE_CANDIDATE.finditer(text):
        main, *extension = _EXTENSION.split(match.group(0), maxsplit=1)
        digits = re.sub(r"\D", "", main)
        if main.lstrip().startswith("+86") or (digits.startswith("86") and len(digits) == 13):
            digits = digits[2:]
        elif digits.startswith("0086"):
            digits = digits[4:]
        extension_digits = re.sub(r"\D", "", extension[-1]) if extension else ""
        numbers.append(f"{digits}#{extension_digits}" if extension_digits else digits)
    return numbers


def _offered_but_unticked(text: str) -> bool:
    """`☐男 ☐女`, `是（ ）否（ ）`: the options are printed, none is ticked — no answer, not the text."""
    text = _marks_in_place(text)
    return bool(re.search(_BOX, text)) and not re.search(_CHECK, text)


def clean_gender(value: str) -> str:
    text = clean_text(value)
    if _offered_but_unticked(text):
        return ""
    chosen = chosen_options(text)
    if chosen:
        text = chosen[0]
    if text.startswith("男"):
        return "男"
    if text.startswith("女"):
        return "女"
    return text


def clean_yes_no(value: str) -> str:
    text = clean_text(value)
    if _offered_but_unticked(text):
        return ""
    chosen = chosen_options(text)
    if chosen:
        text = chosen[0]
    if text in ("是", "Y", "y", "yes", "是的"):
        return "是"
    if text in ("否", "N", "n", "no", "不是"):
        return "否"
    return text


# a mark written in brackets after its option: 组织推荐（√） 社会举荐（　）
_BRACKETED_MARK = re.compile(rf"[（(\[【]\s*({_CHECK}|{_BOX})\s*[）)\]】]")
_BRACKETED_BLANK = re.compile(r"[（(\[【]\s*[）)\]】]")
_ITEM = re.compile(rf"{_CHECK}|{_BOX}|[^\s{CHECK_MARKS}\ufe0f☐□◻○◯]+")


def _marks_in_place(text: str) -> str:
    """Bracketed marks as plain marks after their option: `是（√）否（ ）` → `是√ 否☐ `."""
    text = _BRACKETED_MARK.sub(lambda m: m.group(1) + " ", text)
    return _BRACKETED_BLANK.sub("☐ ", text)


def chosen_options(text: str) -> list[str]:
    """The options marked as chosen, the mark before its option (`☑组织推荐 ☐社会举荐`) or after
    it (`组织推荐√ 社会举荐`, `组织推荐（√）社会举荐（ ）`). A mark belongs to the option it
    touches; one that touches both or neither goes the way of the row: a row that opens with a
    mark puts each mark before its option."""
    text = _marks_in_place(text)
    items = list(_ITEM.finditer(text))
    marks = [bool(re.fullmatch(f"{_CHECK}|{_BOX}", m.group())) for m in items]
    before = bool(marks) and marks[0]
    chosen = []
    for k, item in enumerate(items):
        if not marks[k] or not re.fullmatch(_CHECK, item.group()):
            continue
        after_word = k + 1 < len(items) and not marks[k + 1]
        before_word = k > 0 and not marks[k - 1]
        touches_next = after_word and items[k + 1].start() == item.end()
        touches_previous = before_word and items[k - 1].end() == item.start()
        if touches_next != touches_previous:
            forward = touches_next
        else:
            forward = before if (after_word and before_word) else after_word
        if forward and after_word:
            chosen.append(items[k + 1].group())
        elif not forward and before_word:
            chosen.append(items[k - 1].group())
    return list(dict.fromkeys(chosen))


def _channel_words(channel: Channel) -> list[str]:
    return sorted({channel.label, *channel.aliases}, key=len, reverse=True)


def _channel_in(text: str, channels: tuple[Channel, ...]) -> list[str]:
    found = []
    for channel in channels:
        if any(word in text for word in _channel_words(channel)):
            found.append(channel.id)
    return found


def clean_choice(value: str) -> str:
    """A row of options (推荐单位类别) reduced to the ticked one; plain text as it is."""
    text = clean_text(value)
    if _offered_but_unticked(text):
        return ""
    chosen = chosen_options(text)
    return " ".join(chosen) if chosen else text


def channel_id(raw: str, channels: tuple[Channel, ...]) -> str | None:
    """The campaign channel a form chose, or None when none (or several) is chosen.

    A row that lists every option with none marked chooses nothing; a plain value
    (`组织推荐`) chooses that one.
    """
    text = clean_text(raw)
    if not text:
        return None
    if re.search(_CHECK, text):
        picked = [cid for option in chosen_options(text) for cid in _channel_in(option, channels)]
        unique = list(dict.fromkeys(picked))
        return unique[0] if len(unique) == 1 else None
    if re.search(_BOX, text):
        return None  # boxes, none ticked
    found = _channel_in(text, channels)
    return found[0] if len(found) == 1 else None


# What a unit's name ends with; 推荐单位意见 names the unit that recommends in 经…研究 or
# under its seal, and an office groups nominees by it (CONTRACT §2: the form may have no 推荐单位 cell).
_UNIT_END = ("总工会|工会委员会|工会|委员会|集团有限公司|有限责任公司|股份有限公司|有限公司|公司|集团|协会|学会|"
             "研究会|联合会|管理局|局|委|厅|办公室|办|中心|研究院|设计院|医院|学院|大学|学校|院|所|厂|站|段|队|馆|社|银行|部")
_OWN_WORDS = re.compile(r"^(我|本|该|贵)")
_GENERIC_UNIT = re.compile(r"(?:单位|公司|集团|工会|厂|局|院|所)(?:党委|党组|工会|行政|班子)?")  # 经公司党委研究
_BY_DECISION = re.compile(
    rf"经\s*(?P<unit>[^，,。；;：:\s经]{{2,40}}?(?:{_UNIT_END}))"
    r"\s*(?:党委|党组|行政|领导班子|班子|工会)?\s*(?:会议|集体)?\s*(?:研究|审核|审查|审定|讨论|评审|推荐|考核|同意)"
)
_SEAL_LABEL = re.compile(r"推荐单位\s*[（(]\s*(?:盖章|公章|签章)\s*[）)]\s*[:：]?\s*(?P<unit>[^\n]*)")
_UNIT_LINE = re.compile(rf"[\u4e00-\u9fff（）()·]{{3,40}}(?:{_UNIT_END})")
_DATE_OR_SEAL = re.compile(r"（\s*(?:盖章|公章|签章|章)\s*）|\(\s*(?:盖章|公章|签章|章)\s*\)|盖章|"
                           r"\d{2,4}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?|年\s*月\s*日|签字|负责人")


def unit_from_opinion(opinion: str) -> str:
    """The recommending unit named in 推荐单位意见: `推荐单位（盖章）：X`, `经X研究`, or a line
    that is only a unit's name (written under the seal); "" when it names none (我单位…)."""
    text = clean_text(opinion)
    labelled = _SEAL_LABEL.search(opinion)
    if labelled:
        unit = clean_unit(labelled.group("unit"))
        if unit:
            return unit
    decided = _BY_DECISION.search(text)
    if decided and not _OWN_WORDS.match(decided.group("unit")) and not _GENERIC_UNIT.fullmatch(decided.group("unit")):
        return clean_unit(decided.group("unit"))
    names = []
    for line in opinion.split("\n"):
        line = _DATE_OR_SEAL.sub(" ", clean_text(line)).strip()
        if _UNIT_LINE.fullmatch(line.replace(" ", "")) and not _OWN_WORDS.match(line):
            names.append(line.replace(" ", ""))
    return names[-1] if names else ""


# a unit written beside the next label of its line: 武汉市江岸区总工会 填表时间:2018年8月
_TRAILING_LABEL = re.compile(r"\s+[\u4e00-\u9fff]{2,8}(?:[（(][^）)]{0,10}[）)])?\s*[:：].*$")
_NO_UNIT = re.compile(r"^[（(]?(?:无|个人|个人自荐|本人|自荐|/|—+|-+)[）)]?$")


def clean_unit(value: str) -> str:
    """A recommending unit as a heading of the report: trimmed, without a label that followed it on
    its line (a unit called 填表时间 is a reading error), and "" for 无/个人/本人."""
    text = clean_text(value)
    text = _TRAILING_LABEL.sub("", text)
    if re.fullmatch(r"[\u4e00-\u9fff]{2,8}(?:[（(][^）)]{0,10}[）)])?\s*[:：].*", text):
        return ""  # the value is another label's: 填表时间:2018年8月
    text = _DATE_OR_SEAL.sub("", text).strip(" ：:;；,，")
    return "" if _NO_UNIT.match(text) else text


def recommending_unit_of(fields: dict, written: str | None = None) -> str:
    """The unit a stored nominee is reported under: its 推荐单位 cleaned, else the one its
    推荐单位意见 names (records filed before the unit was inferred); "" for none."""
    return clean_unit(written or fields.get("recommending_unit") or "") or unit_from_opinion(
        fields.get("unit_opinion") or "")
