"""A district's accepted nominees passed on to the city (`forwards_to`): one batch of ordinary mail.

Each run takes the accepted, current nominees not forwarded yet, packs a folder per nominee
(the form, its stamped scan, photos or video, the write-up, under the export's clean names)
into a zip, adds the summary sheet in the city's form order and a covering letter from the
district union, splits the batch into e-mails under `forward.max_message_bytes` ("（1/3）"),
writes them to `data_path/forward/` and, with `send`, hands them to the SMTP server. What went,
when and in which message is recorded (`forward`, `forward_message`, `forward_nominee`), so
nothing goes twice and a later acceptance goes in a supplement (补充报送).

A forward is a submission, not an automatic reply: it carries no `Auto-Submitted` header,
which would make the city's intake ignore it.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session, select

import campaigns
from campaigns.schema import Profile
from core import inert
from core.files import clean_name, private_folder, write_private
from core.times import SHANGHAI
from service.runtime import Runtime
from staff.export import FORM_LABELS, Column, field_value, named_files, workbook_bytes
from staff.form_template import form_fields, form_word
from storage.db import session as new_session
from storage.filing import audit
from storage.models import ForwardMessageRow, ForwardNomineeRow, ForwardRow, NomineeRow
from storage.queries import forwarded_ids, waiting_to_forward
from storage.stored import Shelf

TEMPLATES = Path(__file__).parent / "templates"
BASE64_GROWTH = 4 / 3 * 78 / 76  # base64 and its CRLF every 76 characters
ENVELOPE_SLACK = 16_000  # headers, the letter, MIME boundaries


class ForwardError(Exception):
    """The campaign forwards nowhere, or its city profile cannot be loaded."""


@dataclass
class Packed:
    """One nominee's folder: the clean names and the bytes, taken out of the stored mail."""

    nominee: NomineeRow
    folder: str
    files: list[tuple[str, bytes]]
    missing: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(data) for _, data in self.files)


@dataclass
class ForwardResult:
    forward_id: int | None = None
    supplement: bool = False
    nominees: list[NomineeRow] = field(default_factory=list)
    messages: list[ForwardMessageRow] = field(default_factory=list)
    sent: list[ForwardMessageRow] = field(default_factory=list)
    failed: list[ForwardMessageRow] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    oversize: list[str] = field(default_factory=list)
    inside_city: str | None = None  # the city, served by this installation: filed there directly
    filed_inside: list[int] = field(default_factory=list)  # the city's mail records made of the batch


def city_profile(runtime: Runtime) -> Profile:
    target = runtime.profile.forwards_to
    if not target:
        raise ForwardError(f"{runtime.profile.id} 没有 forwards_to：这个评选活动不向上级报送")
    try:
        return campaigns.load(target, runtime.config.profile_path)
    except campaigns.ProfileError as exc:
        raise ForwardError(str(exc)) from None


def recommending_unit(runtime: Runtime) -> str:
    """The district union that recommends to the city: the config's, else office.name to its last 总工会."""
    if runtime.config.forward.recommending_unit:
        return runtime.config.forward.recommending_unit
    name = runtime.profile.office.name
    end = name.rfind("总工会")
    return name[: end + 3] if end >= 0 else name


def pack(runtime: Runtime, session: Session, rows: list[NomineeRow]) -> list[Packed]:
    """Each nominee's files under clean names, in a folder `<district intake number>-<name>`."""
    shelf = Shelf(session, runtime.blobs, runtime.profile.limits)
    packed = []
    for row in rows:
        files, missing = named_files(shelf, row, form_word(runtime.profile))
        packed.append(Packed(row, clean_name(f"{row.intake_number}-{row.name or f'记录{row.id}'}"), files, missing))
    return packed


def split(packed: list[Packed], max_bytes: int, first_extra: int) -> list[list[Packed]]:
    """Nominees in order, into as few e-mails as fit under `max_bytes` as sent (base64 counted);
    a nominee bigger than that alone gets a message of its own. One nominee is never split."""
    parts: list[list[Packed]] = [[]]
    used = ENVELOPE_SLACK + first_extra * BASE64_GROWTH
    for item in packed:
        cost = (item.size + 200 * (len(item.files) + 1)) * BASE64_GROWTH
        if parts[-1] and used + cost > max_bytes:
            parts.append([])
            used = ENVELOPE_SLACK
        parts[-1].append(item)
        used += cost
    return parts


