"""Rules about the nominee's identity card number and phone: well-formed where present."""

from __future__ import annotations

import re
from datetime import date

from campaigns.schema import Profile
from nominees.masking import mask_id_number, mask_phone
from nominees.types import Nominee
from validators.findings import Finding, finding

# GB 11643-1999: weights of the first 17 digits, and the check character for sum mod 11
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"(0\d{2,3})?[2-9]\d{6,7}(#\d{1,6})?")  # local numbers never start with 0 or 1


def id_number_problem(value: str, on: date) -> str | None:
    """Why an ID number is invalid ("length", "format", "birth_date", "check_digit"), or None."""
    if len(value) != 18:
        return "length"
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return "format"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "birth_date"
    if born.year < 1900 or born > on:
        return "birth_date"
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _WEIGHTS))
    return None if _CHECK[total % 11] == value[17] else "check_digit"


def id_number_valid(nominee: Nominee, profile: Profile) -> list[Finding]:
    value = nominee.fields.get("id_number")
    if not value:
        return []
    # a birth date after the campaign's deadline cannot be real
    problem = id_number_problem(value, profile.deadline.date())
    if problem is None:
        return []
    return [finding("ID_NUMBER_INVALID", nominee.index, severity=_by_source(nominee, "id_number"),
                    detail={"field": "id_number", "reason": problem, "source": _source(nominee, "id_number")},
                    reason=problem, masked=mask_id_number(value))]


def _source(nominee: Nominee, field: str) -> str | None:
    """"ocr" when the value was read from a scan: it may be OCR's mistake, not the sender's."""
    return "ocr" if nominee.field_sources.get(field) == "ocr" else None


def _by_source(nominee: Nominee, field: str) -> str | None:
    return "review" if _source(nominee, field) else None


def is_valid_phone(number: str) -> bool:
    return bool(_MOBILE.fullmatch(number) or _LANDLINE.fullmatch(number))


def phone_valid(nominee: Nominee, profile: Profile) -> list[Finding]:
    """A cell with several numbers passes when one of them is valid."""
    raw = nominee.fields.get("phone")
    if not raw:
        return []
    if any(is_valid_phone(number) for number in nominee.phone_numbers):
        return []
    shown = mask_phone(re.sub(r"\D", "", raw)) if re.sub(r"\D", "", raw) else "（无号码）"
    return [finding("PHONE_INVALID", nominee.index, severity=_by_source(nominee, "phone"),
                    detail={"field": "phone", "source": _source(nominee, "phone")}, masked=shown)]
