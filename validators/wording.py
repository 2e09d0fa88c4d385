"""Chinese wording of findings, from `findings.zh.toml`, rendered with Jinja2."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template, meta

WORDING_FILE = Path(__file__).parent / "findings.zh.toml"


def duration(seconds: float | int | None) -> str:
    """262.0 → 4分22秒; 300 → 5分钟: the way the notices and people say it."""
    if seconds is None:
        return "未知时长"
    whole = int(round(float(seconds)))
    minutes, rest = divmod(whole, 60)
    if minutes and not rest:
        return f"{minutes}分钟"
    return f"{minutes}分{rest}秒" if minutes else f"{rest}秒"


@lru_cache(maxsize=1)
def _wording() -> dict[str, Any]:
    with WORDING_FILE.open("rb") as handle:
        return tomllib.load(handle)


def field_label(field_name: str) -> str:
    return _wording()["fields"].get(field_name, field_name)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Messages are plain text (e-mail bodies, JSON, logs), never HTML: no autoescape.
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters["field_label"] = field_label
    env.filters["duration"] = duration
    return env


@lru_cache(maxsize=None)
def _template(code: str, part: str) -> tuple[Template, frozenset[str]]:
    source = _wording()["codes"][code][part]
    env = _environment()
    return env.from_string(source), frozenset(meta.find_undeclared_variables(env.parse(source)))


def _render(code: str, part: str, values: dict[str, Any]) -> str:
    # A value the rule did not give reads as None, so a finding is always worded, never a
    # crash; StrictUndefined still catches misspelt filters and attributes.
    template, names = _template(code, part)
    return template.render({name: values.get(name) for name in names}).strip()


def finding_message(code: str, values: dict[str, Any]) -> str:
    """What was found, in a sentence for the sender."""
    return _render(code, "message", values)


def finding_fix(code: str, values: dict[str, Any]) -> str:
    """What the sender should do about it; empty where nothing is to be done."""
    return _render(code, "fix", values)


def known_codes() -> set[str]:
    return set(_wording()["codes"])
