"""The web console in a real Chromium (Playwright on Debian's /usr/bin/chromium) against `intake web`,
on records filed by a real `intake poll --once` from a real Dovecot, with replies read in aiosmtpd.

Screenshots of the main pages are written to $INTAKE_SCREENSHOTS (docs/screenshots/ for the README)
or to the test's temporary folder.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import time
import urllib.request
import zipfile
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import numpy
import pytest
from PIL import Image
from sqlmodel import select

from storage.db import make_engine
from storage.db import session as new_session
from storage.models import AuditRow, MessageRow, NomineeRow
from testing.builders import eml, forms
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail, photo_jpeg
from testing.dovecot import free_port
from testing.idcards import id_number
from testing.programs import missing
from testing.service import INTAKE, database_of, intake, write_config
from testing.smtp_server import SmtpServer

try:
    import playwright.sync_api as playwright
except ImportError:
    missing("Playwright is not installed (the test extra: ./dev test installs it)", allow_module_level=True)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARRIVED = datetime(2017, 4, 20, 10, 0, tzinfo=SHANGHAI)
CLOCK = "2017-04-20T18:00:00+08:00"  # staff look at the day's mail that evening, before the deadline
PASSWORD = "office password 2017"
ZHANG = FormValues(name="张三", id_number=id_number(sequence="521"))
HOSTILE = '<script>window.__pwned="script"</script><img src=x onerror="window.__pwned=\'img\'">'
HOSTILE_VALUES = FormValues(name="王五", id_number=id_number(sequence="533"), employer=HOSTILE)


def _photos(name: str, seed: int) -> list[tuple[str, bytes]]:
    return [(f"{name}-照片{i + 1}.jpg", photo_jpeg(seed + i, size=(200, 150))) for i in range(4)]


MAIL = [
    nomination_mail([("张三-推荐表.pdf", forms.form_pdf(ZHANG, stamped=True)),
                     ("张三-事迹材料.docx", forms.writeup_docx(900, title="张三同志先进事迹")), *_photos("张三", 1)],
                    message_id="<zhang@unit.example.cn>", sender="长安工会 <zhang@unit.example.cn>", subject="张三推荐材料"),
    nomination_mail([("李四-推荐表.doc", eml.ole2("WordDocument", "1Table")), *_photos("李四", 11)],
                    message_id="<li@unit.example.cn>", sender="建工工会 <li@unit.example.cn>", subject="李四推荐材料"),
    # 赵六's is 李四's case again, for the one test that decides it: the others find 李四 as the mail left him
    nomination_mail([("赵六-推荐表.doc", eml.ole2("WordDocument", "1Table")), *_photos("赵六", 31)],
                    message_id="<zhao@unit.example.cn>", sender="钢铁工会 <zhao@unit.example.cn>", subject="赵六推荐材料"),
    nomination_mail([("王五-推荐表.docx", forms.bayu_form_docx(HOSTILE_VALUES)),
                     ("王五-事迹材料.docx", forms.writeup_docx(900, title="王五同志先进事迹")),
                     *_photos("王五", 21)[:3], (f"{HOSTILE}.jpg", photo_jpeg(99, size=(200, 150)))],
                    message_id="<wang@unit.example.cn>", sender="某厂 <wang@unit.example.cn>", subject=f"王五{HOSTILE}",
                    body=f"附件请查收 {HOSTILE}"),
]


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture(scope="module")
def office(tmp_path_factory, dovecot):
    folder = tmp_path_factory.mktemp("web-console")
    box = dovecot.add_user()
    for raw in MAIL:
        box.append(raw, internaldate=ARRIVED)
    with SmtpServer() as smtp:
        port = free_port()
        config = write_config(folder, box, smtp, extra=f"\n[web]\nport = {port}\nsecure_cookies = true\n")
        intake(config, "poll", "--once", clock=CLOCK)
        for name, role in (("rita", "reviewer"), ("clara", "clerk")):
            intake(config, "users", "add", name, "--role", role, answers=f"{PASSWORD}\n{PASSWORD}\n")
        env = {**os.environ, "INTAKE_CLOCK": CLOCK}
        server = subprocess.Popen([*INTAKE, "web", "--config", str(config)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        try:
            _wait_for(f"http://127.0.0.1:{port}/login")
            yield SimpleNamespace(config=config, smtp=smtp, base=f"http://127.0.0.1:{port}", folder=folder)
        finally:
            server.terminate()
            server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(office):
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("INTAKE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Watched:
    """A page whose every script run, dialog and console line is noted (the hostile mail must cause none)."""

    def __init__(self, page):
        self.page, self.dialogs, self.console, self.errors = page, [], [], []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("console", lambda message: self.console.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def pwned(self):
        return self.page.evaluate("() => window.__pwned")


def signed_in(browser, office, name: str) -> Watched:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True, locale="zh-CN")
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(office.base + "/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(office.base + "/")
    return watched


def record(office, tag: str) -> NomineeRow:
    """The nominee of the mail <tag@unit.example.cn> (李四's form cannot be read: it has no name)."""
    engine = make_engine(database_of(office.config))
    with new_session(engine) as session:
        row = session.exec(select(NomineeRow).join(MessageRow, MessageRow.id == NomineeRow.message_id)
                           .where(MessageRow.message_id == f"<{tag}@unit.example.cn>")).first()
    engine.dispose()
    return row


def trail(office, nominee_id: int) -> list[tuple[str, str]]:
    engine = make_engine(database_of(office.config))
    with new_session(engine) as session:
        rows = session.exec(select(AuditRow).where(AuditRow.entity == "nominee", AuditRow.entity_id == nominee_id)).all()
    engine.dispose()
    return [(a.actor, a.action) for a in rows]


def shot(page, folder: Path, name: str) -> None:
    """A small PNG of what the page shows (palette colours: the README carries these)."""
    raw = page.screenshot(full_page=False)
    picture = Image.open(io.BytesIO(raw)).convert("RGB").quantize(colors=64)
    picture.save(folder / f"{name}.png", optimize=True)
    assert (folder / f"{name}.png").stat().st_size > 5000


def test_log_in_see_the_day_and_find_a_nominee_by_name_and_by_id_tail(browser, office, shots):
    watched = signed_in(browser, office, "rita")
    page = watched.page
    li = record(office, "li")
    assert f"#{li.id}" in page.inner_text("#review-queue") and "FORM_UNREADABLE" in page.inner_text("#review-queue")
    assert page.locator("article.entry").count() == 4
    shot(page, shots, "today")
    page.goto(office.base + "/nominees")
    page.fill("input[name=q]", "张三")
    page.click("form.filters button[type=submit]")
    assert page.locator("#nominees tr").count() == 2 and "张三" in page.inner_text("#nominees")
    shot(page, shots, "nominees")
    page.fill("input[name=q]", ZHANG.id_number[-6:])
    page.click("form.filters button[type=submit]")
    assert "张三" in page.inner_text("#nominees") and "李四" not in page.inner_text("#nominees")
    assert ZHANG.id_number not in page.url and ZHANG.id_number not in page.content()


def test_a_nominee_shows_its_photos_its_form_page_and_the_seal_outlined(browser, office, shots):
    page = signed_in(browser, office, "clara").page
    zhang = record(office, "zhang")
    page.goto(f"{office.base}/nominees/{zhang.id}")
    thumbs = page.locator("#photos img.thumb")
    assert thumbs.count() == 4
    assert all(thumbs.nth(k).evaluate("img => img.complete && img.naturalWidth > 0") for k in range(4))
    assert "蓝圈为印章检测器所见" in page.inner_text("#files") and "系统判定印章的依据页" in page.inner_text("#files")
    assert ZHANG.id_number not in page.content() and "500103********" in page.inner_text("#form")
    # the form's page shows the numbers in full: only after the audited 显示, as the text does
    assert page.locator("figure.page img").count() == 0
    file_id = re.search(r"/files/(\d+)/download", page.locator("#file-list a", has_text="推荐表").get_attribute("href"))[1]
    assert page.request.get(f"{office.base}/files/{file_id}/p1.jpg").status == 403
    # nor by asking for the form as if it were a photo
    assert [page.request.get(f"{office.base}/files/{file_id}/{name}.jpg").status for name in ("large", "thumb")] \
        == [404, 404]
    page.click("#reveal")
    assert ZHANG.id_number in page.inner_text("#form") and ("clara", "personal_data_shown") in trail(office, zhang.id)
    form_page = page.locator("figure.page img").first
    assert form_page.evaluate("img => img.complete && img.naturalWidth > 300")
    # the outline is in the picture: blue where the detector saw the seal
    picture = Image.open(io.BytesIO(page.request.get(office.base + form_page.get_attribute("src")).body())).convert("RGB")
    pixels = numpy.asarray(picture).astype(int)
    blue = int(((pixels[..., 2] > 170) & (pixels[..., 0] < 80) & (pixels[..., 1] < 120)).sum())
    assert blue > 200, blue
    large = page.request.get(office.base + page.locator("#photos a").first.get_attribute("href"))
    assert large.headers["content-type"] == "image/jpeg" and Image.open(io.BytesIO(large.body())).width == 200
    shot(page, shots, "nominee")


def test_a_reviewer_accepts_with_a_reason_after_reading_the_reply_and_the_sender_gets_it(browser, office, shots):
    page = signed_in(browser, office, "rita").page
    zhao = record(office, "zhao")
    assert zhao.status == "needs_review"
    page.goto(f"{office.base}/nominees/{zhao.id}")
    page.fill("#accept-form input[name=reason]", "经电话核实，纸质推荐表已盖章")
    page.click("#accept-form button[value=preview]")
    assert page.inner_text("#preview-subject").startswith("【已受理】")
    assert "经电话核实，纸质推荐表已盖章" in page.inner_text("#preview-text")
    assert record(office, "zhao").status == "needs_review"  # the preview changed nothing
    shot(page, shots, "reply-preview")
    page.click("#confirm-send")
    page.wait_for_url(f"{office.base}/nominees/{zhao.id}")
    assert "回复已发出" in page.inner_text("#notice")
    after = record(office, "zhao")
    assert (after.status, after.decided_by, after.decision_reason) == ("accepted", "rita", "经电话核实，纸质推荐表已盖章")
    assert ("rita", "accepted_by_staff") in trail(office, zhao.id)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _replies(office.smtp, "zhao", "【已受理】"):
        time.sleep(0.2)
    (text,) = _replies(office.smtp, "zhao", "【已受理】")
    assert "经电话核实，纸质推荐表已盖章" in text and after.intake_number in text


def _replies(smtp, tag: str, subject: str) -> list[str]:
    import email
    from email import policy

    found = []
    for received in smtp.messages:
        message = email.message_from_bytes(received.content, policy=policy.default)
        if message["In-Reply-To"] == f"<{tag}@unit.example.cn>" and str(message["Subject"]).startswith(subject):
            found.append(message.get_body(("plain",)).get_content())
    return found


def test_a_clerk_is_refused_a_decision(browser, office):
    page = signed_in(browser, office, "clara").page
    wang = record(office, "wang")
    page.goto(f"{office.base}/nominees/{wang.id}")
    assert page.locator("#accept-form").count() == 0
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    refused = page.request.post(f"{office.base}/nominees/{wang.id}/act",
                                form={"csrf": token, "act": "reject", "reason": "x", "mode": "silent"})
    assert refused.status == 403 and "审核人" in refused.text()
    assert record(office, "wang").decision is None


def test_a_wrong_password_and_a_missing_csrf_token_are_refused(browser, office):
    context = browser.new_context()
    page = context.new_page()
    for name in ("rita", "nobody"):
        page.goto(office.base + "/login")
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", "wrong password here")
        page.click("button[type=submit]")
        assert page.inner_text("#login-problem") == "用户名或密码不正确，或账号已停用。"
    assert "/login" in page.url
    page = signed_in(browser, office, "rita").page
    wang = record(office, "wang")
    page.goto(f"{office.base}/nominees/{wang.id}")
    page.fill("#reject-form input[name=reason]", "材料不全")
    page.evaluate("() => document.querySelector('#reject-form input[name=csrf]').remove()")
    page.click("#reject-form button[value=silent]")
    assert "安全令牌" in page.inner_text("#refused")
    assert record(office, "wang").decision is None


def test_script_in_a_subject_a_file_name_and_a_form_runs_nowhere(browser, office, shots):
    # the listener works: the same text put in a page unescaped does run
    probe = Watched(browser.new_page())
    probe.page.set_content(f"<p>{HOSTILE}</p>")
    probe.page.wait_for_timeout(300)
    assert probe.pwned() in ("script", "img")

    watched = signed_in(browser, office, "rita")
    page = watched.page
    wang = record(office, "wang")
    for path in ("/", "/nominees", f"/nominees/{wang.id}", "/nominees?q=王五", "/report"):
        page.goto(office.base + path)
        page.wait_for_timeout(300)
        assert watched.pwned() is None, path
    page.goto(f"{office.base}/nominees/{wang.id}")
    shown = page.inner_text("main")
    assert "<script>window.__pwned" in shown  # the subject, as text
    assert '<img src=x onerror="window.__pwned' in shown  # the form's 工作单位 and the file name, as text
    assert page.locator("main img[src=x]").count() == 0 and page.locator("main script").count() == 0
    assert watched.dialogs == [] and watched.errors == []
    download = page.request.get(office.base + page.locator("#file-list a", has_text="onerror").get_attribute("href"))
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"] == "image/jpeg" and download.headers["x-content-type-options"] == "nosniff"


def test_exports_download_and_open(browser, office, shots):
    from openpyxl import load_workbook

    page = signed_in(browser, office, "clara").page
    page.goto(office.base + "/exports")
    with page.expect_download() as waiting:
        page.click("#export-roster")
    assert waiting.value.suggested_filename.endswith(".xlsx")
    with open(waiting.value.path(), "rb") as handle:
        sheet = load_workbook(handle)["名单"]
    rows = [[str(v or "") for v in row] for row in sheet.iter_rows(values_only=True)]
    zhang = next(row for row in rows if "张三" in row)
    assert ZHANG.id_number in zhang  # exports carry the numbers in full, for the panel
    page.click("#export-zip")
    page.wait_for_selector("#export-download", timeout=60_000)
    shot(page, shots, "export")
    with page.expect_download() as waiting:
        page.click("#export-download")
    names = zipfile.ZipFile(waiting.value.path()).namelist()
    zhang_number = record(office, "zhang").intake_number
    assert f"{zhang_number}-张三/张三-推荐表.pdf" in names and f"{zhang_number}-张三/张三-照片4.jpg" in names
    page.goto(office.base + "/report")
    assert page.locator("#chart-days rect").count() >= 2
    shot(page, shots, "report")


def test_intake_run_serves_the_console_beside_its_jobs_and_stops_with_them(tmp_path, mailbox):
    with SmtpServer() as smtp:
        port = free_port()
        config = write_config(tmp_path, mailbox, smtp, extra=f"\n[web]\nport = {port}\nwith_service = true\n")
        service = subprocess.Popen([*INTAKE, "run", "--config", str(config)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        try:
            _wait_for(f"http://127.0.0.1:{port}/login")
            page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
            assert page.status == 200 and "script-src 'none'" in page.headers["content-security-policy"]
        finally:
            service.terminate()
            assert service.wait(timeout=30) == 0, service.stderr.read()[-2000:]
