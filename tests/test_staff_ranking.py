"""Wuhan's selection arithmetic on cases computed by hand (staff/ranking.py; the command itself
is driven on a filed database in test_staff_campaign.py)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from campaigns.schema import Ranking
from staff.ranking import RankingError, frontline_check, rank, read_scores, to_hundred


def F(value) -> Fraction:
    return Fraction(value)


def scores(**values) -> dict[str, Fraction]:
    return {key: F(value) for key, value in values.items()}


NINETY_TEN = dict(expert_weight=0.9, vote_weight=0.1)


def test_each_input_is_divided_by_its_highest_value():
    assert to_hundred(scores(a=8, b=10, c=5)) == {"a": 80, "b": 100, "c": 50}  # a panel scoring out of 10
    assert to_hundred(scores(a=250, b=1000, c=0)) == {"a": 25, "b": 100, "c": 0}
    assert to_hundred(scores(a=0, b=0)) == {"a": 0, "b": 0}  # nobody voted: nobody gains


def test_ninety_ten_the_shortlist_by_experts_and_the_winners_by_the_combined_score():
    # by hand (experts already out of 100 with a top score of 100; votes ÷ 1000 × 100):
    #   B 0.9×100 + 0.1×0   = 90      C 0.9×90 + 0.1×25 = 83.5    E = C = 83.5 (same score, same votes)
    #   D 0.9×75  + 0.1×100 = 77.5    A 0.9×80 + 0.1×50 = 77
    # the panel's shortlist (4) is by expert score: B, C, E, A; D is out though it beats A combined
    experts = scores(A=80, B=100, C=90, D=75, E=90)
    votes = scores(A=500, B=0, C=250, D=1000, E=250)
    result = rank(experts, votes, Ranking(**NINETY_TEN, shortlist=4, winners=3))
    table = {r.intake_number: r for r in result.ranked}
    assert {n: r.combined for n, r in table.items()} == {
        "A": 77, "B": 90, "C": F("83.5"), "D": F("77.5"), "E": F("83.5")}
    assert [r.intake_number for r in result.ranked] == ["B", "C", "E", "D", "A"]
    assert [r.rank for r in result.ranked] == [1, 2, 2, 4, 5]
    assert [r.tied for r in result.ranked] == [False, True, True, False, False]
    assert [r.intake_number for r in result.shortlist] == ["B", "C", "E", "A"]
    assert [r.intake_number for r in result.winners] == ["B", "C", "E"]
    assert table["D"].expert_rank == 5 and not table["D"].shortlisted
    assert result.cut_ties == []


def test_a_tie_across_the_cut_keeps_everyone_tied_and_says_so():
    experts = scores(A=80, B=100, C=90, E=90)
    votes = scores(A=500, B=0, C=250, E=250)
    result = rank(experts, votes, Ranking(**NINETY_TEN, shortlist=4, winners=2))
    assert [r.intake_number for r in result.winners] == ["B", "C", "E"]  # C and E share the 2nd place
    assert result.cut_ties == ["建议名单第2名有并列，3人均已列入，请评选委员会决定"]


def test_an_equal_combined_score_goes_to_the_better_expert_score():
    # X 0.9×90 + 0 = 81; Y 0.9×80 + 0.1×90 = 81; Z 0.9×100 + 0.1×100 = 100
    result = rank(scores(X=90, Y=80, Z=100), scores(X=0, Y=900, Z=1000), Ranking(**NINETY_TEN, shortlist=3, winners=3))
    assert [(r.intake_number, r.combined, r.rank, r.tied) for r in result.ranked] == [
        ("Z", 100, 1, False), ("X", 81, 2, False), ("Y", 81, 3, False)]


def test_missing_votes_count_as_none():
    result = rank(scores(A=90, B=90), scores(A=10), Ranking(**NINETY_TEN, shortlist=2, winners=1))
    assert [(r.intake_number, r.combined, r.votes) for r in result.ranked] == [("A", 100, 10), ("B", 90, 0)]


def test_the_front_line_rule_on_the_winners_names_who_would_come_in():
    # twelve shortlisted, ten winners by expert score alone (no votes): W01 best … W12 last
    experts = {f"W{k:02d}": F(100 - k) for k in range(1, 13)}
    result = rank(experts, {}, Ranking(**NINETY_TEN, shortlist=12, winners=10))
    front_line = {"W01", "W02", "W03", "W05", "W06", "W08", "W11", "W12"}  # 6 of the 10 winners
    check = frontline_check(result, front_line, 0.7)
    assert (check.front_line, check.total, check.needed, check.met, check.short_by) == (6, 10, 7, False, 1)
    assert check.share == Fraction(6, 10)
    assert check.come_in == ("W11",) and check.go_out == ("W10",)
    assert frontline_check(result, front_line | {"W04"}, 0.7).met  # 7 of 10 = 70% exactly is enough


def test_reading_the_files(tmp_path):
    experts = tmp_path / "experts.csv"
    # one row per expert: the panel's score is their mean; a UTF-8 BOM as Excel writes it
    experts.write_text("\ufeff受理编号, 专家 ,评分\nDCGJ-2018-0001,张,90\ndcgj-2018-0001,李,85.5\nDCGJ-2018-0002,张,70\n",
                       encoding="utf-8")
    assert read_scores(experts, "experts") == {"DCGJ-2018-0001": F("87.75"), "DCGJ-2018-0002": 70}
    votes = tmp_path / "votes.csv"
    votes.write_text("编号,得票数\nDCGJ-2018-0001,\"1,204\"\n", encoding="utf-8")
    assert read_scores(votes, "votes") == {"DCGJ-2018-0001": 1204}
    votes.write_text("受理编号,票数\nDCGJ-2018-0001,5\nDCGJ-2018-0001,6\n", encoding="utf-8")
    with pytest.raises(RankingError, match="出现多次"):
        read_scores(votes, "votes")
    votes.write_text("受理编号,票数\nDCGJ-2018-0001,-5\n", encoding="utf-8")
    with pytest.raises(RankingError, match="不能为负"):
        read_scores(votes, "votes")
    votes.write_text("姓名,备注\n张三,好\n", encoding="utf-8")
    with pytest.raises(RankingError, match="受理编号"):
        read_scores(votes, "votes")
