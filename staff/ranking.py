"""Wuhan's selection arithmetic: expert scores and online votes to one ranking, and the 70% rule.

The notice: the panel's review yields 120 candidates; the final 100 are chosen by 专家评审结果
90% and 网络投票 10%, and front-line workers must be at least 70% of them. Here:

- each input is brought to 0–100 by dividing by its highest value (× 100): the best expert
  score and the most votes become 100, every other keeps its ratio to them;
- combined = expert_weight × expert (0–100) + vote_weight × votes (0–100), from the profile;
- more candidates than the shortlist: the shortlist is the best `shortlist` by expert score
  (the panel's 120), and the winners are the best `winners` of it by the combined score;
- ties in the combined score are broken by the expert score, then by votes; what is still
  equal shares a rank and is flagged, and a tie across a cut is never cut arbitrarily: all
  tied candidates stay in and the summary says staff must decide;
- the front-line share is counted on the winners; when it falls short, the summary names
  the best-ranked front-line candidates of the shortlist who would have to come in.

All arithmetic is exact (fractions), so hand-computed cases and ties hold to the last digit.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from sqlmodel import select

from campaigns.schema import Ranking
from nominees.normalise import recommending_unit_of
from service.runtime import Runtime
from storage.db import session as new_session
from storage.filing import audit
from storage.models import NomineeRow

NUMBER_HEADERS = ("受理编号", "编号", "intakenumber", "intake_number", "number")
EXPERT_HEADERS = ("专家评分", "专家得分", "评分", "得分", "分数", "score")  # not 专家 alone: the expert's name
VOTE_HEADERS = ("票数", "得票", "投票", "票", "votes", "vote")
HUNDRED = Fraction(100)


class RankingError(Exception):
    """An input file that cannot be read as scores, or intake numbers this campaign never gave."""


@dataclass(frozen=True)
class Ranked:
    intake_number: str
    expert_raw: Fraction  # the panel's score (the mean where several rows give one)
    votes: Fraction
    expert: Fraction  # 0–100
    vote_score: Fraction  # 0–100
    combined: Fraction
    expert_rank: int
    rank: int  # by the combined score; equal candidates share it
    tied: bool  # shares its rank with another candidate
    shortlisted: bool
    winner: bool


@dataclass
class Result:
    ranking: Ranking
    ranked: list[Ranked]
    cut_ties: list[str] = field(default_factory=list)  # sentences about ties across a cut

    @property
    def shortlist(self) -> list[Ranked]:
        return [r for r in self.ranked if r.shortlisted]

    @property
    def winners(self) -> list[Ranked]:
        return [r for r in self.ranked if r.winner]


@dataclass(frozen=True)
class FrontlineCheck:
    front_line: int
    total: int
    required: Fraction
    needed: int  # front-line winners the rule asks for
    come_in: tuple[str, ...]  # best front-line candidates of the shortlist outside the winners …
    go_out: tuple[str, ...]  # … and the lowest-ranked winners who are not front-line

    @property
    def met(self) -> bool:
        return self.front_line >= self.needed

    @property
    def short_by(self) -> int:
        return max(self.needed - self.front_line, 0)

    @property
    def share(self) -> Fraction:
        return Fraction(self.front_line, self.total) if self.total else Fraction(0)


# --- arithmetic -------------------------------------------------------------------------------


def to_hundred(values: dict[str, Fraction]) -> dict[str, Fraction]:
    """Each value divided by the highest, × 100 (all 0 when the highest is 0)."""
    top = max(values.values(), default=Fraction(0))
    return {key: (value / top * HUNDRED if top else Fraction(0)) for key, value in values.items()}


def _competition_ranks(keys: list[tuple]) -> list[int]:
    """1224 ranking of keys already sorted best first: equal keys share the better rank."""
    ranks = []
    for position, key in enumerate(keys, 1):
        ranks.append(ranks[-1] if position > 1 and key == keys[position - 2] else position)
    return ranks


def rank(experts: dict[str, Fraction], votes: dict[str, Fraction], ranking: Ranking) -> Result:
    """Rank the candidates that have an expert score; missing votes count as 0."""
    expert = to_hundred(experts)
    vote_raw = {number: votes.get(number, Fraction(0)) for number in experts}
    vote = to_hundred(vote_raw)
    expert_weight = Fraction(Decimal(str(ranking.expert_weight)))
    vote_weight = Fraction(Decimal(str(ranking.vote_weight)))
    combined = {n: expert_weight * expert[n] + vote_weight * vote[n] for n in experts}

    by_expert = sorted(experts, key=lambda n: (-expert[n], n))
    expert_ranks = dict(zip(by_expert, _competition_ranks([(expert[n],) for n in by_expert])))
    cut_ties = []
    shortlisted = {n for n in experts if expert_ranks[n] <= ranking.shortlist}
    if len(shortlisted) > ranking.shortlist:
        cut_ties.append(f"入围第{ranking.shortlist}名（专家评分）有并列，{len(shortlisted)}人均已入围，请评选委员会决定")

    order = sorted(experts, key=lambda n: (-combined[n], -expert[n], -vote_raw[n], n))
    keys = [(combined[n], expert[n], vote_raw[n]) for n in order]
    overall = dict(zip(order, _competition_ranks(keys)))
    in_list = [n for n in order if n in shortlisted]
    list_ranks = dict(zip(in_list, _competition_ranks([(combined[n], expert[n], vote_raw[n]) for n in in_list])))
    winners = {n for n in in_list if list_ranks[n] <= ranking.winners}
    if len(winners) > ranking.winners:
        cut_ties.append(f"建议名单第{ranking.winners}名有并列，{len(winners)}人均已列入，请评选委员会决定")

    counts: dict[int, int] = {}
    for n in order:
        counts[overall[n]] = counts.get(overall[n], 0) + 1
    ranked = [Ranked(n, experts[n], vote_raw[n], expert[n], vote[n], combined[n], expert_ranks[n], overall[n],
                     counts[overall[n]] > 1, n in shortlisted, n in winners) for n in order]
    return Result(ranking, ranked, cut_ties)


def frontline_check(result: Result, front_line: set[str], required: float) -> FrontlineCheck:
    """The share of front-line workers among the winners against the rule (at least `required`)."""
    winners = result.winners
    share = Fraction(Decimal(str(required)))
    needed = math.ceil(share * len(winners))
    have = sum(1 for r in winners if r.intake_number in front_line)
    short = max(needed - have, 0)
    come_in = [r.intake_number for r in result.shortlist if not r.winner and r.intake_number in front_line][:short]
    go_out = [r.intake_number for r in reversed(winners) if r.intake_number not in front_line][:short]
    return FrontlineCheck(have, len(winners), share, needed, tuple(come_in), tuple(go_out))


# --- reading the files --------------------------------------------------------------------------


def read_table(path: Path) -> list[list[str]]:
    """The rows of a .csv (UTF-8 with or without BOM, else GB18030, as Excel in China saves it)
    or of the first sheet of an .xlsx, as text."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the sender's file, said plainly
            raise RankingError(f"{path.name} 无法作为 .xlsx 打开：{exc}") from None
        sheet = book.worksheets[0]
        rows = [["" if v is None else _cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
        return [row for row in rows if any(cell.strip() for cell in row)]
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RankingError(f"{path.name} 的编码无法识别（请另存为 UTF-8 的 CSV 或 .xlsx）")
    return [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _header_key(text: str) -> str:
    return re.sub(r"[\s（）()：:]", "", text).lower()


def _column(header: list[str], names: tuple[str, ...], skip: int | None) -> int | None:
    keys = [_header_key(h) for h in header]
    for name in names:
        for k, key in enumerate(keys):
            if k != skip and (key == name or name in key):
                return k
    return None


def _number(text: str, where: str) -> Fraction:
    cleaned = text.strip().replace(",", "").replace("，", "")
    try:
        value = Fraction(Decimal(cleaned))
    except (InvalidOperation, ValueError):
        raise RankingError(f"{where}：“{text}”不是数字") from None
    if value < 0:
        raise RankingError(f"{where}：分数或票数不能为负（{text}）")
    return value


def read_scores(path: Path, kind: str) -> dict[str, Fraction]:
    """Intake number → value. Experts: several rows of one number (one per expert) are averaged.
    Votes: one row per number."""
    rows = read_table(path)
    if len(rows) < 2:
        raise RankingError(f"{path.name} 没有数据行（第一行应为表头：受理编号、{'专家评分' if kind == 'experts' else '票数'}）")
    header, body = rows[0], rows[1:]
    number_column = _column(header, NUMBER_HEADERS, None)
    value_column = _column(header, EXPERT_HEADERS if kind == "experts" else VOTE_HEADERS, number_column)
    if value_column is None and number_column is not None and len(header) == 2:
        value_column = 1 - number_column
    if number_column is None or value_column is None:
        wanted = "专家评分" if kind == "experts" else "票数"
        raise RankingError(f"{path.name} 的表头应有“受理编号”和“{wanted}”两列，现为：{'、'.join(header)}")
    values: dict[str, list[Fraction]] = {}
    for line, row in enumerate(body, 2):
        number = (row[number_column] if number_column < len(row) else "").strip().upper()
        if not number:
            continue
        cell = row[value_column] if value_column < len(row) else ""
        values.setdefault(number, []).append(_number(cell, f"{path.name} 第{line}行"))
    if kind == "votes":
        repeated = [n for n, v in values.items() if len(v) > 1]
        if repeated:
            raise RankingError(f"{path.name} 中以下受理编号出现多次，票数无法确定：{'、'.join(repeated)}")
    return {number: sum(v, Fraction(0)) / len(v) for number, v in values.items()}


# --- the command ------------------------------------------------------------------------------


@dataclass
class CampaignRanking:
    result: Result
    frontline: FrontlineCheck | None
    people: dict[str, NomineeRow]
    warnings: list[str]

    def label(self, number: str) -> str:
        from core.inert import one_line

        row = self.people.get(number)
        return f"{number} {one_line(row.name)}" if row else number

    def summary_lines(self) -> list[str]:
        result, ranking = self.result, self.result.ranking
        lines = [f"参与排名 {len(result.ranked)} 人；入围 {len(result.shortlist)} 人（按专家评分取前 {ranking.shortlist}），"
                 f"建议名单 {len(result.winners)} 人（按综合得分取前 {ranking.winners}）",
                 f"综合得分 = {ranking.expert_weight:g} × 专家得分 + {ranking.vote_weight:g} × 投票得分；"
                 "专家得分 = 专家评分 ÷ 最高专家评分 × 100，投票得分 = 票数 ÷ 最高票数 × 100"]
        lines += [f"注意：{w}" for w in self.warnings + result.cut_ties]
        if self.frontline is not None:
            check = self.frontline
            lines.append(f"建议名单中一线职工 {check.front_line}/{check.total} = {float(check.share) * 100:.1f}%"
                         f"（要求不低于 {float(check.required) * 100:g}%，即至少 {check.needed} 人）："
                         + ("达标" if check.met else f"未达标，差 {check.short_by} 人"))
            if not check.met:
                lines.append("  可考虑调入（入围的一线职工，按综合排名）：" + ("、".join(map(self.label, check.come_in)) or "无"))
                going = "、".join(map(self.label, check.go_out)) or "无"
                lines.append(f"  对应调出（建议名单中排名最后的非一线职工）：{going}")
        lines.append("建议名单：")
        for r in result.winners:
            tie = "（并列）" if r.tied else ""
            lines.append(f"  {r.rank}. {self.label(r.intake_number)}  综合 {float(r.combined):.2f}{tie}")
        return lines


def rank_campaign(runtime: Runtime, experts_file: Path, votes_file: Path, output: Path) -> CampaignRanking:
    from core.files import private_folder

    profile = runtime.profile
    ranking = profile.selection.ranking
    experts = read_scores(experts_file, "experts")
    votes = read_scores(votes_file, "votes")
    with new_session(runtime.engine) as session:
        rows = session.exec(select(NomineeRow).where(NomineeRow.campaign_id == profile.id,
                                                     NomineeRow.superseded_by.is_(None),
                                                     NomineeRow.intake_number.is_not(None))).all()
    people = {row.intake_number: row for row in rows}
    unknown = sorted(set(experts) - set(people))
    if unknown:
        raise RankingError(f"专家评分中的受理编号不属于评选活动 {profile.id}（或已被替代）：{'、'.join(unknown)}")
    warnings = []
    if missing := sorted(n for n, r in people.items() if r.status == "accepted" and n not in experts):
        warnings.append(f"{len(missing)} 名已受理者没有专家评分，未参与排名：{'、'.join(missing)}")
    if not_accepted := sorted(n for n in experts if people[n].status != "accepted"):
        warnings.append(f"以下参与排名者的受理状态不是“受理”：{'、'.join(not_accepted)}")
    if no_votes := sorted(set(experts) - set(votes)):
        warnings.append(f"{len(no_votes)} 人没有投票记录，按 0 票计：{'、'.join(no_votes)}")
    if stray := sorted(set(votes) - set(experts)):
        warnings.append(f"投票中的以下受理编号没有专家评分，不参与排名：{'、'.join(stray)}")
    result = rank(experts, votes, ranking)
    front_line = {n for n, r in people.items() if (r.fields or {}).get("frontline") == "是"}
    check = None
    if profile.selection.frontline_min_share is not None:
        check = frontline_check(result, front_line, profile.selection.frontline_min_share)
    outcome = CampaignRanking(result, check, people, warnings)
    private_folder(output.parent)
    write_ranking(output, outcome, profile.title)
    with new_session(runtime.engine) as session:  # names and units of every candidate: purge finds it here
        audit(session, "campaign", 0, "ranked", note=f"{profile.id}: {output.resolve()}")
        session.commit()
    return outcome


def write_ranking(path: Path, outcome: CampaignRanking, title: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from core.files import write_private
    from staff.export import append_inert

    book = Workbook()
    sheet = book.active
    sheet.title = "排名"
    header = ["综合排名", "受理编号", "姓名", "工作单位", "推荐单位", "是否一线职工", "专家评分", "专家得分(百分制)",
              "票数", "投票得分(百分制)", "综合得分", "专家排名", "结果", "备注"]
    append_inert(sheet, header)
    for r in outcome.result.ranked:
        row = outcome.people.get(r.intake_number)
        fields = (row.fields or {}) if row else {}
        result = "建议名单" if r.winner else "入围" if r.shortlisted else "未入围"
        append_inert(sheet, [r.rank, r.intake_number, row.name if row else "", row.employer if row else "",
                      recommending_unit_of(fields), fields.get("frontline", ""),
                      round(float(r.expert_raw), 4), round(float(r.expert), 4), round(float(r.votes), 4),
                      round(float(r.vote_score), 4), round(float(r.combined), 4), r.expert_rank, result,
                      "并列" if r.tied else ""])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFGHIJKLMN", (9, 16, 10, 26, 26, 8, 10, 10, 9, 10, 10, 9, 10, 8)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "C2"
    about = book.create_sheet("说明")
    append_inert(about, ["评选活动", title])
    for line in outcome.summary_lines():
        if line.startswith("建议名单："):
            break
        append_inert(about, [line])
    buffer = io.BytesIO()
    book.save(buffer)
    write_private(path, buffer.getvalue())
