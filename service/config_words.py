"""The config file's mistakes in plain Chinese: which key, what is wrong, and for a typo the key meant.

pydantic says "Extra inputs are not permitted" for a misspelt key; an office's IT person needs
`mailbox.hots` 不是可用的设置项，您是不是想写 `mailbox.host`？ The known keys are walked from the
models themselves (the same walk tests/test_docs.py makes), so a new key is suggested with no list
kept by hand.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import get_args

from pydantic import BaseModel, ValidationError

# pydantic's error types, said for people; {key} and {input} and the error's ctx are filled in
_SAID = {
    "missing": "缺少 `{key}`",
    "int_parsing": "`{key}` 应为整数，现在是 {input!r}",
    "int_type": "`{key}` 应为整数，现在是 {input!r}",
    "float_parsing": "`{key}` 应为数字，现在是 {input!r}",
    "float_type": "`{key}` 应为数字，现在是 {input!r}",
    "bool_parsing": "`{key}` 应为 true 或 false，现在是 {input!r}",
    "bool_type": "`{key}` 应为 true 或 false，现在是 {input!r}",
    "string_type": "`{key}` 应为用引号括起来的文字，现在是 {input!r}",
    "string_pattern_mismatch": "`{key}` 的格式不对：{input!r}（时间请写成 \"08:00\" 这样）",
    "greater_than": "`{key}` 应大于 {gt}，现在是 {input!r}",
    "greater_than_equal": "`{key}` 应不小于 {ge}，现在是 {input!r}",
    "less_than_equal": "`{key}` 应不大于 {le}，现在是 {input!r}",
    "literal_error": "`{key}` 只能是 {expected}，现在是 {input!r}",
    "union_tag_invalid": "`{key}.kind` 只能是 {expected_tags}，现在是 {tag!r}",
    "dict_type": "`{key}` 应为一节设置（[{key}]），现在是 {input!r}",
    "model_type": "`{key}` 应为一节设置（[{key}]），现在是 {input!r}",
    "tuple_type": "`{key}` 应为列表，如 [\"a\", \"b\"]，现在是 {input!r}",
}


def known_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every dotted key the config accepts (sections of a union, such as the mail sources, merged)."""
    keys = set()
    for name, field in model.model_fields.items():
        sections = _sections(field.annotation)
        keys.add(f"{prefix}{name}")
        # a table of named entries ([mailboxes.<name>]): its entries' keys under `*`
        inner = f"{prefix}{name}.*." if getattr(field.annotation, "__origin__", None) is dict else f"{prefix}{name}."
        for section in sections:
            keys |= known_keys(section, inner)
    return keys


def _sections(annotation) -> list:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [a for arg in get_args(annotation) for a in _sections(arg)]


def _key(location: tuple, tags: set[str]) -> str:
    # a discriminated union puts its tag in the location (mailbox.imap.host): staff write mailbox.host
    return ".".join(str(part) for part in location if str(part) not in tags)


def did_you_mean(key: str, known: set[str]) -> str:
    """'，您是不是想写 `mailbox.host`？' for a close key, else ''."""
    siblings = {k for k in known if k.rsplit(".", 1)[0] == key.rsplit(".", 1)[0]} if "." in key else known
    found = difflib.get_close_matches(key, sorted(siblings or known), n=1, cutoff=0.6)
    found = found or difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    return f"，您是不是想写 `{found[0]}`？" if found else ""


def problem_words(error: dict, known: set[str], prefix: str = "") -> str:
    tags = {"imap", "maildir"}
    key = prefix + _key(error["loc"], tags)
    if error["type"] == "extra_forbidden":
        parts = key.split(".")
        named = len(parts) > 2 and f"{parts[0]}.*" in {k.rsplit(".", 2)[0] for k in known if ".*." in k}
        pattern = ".".join([parts[0], "*", *parts[2:]]) if named else key
        hint = did_you_mean(pattern, known).replace(".*.", f".{parts[1]}.") if named else did_you_mean(key, known)
        return f"`{key}` 不是可用的设置项{hint or '（README 的配置表列出全部设置项）'}"
    template = _SAID.get(error["type"])
    values = {"key": key, "input": error.get("input"), **(error.get("ctx") or {})}
    if template is not None:
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            pass
    message = error["msg"].removeprefix("Value error, ")
    return f"`{key}`：{message}" if key else message


def explain(path: Path, error: ValidationError, prefix: str = "") -> str:
    """One line per problem, the file named once: what is wrong and what to write instead."""
    from service.config import Config

    known = known_keys(Config)
    lines = [problem_words(e, known, prefix) for e in error.errors()]
    if len(lines) == 1:
        return f"配置文件 {path} 有误：{lines[0]}"
    return f"配置文件 {path} 有误：\n" + "\n".join(f"  - {line}" for line in lines)


def unknown_campaign(error: Exception) -> str:
    """A ProfileError about a campaign that is not there, with the known ones and the closest."""
    import re

    import campaigns

    text = str(error)
    wanted = re.search(r"评选活动 '([^']+)'", text)
    if wanted is None or "没有找到" not in text:
        return text
    known = campaigns.available()
    close = difflib.get_close_matches(wanted[1], known, n=1, cutoff=0.6)
    hint = f"您是不是想写 {close[0]}？" if close else ""
    return (f"没有评选活动 {wanted[1]}（campaign）。{hint}可用的评选活动：{'、'.join(known)}"
            f"（新的活动放在 profile_path 或 INTAKE_PROFILE_PATH 的文件夹中）")
