"""Form values as rules expect them: NFKC, trimmed, phones split, the chosen channel found."""

from __future__ import annotations

import re
import unicodedata

from campaigns.schema import Channel

# Marks people use for "this option is chosen"; ☐ □ and friends are the unchosen ones.
CHECK_MARKS = "☑☒■√✓✔✅▇◼●◉▣"
_CHECK = f"[{CHECK_MARKS}]\ufe0f?"
_BOX = "[☐□◻○◯]"


def clean_text(value: str) -> str:
    """NFKC (full-width digits and letters to ASCII), whitespace folded, edges trimmed."""
    text = unicodedata.normalize("NFKC", value)
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
    """`☐男 ☐女`: the options are printed, none is ticked — no answer, not the text."""
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


def chosen_options(text: str) -> list[str]:
    """The options marked as chosen in `☑组织推荐 ☐社会举荐` (or `组织推荐√ 社会举荐`)."""
    before = re.findall(rf"{_CHECK}\s*([^\s{CHECK_MARKS}☐□◻○◯]+)", text)
    if before:
        return before
    return re.findall(rf"([^\s{CHECK_MARKS}☐□◻○◯]+?)\s*{_CHECK}", text)


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
