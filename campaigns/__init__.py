"""Campaign profiles: TOML files validated into `Profile`; the presets ship in `presets/`."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Iterable

from pydantic import ValidationError

from campaigns.limits import DEFAULT_LIMITS, Limits
from campaigns.schema import FIELD_NAMES, Profile

PRESETS = Path(__file__).parent / "presets"
# extra folders of profiles, separated like PATH; a file there overrides a preset of the same id
PROFILE_PATH_ENV = "INTAKE_PROFILE_PATH"

__all__ = ["DEFAULT_LIMITS", "FIELD_NAMES", "Limits", "Profile", "ProfileError", "available", "load"]


class ProfileError(Exception):
    """A profile that is missing, malformed or inconsistent; the message says where and what."""


def _folders(extra: Iterable[Path] = ()) -> list[Path]:
    from_env = [Path(p) for p in os.environ.get(PROFILE_PATH_ENV, "").split(os.pathsep) if p]
    return [*extra, *from_env, PRESETS]


def _find(campaign_id: str, folders: list[Path]) -> Path:
    for folder in folders:
        candidate = folder / f"{campaign_id}.toml"
        if candidate.is_file():
            return candidate
    raise ProfileError(f"没有找到评选活动 {campaign_id!r} 的配置 (looked in {', '.join(map(str, folders))})")


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None


def _merge(base: dict, override: dict) -> dict:
    """Tables merge key by key; everything else (arrays included) is replaced whole."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve(path: Path, folders: list[Path], seen: tuple[str, ...] = ()) -> dict:
    data = _read_toml(path)
    parent_id = data.pop("extends", None)
    if parent_id is None:
        return data
    if parent_id in seen:
        raise ProfileError(f"{path}: profiles extend each other in a circle: {' → '.join((*seen, parent_id))}")
    parent = _resolve(_find(parent_id, folders), folders, (*seen, parent_id))
    parent.pop("forwards_to", None)  # a district forwarding to the city does not inherit the city's own target
    return _merge(parent, data)


def _explain(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: the campaign profile is not valid:"]
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        if problem["type"] == "missing":
            lines.append(f"  - {where}: missing (every key must be given; see campaigns/schema.py)")
        elif problem["type"] == "extra_forbidden":
            lines.append(f"  - {where}: unknown key (a typo?)")
        else:
            lines.append(f"  - {where}: {problem['msg']}")
    return "\n".join(lines)


def load_file(path: Path, folders: Iterable[Path] = ()) -> Profile:
    """Load one profile file, resolving `extends` against the given folders and the presets."""
    path = Path(path)
    data = _resolve(path, _folders([path.parent, *folders]), (path.stem,))
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(_explain(path, exc)) from None
    if profile.id != path.stem:
        raise ProfileError(f"{path}: id {profile.id!r} must match the file name {path.stem!r}")
    return profile


def load(campaign_id: str, folders: Iterable[Path] = ()) -> Profile:
    """The profile of that campaign id, from the extra folders first, then the presets."""
    search = _folders(folders)
    return load_file(_find(campaign_id, search), folders)


def available(folders: Iterable[Path] = ()) -> list[str]:
    """Every campaign id that can be loaded, sorted."""
    return sorted({p.stem for folder in _folders(folders) if folder.is_dir() for p in folder.glob("*.toml")})
