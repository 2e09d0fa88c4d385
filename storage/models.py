"""The records intake keeps: the mail ledger, what each message held and how it was judged,
the outbox of replies, and an audit trail of every status change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.times import utcnow
from core.words import (
    Decision,
    ForwardState,
    HoldReason,
    MessageState,
    NomineeStatus,
    OutboxKind,
    ReplyState,
    Role,
    SenderCheck,
    StaffRole,
    StaffState,
    Status,
)


class CampaignRow(SQLModel, table=True):
    """A campaign that has seen mail; holds the counter behind its intake numbers."""

    __tablename__ = "campaign"
    id: str = Field(primary_key=True)
    title: str
    last_intake_sequence: int = 0


class MailboxState(SQLModel, table=True):
    """Where the last poll of one mailbox folder stopped, so a poll costs the same however full it is."""

    __tablename__ = "mailbox_state"
    account: str = Field(primary_key=True)
    folder: str = Field(primary_key=True)
    uidvalidity: int = 0
    last_uid: int = 0
    last_poll_at: Optional[datetime] = None
    last_error: Optional[str] = None


class MessageRow(SQLModel, table=True):
    """One e-mail as received. The raw bytes live on disk, content-addressed by sha256."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("account", "folder", "uidvalidity", "uid", name="uq_message_mailbox_uid"),
        Index("ix_message_campaign_status", "campaign_id", "status"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id")
    account: str
    folder: str
    uidvalidity: int = 0
    uid: int = 0
    message_id: Optional[str] = Field(default=None, index=True)
    raw_sha256: str = Field(index=True)
    raw_size: int
    from_addr: Optional[str] = Field(default=None, index=True)
    # what our receiving server said of the sender (SPF/DKIM/DMARC): pass, fail, or none said
    sender_check: Optional[SenderCheck] = Field(default=None, sa_type=String)
    subject: str = ""
    in_reply_to: Optional[str] = Field(default=None, index=True)  # threads a follow-up to our reply
    references: str = ""
    received_at: datetime = Field(index=True)  # the day's log and the console sort and filter by it
    received_at_source: str
    # fetched → filed, or fetched → failed (retried) → quarantined; filed is final until reprocessed
    state: MessageState = Field(default="fetched", index=True, sa_type=String)
    status: Optional[Status] = Field(default=None, sa_type=String)  # the verdict
    attempts: int = 0
    next_attempt_at: Optional[datetime] = None
    last_error: Optional[str] = None
    duplicate_of: Optional[int] = Field(default=None, foreign_key="message.id")
    completes: Optional[int] = Field(default=None, foreign_key="message.id")  # a follow-up's earlier mail
    # mail staff must read (a question): open → answered or done
    staff_state: Optional[StaffState] = Field(default=None, index=True, sa_type=String)
    filed_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    moved: bool = False  # moved/flagged on the server after filing


class NomineeRow(SQLModel, table=True):
    __tablename__ = "nominee"
    # the web console's list: current filings of a campaign by status, and its sort keys
    __table_args__ = (
        Index("ix_nominee_campaign_current", "campaign_id", "superseded_by", "status"),
        Index("ix_nominee_name", "name"),
        Index("ix_nominee_recommending_unit", "recommending_unit"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id", index=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    position: int  # the nominee's index within its message
    intake_number: Optional[str] = Field(default=None, unique=True)
    identity_key: str = Field(index=True)  # "id:<身份证号>" or "name:<姓名>|<工作单位>"
    name: str = ""
    employer: str = ""
    channel: Optional[str] = None
    recommending_unit: Optional[str] = None
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # where a field was not written in its own cell: {"recommending_unit": "inferred"} (read from
    # 推荐单位意见), so that staff are told to check it; None for records filed before 0008
    field_sources: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    status: NomineeStatus = Field(sa_type=String)
    writeup_chars: Optional[int] = None
    seal: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    superseded_by: Optional[int] = Field(default=None, foreign_key="nominee.id")
    paper_copy_received_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    # the last staff decision (intake review): accepted, rejected, kept_earlier, kept_later; who,
    # when and why. Every act is in the audit trail too; this is what exports and replies show.
    decision: Optional[Decision] = Field(default=None, sa_type=String)
    decided_by: Optional[str] = None
    decided_at: Optional[datetime] = None
    decision_reason: Optional[str] = None


class AttachmentRow(SQLModel, table=True):
    __tablename__ = "attachment"
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    nominee_id: Optional[int] = Field(default=None, foreign_key="nominee.id", index=True)
    path: str  # as the sender put it, archive/folder/name
    filename: str
    role: Role = Field(sa_type=String)
    media_type: str
    sha256: str = Field(index=True)
    size: int
    probe: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))


class FindingRow(SQLModel, table=True):
    __tablename__ = "finding"
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    nominee_id: Optional[int] = Field(default=None, foreign_key="nominee.id", index=True)
    code: str = Field(index=True)
    severity: str
    text: str
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class ReplyRow(SQLModel, table=True):
    """The outbox: written in the transaction that files the message, sent by a separate job.

    Most rows are replies to a message; a staff answer to a question is one too, and a notice to
    the office (the daily digest) has no message."""

    __tablename__ = "reply"
    # the reply caps' counts (replies/caps.py) read it alone, today's rows only: without it every
    # count read the whole table, its rows' raw replies included, once a message
    __table_args__ = (
        Index("ix_reply_caps", "kind", "state", "created_at", "to_addr", "campaign_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    message_id: Optional[int] = Field(default=None, foreign_key="message.id", index=True)
    kind: OutboxKind = Field(default="reply", sa_type=String, sa_column_kwargs={"server_default": "reply"})
    to_addr: str = Field(index=True)
    subject: str
    reply_message_id: str = Field(index=True)  # our Message-ID, which a follow-up's In-Reply-To names
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # the whole reply as it goes out
    # pending → sent | failed (5xx) | held (cap reached, forged sender, staff asked)
    state: ReplyState = Field(default="pending", index=True, sa_type=String)
    attempts: int = 0
    next_attempt_at: Optional[datetime] = None
    last_error: Optional[str] = None
    held_reason: Optional[HoldReason] = Field(default=None, sa_type=String)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: Optional[datetime] = None
    # whose outbox: each mailbox of an installation sends its campaign's own (migration 0007)
    campaign_id: Optional[str] = Field(default=None, index=True)


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str  # "intake" for the machine, a staff member's name otherwise
    entity: str  # "message", "nominee", "reply"
    entity_id: int
    action: str
    before: Optional[str] = None
    after: Optional[str] = None
    note: str = ""


class FieldCorrectionRow(SQLModel, table=True):
    """A form value staff corrected by hand (a misread field): the nominee's `fields` carry the
    new value; this keeps the old one, who changed it and when (CONTRACT §5: in the database only)."""

    __tablename__ = "field_correction"
    id: Optional[int] = Field(default=None, primary_key=True)
    nominee_id: int = Field(foreign_key="nominee.id", index=True)
    field_name: str
    old_value: Optional[str] = None
    new_value: str
    actor: str
    at: datetime = Field(default_factory=utcnow)


class ForwardRow(SQLModel, table=True):
    """One run of `intake forward`: a district's accepted nominees passed on to the city in one
    batch of mail (the first, or a supplement, 补充报送)."""

    __tablename__ = "forward"
    id: Optional[int] = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id", index=True)  # the district's campaign
    to_campaign: str  # the profile's forwards_to
    to_addr: str
    supplement: bool = False
    delivery: str  # "outbox" (.eml files for staff) or "smtp" (--send)
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)


class ForwardMessageRow(SQLModel, table=True):
    """One e-mail of a forward ("（2/3）"); the raw bytes are in the blob store by sha256."""

    __tablename__ = "forward_message"
    id: Optional[int] = Field(default=None, primary_key=True)
    forward_id: int = Field(foreign_key="forward.id", index=True)
    part: int
    parts: int
    message_id: str = Field(index=True)
    subject: str
    raw_sha256: str
    size: int
    path: str = ""  # the .eml written to data_path/forward/
    # written (outbox only) | pending → sent | failed (5xx, sent again by the next --send)
    state: ForwardState = Field(default="written", index=True, sa_type=String)
    attempts: int = 0
    last_error: Optional[str] = None
    sent_at: Optional[datetime] = None


class ForwardNomineeRow(SQLModel, table=True):
    """A nominee forwarded, and in which message: each nominee filing goes upward once."""

    __tablename__ = "forward_nominee"
    id: Optional[int] = Field(default=None, primary_key=True)
    forward_message_id: int = Field(foreign_key="forward_message.id", index=True)
    nominee_id: int = Field(foreign_key="nominee.id", unique=True)


class WebUserRow(SQLModel, table=True):
    """An account of the web console (`intake users`): a person's name, role and Argon2 password hash.

    `session_epoch` grows when the password changes or the account is disabled: every session
    cookie signed before that stops working at once."""

    __tablename__ = "web_user"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    role: StaffRole = Field(sa_type=String)
    password_hash: str
    active: bool = True
    session_epoch: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime = Field(default_factory=utcnow)
    last_login_at: Optional[datetime] = None


class BlobRow(SQLModel, table=True):
    """Raw mail and forwarded batches by sha256, in the database: on PostgreSQL, where two machines
    must both reach what either took in (storage/blobs.py). Unused on SQLite."""

    __tablename__ = "blob"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class JobStateRow(SQLModel, table=True):
    """Why a job of the running service cannot do its work (a wrong SMTP password, a mailbox that
    refuses the login), for `intake status` and `intake doctor`; cleared when it works again."""

    __tablename__ = "job_state"
    job: str = Field(primary_key=True)  # "poll:<campaign>", "send:<campaign>"
    campaign_id: str = Field(index=True)
    last_ok_at: Optional[datetime] = None
    failing_since: Optional[datetime] = None
    last_error: Optional[str] = None
    retry_at: Optional[datetime] = None
