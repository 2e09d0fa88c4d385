"""The campaign report: totals by day, status, channel and recommending unit; Wuhan's unit quotas
and front-line share; who still owes a paper copy. Markdown for the log, HTML with charts for people.

Counts are of current nominees (a filing replaced by a resubmission is not counted twice).
No ID or phone number appears here (CONTRACT §5).
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from campaigns.schema import Profile, UnitQuota
from core.times import SHANGHAI, aware
from nominees.normalise import CHECK_MARKS, chosen_options, clean_text, recommending_unit_of
from storage.db import session as new_session
from storage.models import MessageRow, ReplyRow
from storage.queries import current_nominees

TEMPLATES = Path(__file__).parent / "templates"
# The page's one script: it shows errors on the page, and any script the policy refused, and marks
# the page drawn. The policy allows it by the sha256 of this exact text (CSP level 2), so a script
# that came in with a name or a unit from a mail could never run, even were it not escaped.
PAGE_SCRIPT = """
  function note(text) {
    var box = document.getElementById("page-errors");
    box.hidden = false;
    box.textContent += text + "\\n";
  }
  window.addEventListener("error", function (event) { note(event.message || "error"); });
  document.addEventListener("securitypolicyviolation", function (event) {
    note("页面安全策略已拦截一段不属于本页的内容（" + event.violatedDirective + "）");
  });
  document.documentElement.setAttribute("data-rendered", "yes");
"""
STATUS_WORDS = {"accepted": "受理", "needs_review": "待人工核对", "rejected": "退回", "ignored": "不处理"}
STATUS_ORDER = ("accepted", "needs_review", "rejected", "ignored")
NO_UNIT = "（未填写推荐单位）"
OTHER_CATEGORY = "其他"


@dataclass(frozen=True)
class Count:
    label: str
    total: int
    accepted: int = 0


@dataclass(frozen=True)
class UnitLine:
    unit: str
    category: str  # a quota's category, or 其他
    accepted: int
    pending: int  # needs_review: may still count
    rejected: int
    minimum: int | None  # the quota's min_candidates; None where no quota applies

    @property
    def short_by(self) -> int:
        return max((self.minimum or 0) - self.accepted, 0)

    @property
    def met(self) -> bool | None:
        return None if self.minimum is None else self.accepted >= self.minimum


@dataclass(frozen=True)
class Frontline:
    yes: int
    no: int
    unknown: int
    required: float

    @property
    def total(self) -> int:
        return self.yes + self.no + self.unknown

    @property
    def share(self) -> float:
        return self.yes / self.total if self.total else 0.0

    @property
    def met(self) -> bool:
        return self.total > 0 and self.share >= self.required


@dataclass(frozen=True)
class Owed:
    intake_number: str
    name: str
    unit: str
    status: str


@dataclass
class Figures:
    campaign_id: str
    title: str
    generated_at: str
    messages: int = 0
    message_statuses: list[Count] = field(default_factory=list)
    nominees: int = 0
    by_status: list[Count] = field(default_factory=list)
    by_day: list[Count] = field(default_factory=list)  # label: the day; total: nominees; accepted
    messages_by_day: dict[str, int] = field(default_factory=dict)
    by_channel: list[Count] = field(default_factory=list)
    by_unit: list[UnitLine] = field(default_factory=list)
    quotas: list[UnitQuota] = field(default_factory=list)
    frontline: Frontline | None = None
    paper_required: bool = False
    paper_owed: list[Owed] = field(default_factory=list)
    pending_review: int = 0
    held_replies: int = 0

    @property
    def quota_units(self) -> list[UnitLine]:
        return [u for u in self.by_unit if u.minimum is not None]

    @property
    def quotas_met(self) -> int:
        return sum(1 for u in self.quota_units if u.met)


def _chosen(value: str) -> str:
    """A ☐/☑ cell's chosen option, else the text as written (a blank option row chooses nothing)."""
    text = clean_text(value or "")
    if any(mark in text for mark in CHECK_MARKS):
        chosen = chosen_options(text)
        return chosen[0] if chosen else ""
    return "" if "☐" in text or "□" in text else text


