"""The campaign profile: everything that differs between campaigns, as validated data.

Rules read the profile; they never ask which campaign this is. Every key is required unless
it has a default here, and an unknown key is an error, so a typo in a profile fails at
start-up instead of silently changing a verdict.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from campaigns.limits import Limits

FIELD_NAMES = (
    "name",
    "gender",
    "birth",
    "ethnicity",
    "politics",
    "education",
    "id_number",
    "phone",
    "employer",
    "position",
    "skill_level",
    "years",
    "channel",
    "frontline",
    "unit_category",
    "recommending_unit",
    "deeds",
    "honors",
    "unit_opinion",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2017-05-01T00:00:00+08:00")
    return value


class Form(_Strict):
    title: str = Field(description="the form's title as the notice prints it")
    # words whose presence in a document's text says "this is the campaign's form"
    title_keywords: tuple[str, ...]
    required_fields: tuple[str, ...]

    @field_validator("required_fields")
    @classmethod
    def _known_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in FIELD_NAMES]
        if unknown:
            raise ValueError(f"unknown field names {unknown}; known: {', '.join(FIELD_NAMES)}")
        return value


class Channel(_Strict):
    id: str
    label: str  # as the notice words it
    aliases: tuple[str, ...] = ()  # other wordings seen on forms


class Media(_Strict):
    required: bool
    photos_min: int = Field(ge=0)
    photos_max: int = Field(ge=0)
    video_min_seconds: float = Field(ge=0)
    video_max_seconds: float = Field(ge=0)
    video_tolerance_seconds: float = Field(ge=0)
    video_containers: tuple[str, ...]  # as the notice allows; "mp4" is the only one so far
    photo_formats: tuple[str, ...]  # formats we decode and count (JPEG, PNG, HEIC …)


class Writeup(_Strict):
    required: bool
    max_chars: int | None = Field(ge=1, description="Word's 字数; omit for no limit", default=None)


class Seal(_Strict):
    required_for_channels: tuple[str, ...]
    record_when_seen: bool  # note a seal even where none is required (Wuhan's e-mailed copy)
    # detector confidence in [low, high) is "not sure": the nominee goes to staff
    uncertain_low: float = Field(ge=0, le=1)
    uncertain_high: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _band_in_order(self) -> "Seal":
        if self.uncertain_low > self.uncertain_high:
            raise ValueError("uncertain_low must not exceed uncertain_high")
        return self


class PaperCopy(_Strict):
    required: bool
    instructions: str  # the sentence replies carry, e.g. 请同时将纸质材料报送至…


class Office(_Strict):
    name: str
    contacts: tuple[str, ...]
    phones: tuple[str, ...]
    address: str = ""


class UnitQuota(_Strict):
    category: str  # as staff say it, e.g. 区、开发区及产业工会
    labels: tuple[str, ...]  # words in 推荐单位类别 / 推荐单位 that put a unit in this category
    min_candidates: int = Field(ge=0)


class Ranking(_Strict):
    expert_weight: float = Field(ge=0, le=1)
    vote_weight: float = Field(ge=0, le=1)
    shortlist: int = Field(ge=1)
    winners: int = Field(ge=1)


class Selection(_Strict):
    """Campaign-level arithmetic staff do after intake (issue: staff tools)."""

    winners: int = Field(ge=1)
    unit_quotas: tuple[UnitQuota, ...] = ()
    frontline_min_share: float | None = Field(default=None, ge=0, le=1)
    ranking: Ranking | None = None


class Replies(_Strict):
    template_set: str  # folder under replies/templates
    sender_name: str  # the From: display name
    max_per_address_per_day: int = Field(ge=1)


class Profile(_Strict):
    id: str
    title: str
    mailbox: str
    opens: datetime
    deadline: datetime  # a message received at or after this instant is late
    deadline_text: str  # how people read it, for replies: 2017年4月30日24:00
    intake_number_prefix: str  # BYGJ-2017- → BYGJ-2017-0001
    forwards_to: str | None = None  # the campaign a district passes its accepted nominations to
    form: Form
    channels: tuple[Channel, ...]
    media: Media
    writeup: Writeup
    seal: Seal
    paper_copy: PaperCopy
    office: Office
    selection: Selection
    replies: Replies
    limits: Limits = Limits()

    @field_validator("opens", "deadline")
    @classmethod
    def _instants_are_absolute(cls, value: datetime) -> datetime:
        return _aware(value)

    @model_validator(mode="after")
    def _consistent(self) -> "Profile":
        if self.deadline <= self.opens:
            raise ValueError("deadline must come after opens")
        channel_ids = {channel.id for channel in self.channels}
        unknown = set(self.seal.required_for_channels) - channel_ids
        if unknown:
            raise ValueError(f"seal.required_for_channels names unknown channels {sorted(unknown)}")
        if self.forwards_to == self.id:
            raise ValueError("a campaign cannot forward to itself")
        return self

    def channel_by_id(self, channel_id: str) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def seal_required(self, channel_id: str | None) -> bool:
        return channel_id in self.seal.required_for_channels

    def intake_number(self, sequence: int) -> str:
        return f"{self.intake_number_prefix}{sequence:04d}"

