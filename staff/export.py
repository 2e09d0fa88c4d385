"""The staff export: every current nominee in one .xlsx, and the accepted ones' files, ready for the panel.

Exports are where staff need the personal data, so ID and phone numbers are written in full
(CONTRACT §5); the folder and its files are for the service's user only (0700/0600).
"""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from campaigns.schema import Profile
from core import inert, words
from core.files import clean_name, private_folder, write_private
from core.times import minute, utcnow
from service.runtime import Runtime
from staff.form_template import FORM_LABELS, form_fields, form_word
from storage.db import session as new_session
from storage.filing import audit
from storage.models import AttachmentRow, FindingRow, MessageRow, NomineeRow
from storage.queries import current_nominees, findings_by_nominee, rows_by_id
from storage.stored import Shelf

ROLE_ORDER = ("form", "form_scan", "writeup", "photo", "video", "other")
ALWAYS_NUMBERED = {"photo"}  # 照片1, 照片2 … even when there is one
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/heic": "heic", "image/heif": "heif",
              "video/mp4": "mp4", "application/pdf": "pdf", "image/gif": "gif", "image/webp": "webp",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
              "application/msword": "doc"}
MATERIAL_FOLDER = "已受理材料"  # beside the list: a folder per accepted nominee, named by intake number first
TEXT_FIELDS = ("id_number", "phone")  # kept as text: Excel must not turn 18 digits into 4.2E+17


@dataclass(frozen=True)
class Column:
    header: str
    width: int


@dataclass
class ExportResult:
    workbook: Path
    folder: Path
    rows: int = 0
    accepted: int = 0
    files: int = 0
    missing: list[str] = field(default_factory=list)


def _findings_text(own: list[FindingRow], message: list[FindingRow]) -> str:
    shown = [f for f in own if f.severity != "info"] + [f for f in message if f.severity in ("reject", "review")]
    return "\n".join(f"{f.code}：{f.text}" for f in shown)


def field_value(profile: Profile, row: NomineeRow, name: str) -> str:
    value = (row.fields or {}).get(name, "")
    if name == "channel" and value:
        channel = profile.channel_by_id(value)
        return channel.label if channel else value
    return value


def workbook_rows(session: Session, profile: Profile, only: set[int] | None = None
                  ) -> tuple[list[Column], list[list], list[NomineeRow]]:
    """The header and one row per current nominee (those of `only` where given: a filter's), in the
    form's column order. Their mails and findings are read in a few queries, not three a nominee."""
    names = form_fields(profile)
    columns = [Column("序号", 6), Column("受理编号", 16)]
    columns += [Column(FORM_LABELS[name], 40 if name in ("deeds", "honors", "unit_opinion") else
                       22 if name in ("id_number", "employer", "recommending_unit", "unit_category") else 12)
                for name in names]
    columns += [Column("状态", 10), Column("问题", 50), Column("工作人员处理", 30), Column("纸质件收到", 17),
                Column("收到时间", 17), Column("发件人", 26), Column("邮件编号", 9), Column("记录编号", 9)]
    nominees = [n for n in current_nominees(session, profile.id) if only is None or n.id in only]
    messages = rows_by_id(session, MessageRow, {n.message_id for n in nominees})
    own, whole = findings_by_nominee(session, [n.id for n in nominees], [n.message_id for n in nominees])
    rows = []
    for number, row in enumerate(nominees, 1):
        message = messages[row.message_id]
        decision = ""
        if row.decision:
            decision = f"{words.word(words.DECISION, row.decision)}（{row.decided_by}，{minute(row.decided_at)}）"
            decision += f"：{row.decision_reason}" if row.decision_reason else ""
        rows.append([
            number, row.intake_number or "",
            *(field_value(profile, row, name) for name in names),
            words.word(words.STATUS, row.status), _findings_text(own[row.id], whole[row.message_id]), decision,
            minute(row.paper_copy_received_at, ""), minute(message.received_at, ""), message.from_addr or "",
            message.id, row.id,
        ])
    return columns, rows, nominees


def append_inert(sheet, values: list) -> None:
    """A row whose text can never run: no control character, and text that Excel or WPS would
    read as a formula (`=HYPERLINK(…)`, `＋1`, `@SUM(…)`) stored as a string cell with the
    quote prefix (`quotePrefix="1"`, what typing a leading ' does), so that neither opening the
    sheet nor editing the cell evaluates it."""
    from openpyxl.cell import Cell

    cells = []
    for value in values:
        cell = Cell(sheet, value=inert.cell_text(value) if isinstance(value, str) else value)
        if isinstance(cell.value, str) and inert.is_formula_like(cell.value):
            cell.data_type, cell.quotePrefix = "s", True
        cells.append(cell)
    # the cells made here and appended whole: looking the row up again after the append
    # (sheet[sheet.max_row]) scans every cell of the sheet, and 10,000 nominees took minutes
    sheet.append(cells)


def write_workbook(path: Path, profile: Profile, columns: list[Column], rows: list[list],
                   nominees: list[NomineeRow], now: datetime) -> None:
    write_private(path, workbook_bytes(profile, columns, rows, nominees, now))


