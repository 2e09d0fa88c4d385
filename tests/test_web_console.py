"""The web console's gates, in-process (Starlette's client): logins, sessions, CSRF, roles, what a
search may carry, how files are handed out. The browser tests (test_web_browser.py) drive the pages."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from sqlmodel import select
from starlette.testclient import TestClient

from service.runtime import open_runtime
from storage.db import session as new_session
from storage.models import AuditRow, NomineeRow
from testing import console
from web import accounts
from web.app import create_app
from web.downloads import attachment_response, safe_type

PASSWORD = "correct horse battery"


@pytest.fixture
def runtime(tmp_path):
    runtime = open_runtime(console.write_config(tmp_path))
    console.fill(runtime.engine, 30)
    for name, role in (("rita", "reviewer"), ("clara", "clerk"), ("ada", "admin")):
        accounts.add_user(runtime.engine, name, role, PASSWORD, actor="test")
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def client(runtime):
    with TestClient(create_app(runtime), base_url="http://127.0.0.1") as client:
        yield client


def nominee(runtime, nominee_id: int) -> NomineeRow:
    with new_session(runtime.engine) as session:
        return session.get(NomineeRow, nominee_id)


def test_pages_need_a_login(client):
    for path in ("/", "/nominees", "/nominees/1", "/files/1/download", "/exports", "/users"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path


def test_a_failed_login_says_nothing_about_which_part_was_wrong(client):
    token = console.csrf_of(client.get("/login").text)
    wrong_password = client.post("/login", data={"name": "rita", "password": "not it at all", "csrf": token})
    no_such_name = client.post("/login", data={"name": "nobody", "password": PASSWORD, "csrf": token})
    assert wrong_password.status_code == no_such_name.status_code == 401
    assert "用户名或密码不正确" in wrong_password.text and "用户名或密码不正确" in no_such_name.text
    assert "rita" not in wrong_password.text.split("<main>")[1]
    assert client.get("/", follow_redirects=False).status_code == 303  # still not logged in


def test_logins_are_limited_per_name_and_the_right_password_waits_too(client):
    token = console.csrf_of(client.get("/login").text)
    for _ in range(accounts.MAX_FAILURES_PER_NAME):
        assert client.post("/login", data={"name": "rita", "password": "guess", "csrf": token}).status_code == 401
    blocked = client.post("/login", data={"name": "rita", "password": PASSWORD, "csrf": token})
    assert blocked.status_code == 429 and "次数过多" in blocked.text
    # another account from another address is not held up by it
    console.logged_in(client, "clara", PASSWORD)


def test_logins_are_limited_per_address():
    throttle = accounts.Throttle(clock=lambda: 1000.0)
    for n in range(accounts.MAX_FAILURES_PER_ADDRESS):
        throttle.failed(f"name{n}", "10.0.0.9")
    assert throttle.blocked("fresh-name", "10.0.0.9") and not throttle.blocked("fresh-name", "10.0.0.10")


def test_a_guessing_run_over_many_names_leaves_nothing_behind_once_its_window_has_passed():
    """Names typed once each, from many addresses: the throttle forgets them after the window."""
    now = [1000.0]
    throttle = accounts.Throttle(clock=lambda: now[0])
    for n in range(5000):
        throttle.failed(f"guess{n}" + "x" * 1000, f"10.0.{n // 250}.{n % 250}")
        throttle.blocked(f"never-failed-{n}", "10.9.9.9")  # a look-up alone keeps nothing
    assert len(throttle.failures) == 5000 + 5000  # each name and each address
    assert all(len(key) <= 5 + accounts.NAME_KEY_CHARS for key in throttle.failures)
    now[0] += accounts.WINDOW_SECONDS + 1
    throttle.failed("rita", "10.0.0.1")
    assert set(throttle.failures) == {"name:rita", "addr:10.0.0.1"}


def test_the_session_cookie_is_signed_httponly_samesite_and_secure_where_configured(runtime, tmp_path):
    with TestClient(create_app(runtime), base_url="http://127.0.0.1") as client:
        token = console.csrf_of(client.get("/login").text)
        header = client.post("/login", data={"name": "rita", "password": PASSWORD, "csrf": token},
                             follow_redirects=False).headers["set-cookie"]
        assert header.startswith("intake=") and "httponly" in header and "samesite=lax" in header
        assert f"Max-Age={int(runtime.config.web.session_hours * 3600)}" in header
    secure = runtime.config.model_copy(update={"web": runtime.config.web.model_copy(update={"secure_cookies": True})})
    app = create_app(type(runtime)(secure, runtime.profile, runtime.engine))
    with TestClient(app, base_url="https://console.example") as client:
        response = client.get("/login")
        header = response.headers["set-cookie"]
        assert header.startswith("__Host-intake=") and "secure" in header and "httponly" in header
        assert "samesite=lax" in header


def test_a_forged_cookie_is_no_session(client):
    client.cookies.set("intake", "eyJ1aWQiOiAxfQ==.forged.signature")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_session_ends_when_it_is_old_the_password_changes_or_the_account_is_disabled(runtime, client, monkeypatch):
    console.logged_in(client, "rita", PASSWORD)
    assert client.get("/", follow_redirects=False).status_code == 200
    later = time.time() + runtime.config.web.session_hours * 3600 + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/", follow_redirects=False).status_code == 303
    monkeypatch.undo()

    console.logged_in(client, "rita", PASSWORD)
    accounts.set_password(runtime.engine, "rita", "another long password", actor="ada")
    assert client.get("/", follow_redirects=False).status_code == 303
    console.logged_in(client, "rita", "another long password")
    accounts.set_active(runtime.engine, "rita", False, actor="ada")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_every_response_forbids_script_framing_and_sniffing_and_is_not_cached(client):
    console.logged_in(client, "rita", PASSWORD)
    for path in ("/login", "/", "/nominees"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'none'" in policy and "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "'unsafe-inline'" not in policy
        assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"


def test_a_post_without_the_csrf_token_does_nothing(runtime, client):
    console.logged_in(client, "rita", PASSWORD)
    before = nominee(runtime, 3).status
    for data in ({"act": "reject", "reason": "x", "mode": "silent"},
                 {"act": "reject", "reason": "x", "mode": "silent", "csrf": "not-the-token"}):
        refused = client.post("/nominees/3/act", data=data)
        assert refused.status_code == 403 and "安全令牌" in refused.text
    assert nominee(runtime, 3).status == before and nominee(runtime, 3).decision is None


def test_a_clerk_cannot_decide_but_records_paper_copies(runtime, client):
    console.logged_in(client, "clara", PASSWORD)
    page = client.get("/nominees/4").text
    assert 'id="accept-form"' not in page and 'id="paper-form"' in page
    token = console.csrf_of(page)
    refused = client.post("/nominees/4/act", data={"csrf": token, "act": "accept", "mode": "silent"})
    assert refused.status_code == 403 and "审核人" in refused.text
    assert nominee(runtime, 4).decision is None
    marked = client.post("/paper/mark", data={"csrf": token, "nominee": "4", "back": "/nominees/4"}, follow_redirects=False)
    assert marked.status_code == 303 and nominee(runtime, 4).paper_copy_received_at is not None
    with new_session(runtime.engine) as session:
        trail = session.exec(select(AuditRow).where(AuditRow.entity == "nominee", AuditRow.entity_id == 4)).all()
    assert [(a.actor, a.action) for a in trail] == [("clara", "paper_copy_received")]
    history = client.get("/nominees/4").text.split('id="history"')[1]
    assert "纸质件收到" in history and "paper_copy_received" not in history  # the trail in words
    assert client.get("/users").status_code == 403


def test_a_reviewer_records_a_decision_silently_under_their_own_name(runtime, client):
    console.logged_in(client, "rita", PASSWORD)
    token = console.csrf_of(client.get("/nominees/5").text)
    done = client.post("/nominees/5/act", data={"csrf": token, "act": "reject", "reason": "材料不全", "mode": "silent",
                                                 "by": "someone-else"}, follow_redirects=False)
    assert done.status_code == 303
    row = nominee(runtime, 5)
    assert (row.status, row.decision, row.decided_by, row.decision_reason) == ("rejected", "rejected", "rita", "材料不全")


def test_search_finds_by_name_number_unit_and_id_tail_and_refuses_whole_numbers(runtime, client):
    console.logged_in(client, "clara", PASSWORD)
    row = nominee(runtime, 7)
    for term in (row.name, row.fields["id_number"][-4:], row.fields["id_number"][-6:], f"#{row.id}"):
        page = client.get("/nominees", params={"q": term, "everyone": "1"}).text
        assert f'href="/nominees/{row.id}"' in page, term
    whole = row.fields["id_number"]
    refused = client.get("/nominees", params={"q": whole})
    assert "身份证号的最后 4–6 位" in refused.text and whole not in refused.text
    assert whole[:6] + "********" + whole[-4:] not in client.get("/nominees").text  # the list shows no ID at all
    page = client.get(f"/nominees/{row.id}").text
    assert whole not in page and row.fields["phone"] not in page and "138****5678" in page


def test_showing_the_full_numbers_is_a_post_and_audited(runtime, client):
    console.logged_in(client, "clara", PASSWORD)
    row = nominee(runtime, 8)
    token = console.csrf_of(client.get("/nominees/8").text)
    shown = client.post("/nominees/8/reveal", data={"csrf": token})
    assert row.fields["id_number"] in shown.text and row.fields["id_number"] not in shown.text.split("<title>")[1][:200]
    with new_session(runtime.engine) as session:
        trail = session.exec(select(AuditRow).where(AuditRow.action == "personal_data_shown")).all()
    assert [(a.actor, a.entity_id) for a in trail] == [("clara", 8)]


def test_filtered_roster_downloads_as_xlsx_with_only_what_the_filter_shows(runtime, client):
    from io import BytesIO

    from openpyxl import load_workbook

    console.logged_in(client, "clara", PASSWORD)
    response = client.get("/nominees/roster.xlsx", params={"status": "needs_review"})
    assert response.headers["content-disposition"].startswith("attachment;")
    sheet = load_workbook(BytesIO(response.content))["名单"]
    statuses = {r[0] for r in sheet.iter_rows(min_row=2, values_only=True, min_col=sheet.max_column - 7,
                                               max_col=sheet.max_column - 7)}
    with new_session(runtime.engine) as session:
        waiting = session.exec(select(NomineeRow).where(NomineeRow.status == "needs_review")).all()
    assert sheet.max_row - 1 == len(waiting) > 0 and statuses == {"待人工核对"}


@pytest.mark.parametrize("claimed", ["text/html", "image/svg+xml", "application/xhtml+xml", "text/plain",
                                     "application/javascript", "", "nonsense"])
def test_files_are_never_served_as_something_a_browser_runs(claimed):
    response = attachment_response(b"<script>alert(1)</script>", "a\"b\r\n<x>.html", claimed)
    assert response.media_type == "application/octet-stream" == safe_type(claimed)
    header = response.headers["content-disposition"]
    assert header.startswith("attachment;") and "\r" not in header and "\n" not in header and '<' not in header


def test_users_command_asks_twice_and_refuses_a_mismatch(tmp_path):
    from cli.main import main

    config = str(console.write_config(tmp_path))
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", "wang", "--role", "reviewer", "--config", config],
                          input="long enough pass\nlong enough pass\n")
    assert added.exit_code == 0 and "已添加用户 wang（审核人）" in added.output
    mismatch = runner.invoke(main, ["users", "passwd", "wang", "--config", config],
                             input="long enough pass\ndifferent thing\nlong enough pass\nlong enough pass\n")
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output
    short = runner.invoke(main, ["users", "add", "li", "--role", "clerk", "--config", config], input="short\nshort\n")
    assert short.exit_code != 0 and "至少 10 个字符" in short.output
    runner.invoke(main, ["users", "disable", "wang", "--config", config])
    listed = runner.invoke(main, ["users", "list", "--config", config]).output
    assert "wang" in listed and "已停用" in listed and "li" not in listed
    runtime = open_runtime(tmp_path / "intake.toml")
    assert accounts.authenticate(runtime.engine, "wang", "long enough pass") is None  # disabled


def test_a_field_read_from_another_is_marked_inferred_on_the_nominee_page(runtime, client):
    from core import words

    with new_session(runtime.engine) as session:
        row = session.get(NomineeRow, 1)
        row.fields = {**row.fields, "recommending_unit": "重庆市沙坪坝区总工会"}
        row.field_sources = {"recommending_unit": "inferred"}
        session.add(row)
        session.commit()
    console.logged_in(client, "clara", PASSWORD)
    page = client.get("/nominees/1").text
    unit_row = next(line for line in page.splitlines() if "<th>推荐单位</th>" in line)
    assert "推断" in unit_row and words.INFERRED_NOTE in unit_row
    employer_row = next(line for line in page.splitlines() if "<th>工作单位</th>" in line)
    assert "推断" not in employer_row


def test_a_failed_export_leaves_no_half_written_zip_of_nominees_files(runtime, monkeypatch):
    from web import jobs

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(jobs, "named_files", broken)
    exports = jobs.Exports(runtime)
    job = exports.start("ada")
    deadline = time.monotonic() + 30
    while job.state == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.state == "failed" and "disk full" in job.problem
    assert [j.token for j in exports.listed()] == [job.token]
    assert list(exports.folder.iterdir()) == []
