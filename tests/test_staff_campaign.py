"""The whole campaign for Wuhan: `intake poll --once` over a real Dovecot files six messages
(a large enterprise's five candidates, a district union's three, a self-nomination, a wrong phone,
a legacy form and a late one); `intake report` (Markdown, and HTML looked at in headless Chromium),
`intake paper`, `intake export` and `intake rank` then work on that filing: the poll runs once for
the module, each test on its own copy of the records and raw mail.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import pytest

from testing import programs
from testing.builders import eml, forms
from testing.builders.forms import FormValues
from testing.builders.submission import SHANGHAI, nomination_mail
from testing.idcards import id_number
from testing.service import intake, write_config
from testing.smtp_server import SmtpServer

CSCEC = "中建三局集团有限公司"
JIANGAN = "武汉市江岸区总工会"
JIANGHAN = "武汉市江汉区总工会"
BIG, DISTRICT = "委办局及大型企事业单位", "区、开发区及产业工会"


def person(name: str, n: int, unit: str, category: str, frontline: str = "是", **changes) -> FormValues:
    values = dict(name=name, id_number=id_number(region="420102", sequence=f"{n:03d}"), channel="基层单位推荐",
                  frontline=frontline, unit_category=category, recommending_unit=unit,
                  employer=unit.replace("总工会", "某厂") or "武汉某机械厂")
    return FormValues(**(values | changes))


def forms_of(people: list[FormValues]) -> list[tuple[str, bytes]]:
    return [(f"{p.name}-申报表.docx", forms.wuhan_form_docx(p)) for p in people]


def day(d: int, hour: int = 10) -> datetime:
    return datetime(2018, 8, d, hour, 0, tzinfo=SHANGHAI)


SUBMISSIONS = [  # (tag, files, arrival)
    ("cscec", forms_of([person(n, k, CSCEC, BIG, "否" if k == 5 else "是")
                        for k, n in enumerate(["陈一", "陈二", "陈三", "陈四", "陈五"], 1)]), day(20)),
    ("jiangan", forms_of([person(n, k, JIANGAN, DISTRICT, "否" if k == 8 else "是")
                          for k, n in zip((6, 7, 8), ["江一", "江二", "江三"])]), day(21)),
    ("self", forms_of([person("自荐甲", 9, "", "", channel="个人自荐")]), day(21, 15)),
    ("bad-phone", forms_of([person("江四", 10, JIANGAN, DISTRICT, phone="8576")]), day(21, 16)),
    ("legacy", [("申报表.doc", eml.ole2("WordDocument", "1Table"))], day(22)),
    ("late", forms_of([person("汉一", 11, JIANGHAN, DISTRICT)]), datetime(2018, 8, 31, 0, 30, tzinfo=SHANGHAI)),
]


def wuhan_config(folder: Path, box, smtp: SmtpServer) -> Path:
    config = write_config(folder, box, smtp)
    text = config.read_text(encoding="utf-8").replace('campaign = "chongqing-bayu-2017"',
                                                       'campaign = "wuhan-dacheng-2018"')
    config.write_text(text.replace("bygj@cqgh.org", "2942292164@qq.com"), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def polled(tmp_path_factory, dovecot):
    folder = tmp_path_factory.mktemp("staff-wuhan")
    box = dovecot.add_user()
    for tag, files, arrival in SUBMISSIONS:
        box.append(nomination_mail(files, message_id=f"<{tag}@wh.example.cn>", sender=f"{tag} <{tag}@wh.example.cn>",
                                   to="2942292164@qq.com", subject="第二届武汉大城工匠申报材料",
                                   sent=arrival), internaldate=arrival)
    with SmtpServer() as smtp:
        assert "登记 6 封" in intake(wuhan_config(folder, box, smtp), "poll", "--once").stdout
    return SimpleNamespace(box=box, data=folder / "data")


@pytest.fixture
def wuhan(polled, tmp_path):
    """This test's own copy of the Wuhan filing."""
    shutil.copytree(polled.data, tmp_path / "filed" / "data")
    with SmtpServer() as smtp:
        yield SimpleNamespace(config=wuhan_config(tmp_path / "filed", polled.box, smtp), data=tmp_path / "filed" / "data",
                              smtp=smtp)