def workbook_bytes(profile: Profile, columns: list[Column], rows: list[list], nominees: list[NomineeRow],
                   now: datetime) -> bytes:
    """The 名单 sheet (columns, rows) and a 说明 sheet, as .xlsx bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "名单"
    append_inert(sheet, [c.header for c in columns])
    for values in rows:
        append_inert(sheet, values)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for k, column in enumerate(columns, 1):
        letter = get_column_letter(k)
        sheet.column_dimensions[letter].width = column.width
        sheet.cell(1, k).font, sheet.cell(1, k).fill = bold, fill
        as_text = column.header in (FORM_LABELS[name] for name in TEXT_FIELDS)
        alignment = Alignment(vertical="top", wrap_text=column.width >= 30)
        for (cell,) in sheet.iter_rows(min_row=2, max_row=len(rows) + 1, min_col=k, max_col=k):
            cell.alignment = alignment
            if as_text:
                cell.number_format = "@"
    sheet.freeze_panes = "C2"
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"

    about = book.create_sheet("说明")
    counts = Counter(n.status for n in nominees)
    for line in (
        ("评选活动", f"{profile.title}（{profile.id}）"),
        ("导出时间", minute(now)),
        ("被推荐人", f"{len(nominees)} 人（已被重新报送替代的不列入）"),
        *((words.word(words.STATUS, status), f"{count} 人") for status, count in sorted(counts.items())),
        ("注意", "本表含身份证号码和联系电话，仅供评选工作使用，请妥善保管，不要外传。"),
    ):
        append_inert(about, list(line))
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 12, 60
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _extension(row: AttachmentRow) -> str:
    suffix = Path(row.filename).suffix.lower().lstrip(".")
    if suffix and re.fullmatch(r"[a-z0-9]{1,5}", suffix):
        return suffix
    return EXTENSIONS.get(row.media_type, "bin")


def clean_names(person: str, rows: list[AttachmentRow], form_word: str = "推荐表") -> list[tuple[AttachmentRow, str]]:
    """姓名-推荐表.docx, 姓名-照片1.jpg, 姓名-照片2.jpg, 姓名-事迹材料.docx …, in a stable order
    (the form is called what the campaign calls it: 推荐表, or 申报表 for Wuhan)."""
    role_words = {**words.ROLE, "form": form_word, "form_scan": f"{form_word}扫描件"}
    by_role: dict[str, list[AttachmentRow]] = defaultdict(list)
    for row in rows:
        by_role[row.role if row.role in ROLE_ORDER else "other"].append(row)
    named = []
    for role in ROLE_ORDER:
        group = by_role.get(role, [])
        for number, row in enumerate(group, 1):
            suffix = str(number) if len(group) > 1 or role in ALWAYS_NUMBERED else ""
            named.append((row, clean_name(person, f"-{role_words[role]}{suffix}.{_extension(row)}")))
    return named


def named_files(shelf: Shelf, row: NomineeRow, form_word: str) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The nominee's files under their clean names, and what could not be found, in words for staff."""
    person = row.name or f"记录{row.id}"
    shown = inert.one_line(person)
    if not shelf.mail_kept(row.message_id):
        return [], [f"{row.intake_number} {shown}：原始邮件已删除，没有文件"]
    stored = shelf.files_of(row.id)
    data = {id(s.record): s.data for s in stored}
    files, missing = [], []
    for record, name in clean_names(person, [s.record for s in stored], form_word):
        if data[id(record)] is None:
            missing.append(f"{row.intake_number} {shown}：找不到文件 {inert.one_line(record.path)}")
        else:
            files.append((name, data[id(record)]))
    return files, missing


def export_campaign(runtime: Runtime, folder: Path, now: datetime | None = None, actor: str = "staff") -> ExportResult:
    """Write the list and the accepted nominees' files into `folder`; audited, as it holds personal data."""
    now = now or utcnow()
    profile = runtime.profile
    private_folder(folder)
    result = ExportResult(workbook=folder / f"{profile.id}-名单.xlsx", folder=folder / MATERIAL_FOLDER)
    with new_session(runtime.engine) as session:
        columns, rows, nominees = workbook_rows(session, profile)
        write_workbook(result.workbook, profile, columns, rows, nominees, now)
        result.rows = len(rows)
        private_folder(result.folder)
        shelf = Shelf(session, runtime.blobs, profile.limits)
        for row in (n for n in nominees if n.status == "accepted"):
            target = private_folder(result.folder / clean_name(f"{row.intake_number}-{row.name or f'记录{row.id}'}"))
            result.accepted += 1
            files, missing = named_files(shelf, row, form_word(profile))
            result.missing += missing
            for name, data in files:
                write_private(target / name, data)
            result.files += len(files)
        # the folder as an absolute path: purge finds and removes it from wherever it runs
        audit(session, "campaign", 0, "exported", actor=actor,
              note=f"{profile.id}: {result.rows} nominees, {result.files} files to {folder.resolve()}")
        session.commit()
    return result
