"""The accepted nominees' files as one .zip, built in the background while staff watch its progress.

Each job packs a folder per accepted, current nominee (the export's clean names: 张三-推荐表.docx,
张三-照片1.jpg …, staff/export.py) and the roster; the zip is written (0600) under
`<data_path>/exports/web/` and handed only to the person who started it (or an admin).
Jobs live in this process: after a restart a finished zip is still on disk for the command
line, and staff start a new one from the page.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from core.files import clean_name, private_folder
from core.times import beijing, utcnow
from service.runtime import Runtime
from staff.export import named_files, workbook_bytes, workbook_rows
from staff.form_template import form_word
from storage.db import session as new_session
from storage.filing import audit
from storage.stored import Shelf

log = logging.getLogger("intake")
KEEP_SECONDS = 24 * 3600  # a zip older than this is removed when the next job starts


@dataclass
class ExportJob:
    token: str
    owner: str
    started: datetime
    path: Path
    state: str = "running"  # core.words.ExportState
    done: int = 0
    total: int = 0
    files: int = 0
    missing: list[str] = field(default_factory=list)
    problem: str = ""

    @property
    def percent(self) -> int:
        return 100 if self.state == "done" else int(100 * self.done / self.total) if self.total else 0


class Exports:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.folder = runtime.config.web_exports_path
        self.jobs: dict[str, ExportJob] = {}
        self.lock = threading.Lock()

    def start(self, owner: str) -> ExportJob:
        private_folder(self.folder)
        self._tidy()
        now = utcnow()
        token = secrets.token_urlsafe(18)
        path = self.folder / f"{self.runtime.profile.id}-已受理材料-{beijing(now):%Y%m%d-%H%M%S}-{token[:6]}.zip"
        job = ExportJob(token, owner, now, path)
        with self.lock:
            self.jobs[token] = job
        threading.Thread(target=self._run, args=(job,), name="web-export", daemon=True).start()
        return job

    def of(self, token: str) -> ExportJob | None:
        with self.lock:
            return self.jobs.get(token)

    def listed(self) -> list[ExportJob]:
        """The jobs as they stand now (another request may be starting one while the page lists them)."""
        with self.lock:
            return list(self.jobs.values())

    def _tidy(self) -> None:
        for old in [*self.folder.glob("*.zip"), *self.folder.glob("*.part")]:
            if time.time() - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink(missing_ok=True)

    def _run(self, job: ExportJob) -> None:
        try:
            self._build(job)
            job.state = "done"
        except Exception as exc:  # noqa: BLE001 - the page says it failed; the log says why
            log.error("工作台打包导出失败：%s", exc)
            job.state, job.problem = "failed", f"{type(exc).__name__}: {exc}"[:300]
            job.path.unlink(missing_ok=True)
            job.path.with_suffix(".part").unlink(missing_ok=True)  # half a zip of nominees' files: not kept

    def _build(self, job: ExportJob) -> None:
        runtime, profile = self.runtime, self.runtime.profile
        partial = job.path.with_suffix(".part")
        with new_session(runtime.engine) as session:
            columns, rows, nominees = workbook_rows(session, profile)
            accepted = [n for n in nominees if n.status == "accepted"]
            job.total = len(accepted)
            shelf = Shelf(session, runtime.blobs, profile.limits)
            partial.touch(mode=0o600)
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(f"{profile.id}-名单.xlsx", workbook_bytes(profile, columns, rows, nominees, job.started))
                for row in accepted:
                    folder = clean_name(f"{row.intake_number}-{row.name or f'记录{row.id}'}")
                    files, missing = named_files(shelf, row, form_word(profile))
                    for name, data in files:
                        archive.writestr(f"{folder}/{name}", data)
                    job.files += len(files)
                    job.missing += missing
                    job.done += 1
            partial.rename(job.path)
            audit(session, "campaign", 0, "exported", actor=job.owner,
                  note=f"{profile.id}: web zip of {job.done} accepted nominees, {job.files} files")
            session.commit()
