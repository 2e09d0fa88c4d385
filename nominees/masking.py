"""Personal data as logs, replies and command output show it (CONTRACT §5)."""

from __future__ import annotations

import re

from core.inert import one_line

_LONG_NUMBER = re.compile(r"\d{7,}")
_ID_NUMBER = re.compile(r"\d{17}[\dXx]")


def mask_id_number(value: str) -> str:
    """500103********123X: region and the last four stay, the birth date goes."""
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(number: str) -> str:
    """138****5678; a landline keeps its area code and last four (023****0109)."""
    if len(number) <= 4:
        return "*" * len(number)
    keep_head = 3 if len(number) >= 11 else max(len(number) - 8, 0)
    return number[:keep_head] + "*" * (len(number) - keep_head - 4) + number[-4:]


def mask_numbers_in(text: str) -> str:
    """Every ID number and every run of 7+ digits in free text, masked."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    return _LONG_NUMBER.sub(lambda m: mask_phone(m.group(0)), text)


def masked_line(text: str | None, width: int | None = None) -> str:
    """Text from mail as one line shows it wherever people read it (a terminal, a log, a reply):
    inert (core/inert.py), cut to `width`, personal numbers masked (CONTRACT §5)."""
    return mask_numbers_in(one_line(text)[:width])