def unit_category(fields: dict, quotas: tuple[UnitQuota, ...]) -> UnitQuota | None:
    """The quota a nominee's recommending unit falls under: 推荐单位类别 first (its category's name
    or one of its labels), then the words of 推荐单位 itself; quotas are tried in profile order."""
    for text in (_chosen(fields.get("unit_category", "")), recommending_unit_of(fields)):
        if not text:
            continue
        for quota in quotas:
            if text == quota.category or quota.category in text:
                return quota
        for quota in quotas:
            if any(label in text for label in quota.labels):
                return quota
    return None


def _day(moment: datetime) -> str:
    return aware(moment).astimezone(SHANGHAI).strftime("%Y-%m-%d")


def build_report(engine: Engine, profile: Profile, now: datetime) -> Figures:
    figures = Figures(profile.id, profile.title, aware(now).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))
    figures.quotas = list(profile.selection.unit_quotas)
    with new_session(engine) as session:
        messages = session.exec(select(MessageRow).where(MessageRow.campaign_id == profile.id,
                                                         MessageRow.state == "filed")).all()
        nominees = current_nominees(session, profile.id)
        figures.held_replies = session.exec(
            select(func.count()).select_from(ReplyRow).join(MessageRow, MessageRow.id == ReplyRow.message_id)
            .where(MessageRow.campaign_id == profile.id, ReplyRow.state == "held")).one()
        received = {m.id: m.received_at for m in messages}
        for nominee in nominees:
            if nominee.message_id not in received:
                received[nominee.message_id] = session.get(MessageRow, nominee.message_id).received_at
    _count_messages(figures, messages)
    _count_nominees(figures, nominees, received)
    figures.by_channel = _by_channel(nominees, profile)
    figures.by_unit = _by_unit(nominees, figures.quotas)
    _selection_checks(figures, nominees, profile)
    return figures


def _accepted_in(group: list) -> int:
    return sum(1 for n in group if n.status == "accepted")


def _count_messages(figures: Figures, messages: list[MessageRow]) -> None:
    figures.messages = len(messages)
    by_message_status = Counter(m.status for m in messages)
    figures.message_statuses = [Count(STATUS_WORDS[s], by_message_status[s]) for s in STATUS_ORDER
                                if by_message_status[s]]
    figures.messages_by_day = dict(sorted(Counter(_day(m.received_at) for m in messages).items()))


def _count_nominees(figures: Figures, nominees: list, received: dict[int, datetime]) -> None:
    figures.nominees = len(nominees)
    statuses = Counter(n.status for n in nominees)
    figures.by_status = [Count(STATUS_WORDS[s], statuses[s], statuses[s] if s == "accepted" else 0)
                         for s in STATUS_ORDER if statuses[s]]
    figures.pending_review = statuses["needs_review"]
    days: dict[str, list] = defaultdict(list)
    for nominee in nominees:
        days[_day(received[nominee.message_id])].append(nominee)
    for day in sorted(set(days) | set(figures.messages_by_day)):
        group = days.get(day, [])
        figures.by_day.append(Count(day, len(group), _accepted_in(group)))


def _by_channel(nominees: list, profile: Profile) -> list[Count]:
    channels: dict[str, list] = defaultdict(list)
    for nominee in nominees:
        channel = profile.channel_by_id(nominee.channel or "")
        channels[channel.label if channel else "（未识别）"].append(nominee)
    order = [c.label for c in profile.channels] + ["（未识别）"]
    return [Count(label, len(channels[label]), _accepted_in(channels[label])) for label in order if channels.get(label)]


def _by_unit(nominees: list, quotas: list) -> list[UnitLine]:
    units: dict[str, list] = defaultdict(list)
    for nominee in nominees:
        units[recommending_unit_of(nominee.fields or {}, nominee.recommending_unit) or NO_UNIT].append(nominee)
    lines = []
    for unit, group in units.items():
        found = Counter(q.category for n in group if (q := unit_category(n.fields or {}, quotas)) is not None)
        category = found.most_common(1)[0][0] if found else OTHER_CATEGORY
        quota = next((q for q in quotas if q.category == category), None)
        kinds = Counter(n.status for n in group)
        lines.append(UnitLine(unit, category, kinds["accepted"], kinds["needs_review"], kinds["rejected"],
                              quota.min_candidates if quota and unit != NO_UNIT else None))
    order = [q.category for q in quotas] + [OTHER_CATEGORY]
    return sorted(lines, key=lambda u: (order.index(u.category), -u.accepted, -u.pending, u.unit))