# --- the report ------------------------------------------------------------------------------------


def test_report_counts_days_statuses_channels_units_quotas_and_front_line(wuhan):
    text = intake(wuhan.config, "report").stdout
    assert "- 邮件 6 封：受理 3，待人工核对 1，退回 2" in text
    assert "- 被推荐人 12 人：受理 9，待人工核对 1，退回 2" in text
    assert "| 2018-08-20 | 1 | 5 | 5 |" in text
    assert "| 2018-08-21 | 3 | 5 | 4 |" in text
    assert "| 2018-08-22 | 1 | 1 | 0 |" in text
    assert "| 2018-08-31 | 1 | 1 | 0 |" in text
    assert "| 基层单位推荐 | 10 | 8 |" in text and "| 个人自荐 | 1 | 1 |" in text and "| （未识别） | 1 | 0 |" in text
    # the quotas: enterprises ≥ 5 (met), district unions ≥ 20 (short), counted on accepted nominees
    assert "有名额要求的单位达标 1/3" in text
    assert f"| {CSCEC} | {BIG} | 5 | 0 | 0 | ≥5 | 达标 |" in text
    assert f"| {JIANGAN} | {DISTRICT} | 3 | 0 | 1 | ≥20 | 差 17 人 |" in text
    assert f"| {JIANGHAN} | {DISTRICT} | 0 | 0 | 1 | ≥20 | 差 20 人 |" in text
    assert "| （未填写推荐单位） | 其他 | 1 | 1 | 0 | — | — |" in text
    assert "已受理 9 人中一线职工 7 人，占 77.8%（要求不低于 70.0%）：达标" in text
    assert "## 尚未收到纸质件（10 人）" in text
    assert "420102" not in text  # no ID number in a report


def test_paper_copies_leave_the_list_of_those_who_owe_one(wuhan):
    marked = intake(wuhan.config, "paper", "DCGJ-2018-0001", "DCGJ-2018-0002", "--by", "alice").stdout
    assert "DCGJ-2018-0001 陈一：纸质件" in marked and "DCGJ-2018-0002 陈二：纸质件" in marked
    text = intake(wuhan.config, "report").stdout
    owed = text.split("## 尚未收到纸质件")[1]
    assert owed.startswith("（8 人）") and "陈一" not in owed and "陈三" in owed
    intake(wuhan.config, "paper", "DCGJ-2018-0002", "--undo")
    assert "（9 人）" in intake(wuhan.config, "report").stdout




def browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Headless Chromium on a local file, no network services, console messages on stderr."""
    command = [programs.chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def console_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def test_the_html_report_in_headless_chromium(wuhan, tmp_path):
    from PIL import Image

    page = tmp_path / "report.html"
    intake(wuhan.config, "report", "--html", str(page))
    html = page.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html and "src=" not in html  # self-contained

    dom = browse(page, tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_lines(dom) == []
    out = dom.stdout
    assert 'data-rendered="yes"' in out  # the inline script ran …
    assert '<pre id="page-errors" hidden=""></pre>' in out  # … and caught no error
    assert 'id="count-messages">6<' in out and 'id="count-nominees">12<' in out
    assert 'data-status="受理">9<' in out and 'data-status="待人工核对">1<' in out
    assert 'id="quotas-met">1/3<' in out
    assert "一线职工 <strong>7</strong> 人，占 <strong>77.8%</strong>" in out
    assert out.count("<svg") == 4  # by day, by channel, the quotas, the front-line share
    assert f'data-unit="{CSCEC}"' in out

    shot = tmp_path / "report.png"
    taken = browse(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1100,2200",
                   "--hide-scrollbars")
    assert taken.returncode == 0 and console_lines(taken) == []
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    blue = sum(count for count, rgb in colours if rgb == (0x25, 0x63, 0xEB))  # the accepted bars
    red = sum(count for count, rgb in colours if rgb == (0xDC, 0x26, 0x26))  # quotas not met
    assert image.size == (1100, 2200) and blue > 2000 and red > 500
    (wuhan.data / "report-screenshot.png").write_bytes(shot.read_bytes())  # kept beside the data to look at


def test_a_console_error_would_be_seen(tmp_path, monkeypatch):
    """The check above is not vacuous: a page whose script fails shows it on the console and in its DOM."""
    from staff import campaign_report

    monkeypatch.setattr(campaign_report, "PAGE_SCRIPT", campaign_report.PAGE_SCRIPT + "missing();\n")
    page = tmp_path / "broken.html"
    page.write_text(campaign_report.render_html(campaign_report.Figures("x", "测试", "2018-09-01 10:00")),
                    encoding="utf-8")
    result = browse(page, tmp_path / "profile", "--dump-dom")
    assert any("missing is not defined" in line for line in console_lines(result))
    assert "missing is not defined" in result.stdout.split('id="page-errors"')[1].split("</pre>")[0]


def test_a_script_that_is_not_the_page_s_own_never_runs(tmp_path):
    """The policy allows the page's own script by its hash, not 'unsafe-inline': a script that got
    into the page (from a name in a mail, were escaping ever missed) is refused, and the page says so."""
    from staff.campaign_report import Figures, render_html

    html = render_html(Figures("x", "测试", "2018-09-01 10:00"))
    assert "unsafe-inline'; img-src" not in html and "script-src 'sha256-" in html
    page = tmp_path / "injected.html"
    page.write_text(html.replace("</body>", "<script>missing();</script></body>"), encoding="utf-8")
    result = browse(page, tmp_path / "profile", "--dump-dom")
    assert not any("missing is not defined" in line for line in console_lines(result))  # it never ran
    assert any("Content Security Policy" in line for line in console_lines(result))
    assert 'data-rendered="yes"' in result.stdout  # the page's own script still did
    assert "页面安全策略已拦截" in result.stdout.split('id="page-errors"')[1].split("</pre>")[0]


# --- the export --------------------------------------------------------------------------------------


def test_export_columns_follow_the_wuhan_form_and_files_use_its_word(wuhan, tmp_path):
    from openpyxl import load_workbook

    intake(wuhan.config, "export", "-o", str(tmp_path / "out"))
    sheet = load_workbook(tmp_path / "out" / "wuhan-dacheng-2018-名单.xlsx")["名单"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert header.index("是否一线职工") == header.index("推荐方式") + 1
    assert header.index("推荐单位类别") == header.index("是否一线职工") + 1
    assert len(rows) == 13
    by_number = {row[1]: dict(zip(header, row)) for row in rows[1:] if row[1]}
    chen = by_number["DCGJ-2018-0001"]
    assert (chen["姓名"], chen["是否一线职工"], chen["推荐单位类别"], chen["推荐单位"]) == ("陈一", "是", BIG, CSCEC)
    assert chen["身份证号码"] == id_number(region="420102", sequence="001")
    assert sheet.cell(2, header.index("身份证号码") + 1).number_format == "@"
    rejected = [dict(zip(header, row)) for row in rows[1:] if row[header.index("状态")] == "退回"]
    assert {r["姓名"] for r in rejected} == {"江四", "汉一"}
    assert any("PHONE_INVALID" in r["问题"] for r in rejected) and any("LATE" in r["问题"] for r in rejected)
    folders = sorted(p.name for p in (tmp_path / "out" / "已受理材料").iterdir())
    assert len(folders) == 9 and folders[0] == "DCGJ-2018-0001-陈一"
    files = [p.name for p in (tmp_path / "out" / "已受理材料" / folders[0]).iterdir()]
    assert files == ["陈一-申报表.docx"]


# --- the ranking ---------------------------------------------------------------------------------------

EXPERTS = {1: 95, 2: 90, 3: 88, 4: 85, 5: 80, 6: 92, 7: 76, 8: 70, 9: 90}
VOTES = {1: 1000, 2: 3000, 3: 2000, 4: 500, 5: 0, 6: 1500, 7: 4000, 8: 800, 9: 3000}


def test_rank_combines_ninety_ten_and_checks_the_front_line_share(wuhan, tmp_path):
    from openpyxl import Workbook, load_workbook

    experts = tmp_path / "专家评分.csv"
    with experts.open("w", encoding="gb18030", newline="") as handle:  # as Excel in China saves a CSV
        writer = csv.writer(handle)
        writer.writerow(["序号", "受理编号", "姓名", "专家评分"])
        for k, score in EXPERTS.items():
            writer.writerow([k, f"DCGJ-2018-{k:04d}", "", score])
    votes = tmp_path / "网络投票.xlsx"
    book = Workbook()
    book.active.append(["受理编号", "票数"])
    for k, count in VOTES.items():
        book.active.append([f"DCGJ-2018-{k:04d}", count])
    book.save(votes)

    output = intake(wuhan.config, "rank", "--experts", str(experts), "--votes", str(votes),
                    "-o", str(tmp_path / "排名.xlsx")).stdout
    # by hand: combined = 0.9 × score/95 × 100 + 0.1 × votes/4000 × 100
    #   0002: 0.9 × 94.7368… + 0.1 × 75 = 92.7632   0001: 90 + 2.5 = 92.5   0009: as 0002 = 92.7632
    #   0006: 0.9 × 96.8421… + 3.75 = 90.9079       0003: 83.3684 + 5 = 88.3684
    #   0007: 72 + 10 = 82.0   0004: 80.5263 + 1.25 = 81.7763   0005: 75.7895 + 0 = 75.7895
    #   0008: 66.3158 + 2 = 68.3158
    rows = [[c.value for c in row] for row in load_workbook(tmp_path / "排名.xlsx")["排名"].iter_rows()]
    header, body = rows[0], rows[1:]
    order = [row[header.index("受理编号")] for row in body]
    assert order == [f"DCGJ-2018-{k:04d}" for k in (2, 9, 1, 6, 3, 7, 4, 5, 8)]
    ranks = [row[0] for row in body]
    assert ranks == [1, 1, 3, 4, 5, 6, 7, 8, 9]  # 0002 and 0009: same score, same votes: a true tie
    combined = {row[1]: row[header.index("综合得分")] for row in body}
    assert combined["DCGJ-2018-0002"] == pytest.approx(float(Fraction(9, 10) * Fraction(9000, 95) + Fraction(75, 10)))
    assert combined["DCGJ-2018-0001"] == 92.5 and combined["DCGJ-2018-0007"] == 82.0
    assert combined["DCGJ-2018-0008"] == pytest.approx(68.3158, abs=1e-4)
    assert [row[header.index("备注")] for row in body[:3]] == ["并列", "并列", None]
    assert all(row[header.index("结果")] == "建议名单" for row in body)  # 9 candidates, 100 places
    assert "参与排名 9 人" in output and "建议名单中一线职工 7/9 = 77.8%" in output and "达标" in output
    assert "1. DCGJ-2018-0002 陈二" in output and "1. DCGJ-2018-0009 自荐甲" in output


def test_rank_refuses_numbers_this_campaign_never_gave(wuhan, tmp_path):
    experts = tmp_path / "experts.csv"
    experts.write_text("受理编号,专家评分\nDCGJ-2018-0001,90\nDCGJ-2018-0999,80\n", encoding="utf-8")
    votes = tmp_path / "votes.csv"
    votes.write_text("受理编号,票数\nDCGJ-2018-0001,10\n", encoding="utf-8")
    result = intake(wuhan.config, "rank", "--experts", str(experts), "--votes", str(votes), check=False)
    assert result.returncode != 0 and "DCGJ-2018-0999" in result.stderr and "Traceback" not in result.stderr