def zip_folders(items: list[Packed]) -> bytes:
    """A zip with a folder per nominee; names in UTF-8 (flag bit 11), which the city's intake reads."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in items:
            for name, data in item.files:
                archive.writestr(f"{item.folder}/{name}", data)
    return buffer.getvalue()


def summary_sheet(city: Profile, unit: str, items: list[Packed], now: datetime) -> bytes:
    """All nominees of the batch in the city's form order; 推荐单位 is the district union, the unit
    the form names is kept beside it."""
    names = form_fields(city)
    columns = [Column("序号", 6), Column("区受理编号", 18)]
    columns += [Column(FORM_LABELS[name], 40 if name in ("deeds", "honors", "unit_opinion") else
                       22 if name in ("id_number", "employer", "recommending_unit", "unit_category") else 12)
                for name in names]
    columns += [Column("推荐表所填推荐单位", 26), Column("材料文件夹", 26), Column("文件数", 8)]
    rows = []
    for number, item in enumerate(items, 1):
        row = item.nominee
        values = [unit if name == "recommending_unit" else field_value(city, row, name) for name in names]
        rows.append([number, row.intake_number or "", *values, (row.fields or {}).get("recommending_unit", ""),
                     item.folder, len(item.files)])
    return workbook_bytes(city, columns, rows, [item.nominee for item in items], now)


def _letter(runtime: Runtime, city: Profile, unit: str, view: dict) -> str:
    # every value printed is one inert line: names and units come from the units' mail
    environment = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                              finalize=lambda value: inert.one_line(value) if isinstance(value, str) else value)
    return environment.get_template("letter.txt.j2").render(district=runtime.profile, city=city, unit=unit, **view)


def _subject(city: Profile, unit: str, supplement: bool, part: int, parts: int) -> str:
    kind = "补充报送" if supplement else "报送"
    numbered = f"（{part}/{parts}）" if parts > 1 else ""
    return f"{unit}{kind}{city.title}推荐材料{numbered}"


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def compose(runtime: Runtime, city: Profile, unit: str, parts: list[list[Packed]], everyone: list[Packed],
            supplement: bool, earlier: int, now: datetime) -> list[tuple[str, str, bytes]]:
    """(Message-ID, subject, raw) per part; the summary sheet goes with the first."""
    district = runtime.profile
    local = now.astimezone(SHANGHAI)
    sheet = summary_sheet(city, unit, everyone, now)
    composed = []
    for number, items in enumerate(parts, 1):
        subject = _subject(city, unit, supplement, number, len(parts))
        message = EmailMessage(policy=SMTP)  # CRLF line ends: as_bytes() is what goes on the wire
        message["From"] = formataddr((unit, district.mailbox))
        message["To"] = formataddr((city.office.name, city.mailbox))
        message["Subject"] = subject
        message["Date"] = format_datetime(local)
        message["Message-ID"] = make_msgid(idstring=f"forward-{number}", domain=_domain(district.mailbox))
        view = dict(everyone=[i.nominee for i in everyone], here=[i.nominee for i in items], part=number,
                    parts=len(parts), supplement=supplement, earlier=earlier, date=f"{local:%Y年%-m月%-d日}",
                    channel=lambda row: field_value(city, row, "channel"))
        message.set_content(_letter(runtime, city, unit, view))
        stem = re.sub(r"[（）/]", "", subject.removeprefix(unit))
        message.add_attachment(zip_folders(items), maintype="application", subtype="zip",
                               filename=f"{unit}-{stem}{f'-{number}' if len(parts) > 1 else ''}.zip")
        if number == 1:
            message.add_attachment(sheet, maintype="application",
                                   subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                   filename=f"{unit}推荐人选汇总表.xlsx")
        composed.append((message["Message-ID"], subject, message.as_bytes()))
    return composed


def build(runtime: Runtime, actor: str, now: datetime, *, send: bool, delivery: str | None = None) -> ForwardResult:
    """File the new batch (messages written to data_path/forward/, state written or pending)."""
    city = city_profile(runtime)
    unit = recommending_unit(runtime)
    limit = runtime.config.forward.max_message_bytes
    result = ForwardResult()
    with new_session(runtime.engine) as session:
        rows = waiting_to_forward(session, runtime.profile.id)
        if not rows:
            return result
        earlier = len(forwarded_ids(session, runtime.profile.id))
        result.supplement = earlier > 0
        packed = pack(runtime, session, rows)
        result.missing = [line for item in packed for line in item.missing]
        packed = [item for item in packed if item.files]  # nothing to send: stays waiting, staff are told
        rows = [item.nominee for item in packed]
        if not rows:
            return result
        sheet_size = len(summary_sheet(city, unit, packed, now))
        parts = split(packed, limit, sheet_size)
        composed = compose(runtime, city, unit, parts, packed, result.supplement, earlier, now)
        forward = ForwardRow(campaign_id=runtime.profile.id, to_campaign=city.id, to_addr=city.mailbox,
                             supplement=result.supplement, delivery=delivery or ("smtp" if send else "outbox"),
                             created_by=actor, created_at=now)
        session.add(forward)
        session.flush()
        outbox = private_folder(runtime.config.data_path / "forward")
        blobs = runtime.blobs
        stamp = f"{now.astimezone(SHANGHAI):%Y%m%d-%H%M%S}"
        for (message_id, subject, raw), items in zip(composed, parts):
            number = len(result.messages) + 1
            path = outbox / f"{stamp}-{forward.id:03d}-{number}of{len(parts)}.eml"
            write_private(path, raw)
            row = ForwardMessageRow(forward_id=forward.id, part=number, parts=len(parts), message_id=message_id,
                                    subject=subject, raw_sha256=blobs.put(raw), size=len(raw), path=str(path),
                                    state="pending" if send or delivery else "written")
            session.add(row)
            session.flush()
            if len(raw) > limit:
                result.oversize.append(f"{subject}：{len(raw)} 字节，超过 {limit}（一人的材料不拆分）")
            for item in items:
                session.add(ForwardNomineeRow(forward_message_id=row.id, nominee_id=item.nominee.id))
            result.messages.append(row)
        names = "、".join(f"{r.intake_number} {r.name}" for r in rows)
        audit(session, "forward", forward.id, "forwarded", actor=actor,
              note=f"{runtime.profile.id} → {city.id} ({city.mailbox}): {len(rows)} nominees in "
                   f"{len(composed)} messages{'，补充报送' if result.supplement else ''}: {names}")
        session.commit()
        result.forward_id, result.nominees = forward.id, rows
    return result


def send_pending(runtime: Runtime, actor: str, now: datetime) -> tuple[list[ForwardMessageRow], list[ForwardMessageRow]]:
    """Hand every forward message not sent yet to the SMTP server; (sent, failed). A configuration
    error stops at once and leaves the rest pending for the next `--send`."""
    from replies.transport import SendConfigurationError, SendError

    transport = runtime.transport()
    blobs = runtime.blobs
    sent, failed = [], []
    with new_session(runtime.engine) as session:
        pending = session.exec(select(ForwardMessageRow).join(ForwardRow)
                               .where(ForwardRow.campaign_id == runtime.profile.id,
                                      ForwardRow.delivery != "installation",
                                      ForwardMessageRow.state.in_(("pending", "failed")))
                               .order_by(ForwardMessageRow.id)).all()
        for row in pending:
            forward = session.get(ForwardRow, row.forward_id)
            row.attempts += 1
            try:
                transport.send(blobs.get(row.raw_sha256), runtime.profile.mailbox, [forward.to_addr])
            except SendConfigurationError as exc:
                row.last_error = exc.text
                session.commit()
                failed.append(row)
                break
            except SendError as exc:  # 5xx, or 4xx and connection errors: the next --send tries again
                row.state, row.last_error = "failed", exc.text
                failed.append(row)
            else:
                row.state, row.sent_at, row.last_error = "sent", now, None
                audit(session, "forward_message", row.id, "sent", actor=actor,
                      note=f"{row.subject} → {forward.to_addr}")
                sent.append(row)
            session.commit()
    return sent, failed


def forward(runtime: Runtime, actor: str, now: datetime, *, send: bool = False) -> ForwardResult:
    """Build the next batch; with `send`, hand it (and anything left unsent before) to the SMTP server.
    A city served by the same installation gets it filed directly, with no mail (forward/inside.py).
    One forward at a time per data folder (two clerks at once would pack the same nominees)."""
    from forward.inside import deliver_inside
    from service.lock import exclusive
    from service.runtime import sibling

    city = sibling(runtime, runtime.profile.forwards_to or "")
    with exclusive(runtime.config.data_path, runtime.engine, "forward"):
        result = build(runtime, actor, now, send=send, delivery="installation" if city else None)
        if city is not None:
            result.inside_city = city.profile.id
            result.sent, result.filed_inside = deliver_inside(runtime, city, actor, now)
        elif send:
            result.sent, result.failed = send_pending(runtime, actor, now)
    return result