def _selection_checks(figures: Figures, nominees: list, profile: Profile) -> None:
    """The notice's rules over the whole list: the frontline share, the paper copies owed."""
    accepted = [n for n in nominees if n.status == "accepted"]
    if profile.selection.frontline_min_share is not None:
        answers = Counter((n.fields or {}).get("frontline", "") for n in accepted)
        figures.frontline = Frontline(answers["是"], answers["否"], len(accepted) - answers["是"] - answers["否"],
                                      profile.selection.frontline_min_share)
    figures.paper_required = profile.paper_copy.required
    if profile.paper_copy.required:
        figures.paper_owed = [Owed(n.intake_number or "", n.name, recommending_unit_of(n.fields or {}, n.recommending_unit),
                                   STATUS_WORDS[n.status])
                              for n in nominees if n.status in ("accepted", "needs_review")
                              and n.paper_copy_received_at is None]


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def render_markdown(figures: Figures) -> str:
    lines = [f"# 评选情况：{figures.title}（{figures.campaign_id}）", "", f"统计时间：{figures.generated_at}", ""]
    statuses = "，".join(f"{c.label} {c.total}" for c in figures.message_statuses) or "无"
    lines += [f"- 邮件 {figures.messages} 封：{statuses}",
              f"- 被推荐人 {figures.nominees} 人：" + ("，".join(f"{c.label} {c.total}" for c in figures.by_status) or "无"),
              f"- 待人工核对 {figures.pending_review} 人，暂扣的回复 {figures.held_replies} 封", ""]
    lines += ["## 按日", "", "| 日期 | 邮件 | 被推荐人 | 其中受理 |", "|---|---:|---:|---:|"]
    lines += [f"| {c.label} | {figures.messages_by_day.get(c.label, 0)} | {c.total} | {c.accepted} |"
              for c in figures.by_day]
    lines += ["", "## 按推荐方式", "", "| 推荐方式 | 被推荐人 | 其中受理 |", "|---|---:|---:|"]
    lines += [f"| {c.label} | {c.total} | {c.accepted} |" for c in figures.by_channel]
    lines += ["", "## 按推荐单位", ""]
    if figures.quotas:
        met = f"{figures.quotas_met}/{len(figures.quota_units)}"
        lines += [f"有名额要求的单位达标 {met}（"
                  + "；".join(f"{q.category}不少于{q.min_candidates}人" for q in figures.quotas) + "，按已受理人数计）", ""]
    lines += ["| 推荐单位 | 类别 | 受理 | 待核对 | 退回 | 要求 | 是否达标 |", "|---|---|---:|---:|---:|---:|---|"]
    for unit in figures.by_unit:
        if unit.minimum is None:
            verdict, minimum = "—", "—"
        else:
            verdict, minimum = ("达标" if unit.met else f"差 {unit.short_by} 人"), f"≥{unit.minimum}"
        lines.append(f"| {unit.unit} | {unit.category} | {unit.accepted} | {unit.pending} | {unit.rejected} | "
                     f"{minimum} | {verdict} |")
    if figures.frontline is not None:
        share = figures.frontline
        lines += ["", "## 一线职工比例", "",
                  f"已受理 {share.total} 人中一线职工 {share.yes} 人，占 {_percent(share.share)}"
                  f"（要求不低于 {_percent(share.required)}）：{'达标' if share.met else '未达标'}"
                  + (f"；另有 {share.unknown} 人未填写是否一线职工，按非一线计" if share.unknown else "")]
    if figures.paper_required:
        lines += ["", f"## 尚未收到纸质件（{len(figures.paper_owed)} 人）", ""]
        if figures.paper_owed:
            lines += ["| 受理编号 | 姓名 | 推荐单位 | 状态 |", "|---|---|---|---|"]
            lines += [f"| {o.intake_number} | {o.name} | {o.unit} | {o.status} |" for o in figures.paper_owed]
        else:
            lines.append("无")
    return "\n".join(lines) + "\n"


def render_html(figures: Figures) -> str:
    """One self-contained page: inline CSS and SVG charts, one script allowed by its hash, no network."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["percent"] = _percent
    return env.get_template("report.html.j2").render(r=figures, script=PAGE_SCRIPT,
                                                      script_source=script_source(PAGE_SCRIPT))


def script_source(script: str) -> str:
    """The CSP source that allows exactly this inline script: 'sha256-…' of its text as written."""
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
