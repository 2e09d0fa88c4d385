"""The code table, the wording, the docs and the limits must not drift apart (the datasette way)."""

import re
from pathlib import Path

from campaigns.limits import Limits
from validators.codes import CODES
from validators.wording import known_codes

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
CONTRACT = Path(__file__).parent.parent.parent / "shared" / "spec" / "CONTRACT.md"


def _readme_rows():
    return dict(re.findall(r"^\| `([A-Z_]+)` \| (\w+ \| \w+) \|", README, re.M))


def test_every_code_has_wording():
    assert known_codes() == set(CODES)


def test_every_code_is_in_the_readme_with_its_level_and_severity():
    rows = _readme_rows()
    assert set(rows) == set(CODES)
    for code, spec in CODES.items():
        assert rows[code] == f"{spec.level} | {spec.severity}", code


def test_codes_match_the_contract():
    table = re.findall(r"^\| `([A-Z_]+)` \| (\w+) \| (\w+) \|", CONTRACT.read_text(encoding="utf-8"), re.M)
    assert {code: (level, severity) for code, level, severity in table} == {
        code: (spec.level, spec.severity) for code, spec in CODES.items()
    }


def test_every_limit_is_documented():
    documented = set(re.findall(r"^\| `(\w+)` \| [^|]+ \| [^|]+ \|$", README, re.M))
    assert set(Limits.model_fields) <= documented


def _sections(annotation) -> list:
    """The config sections a field holds: a model, or each model of a union (the mail sources)."""
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [a for arg in get_args(annotation) for a in _sections(arg)]


def _config_keys(model, prefix=""):
    keys = []
    for name, field in model.model_fields.items():
        sections = _sections(field.annotation)
        if sections and getattr(field.annotation, "__origin__", None) is dict:
            # named entries ([mailboxes.<name>]): their own keys; their tables are the top level's, documented there
            keys += [f"{prefix}{name}.<name>.{key}" for section in sections for key in section.model_fields]
        elif sections:
            keys += [key for section in sections for key in _config_keys(section, f"{prefix}{name}.")]
        else:
            keys.append(f"{prefix}{name}")
    return sorted(set(keys))


def test_every_config_key_is_documented():
    from service.config import Config

    documented = " ".join(re.findall(r"^\| (`[^|]+`) \|", README, re.M))
    missing = [key for key in _config_keys(Config) if f"`{key}`" not in documented]
    assert missing == []
