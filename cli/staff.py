"""Staff commands for the campaign as a whole: paper copies, the blank form, exports, the report, the ranking.

Exports hold ID and phone numbers in full, in folders only the service's user may open
(CONTRACT §5); command output masks them.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import actor_option, campaign_option, campaign_runtime, config_option, instant, runtime_from
from core.inert import one_line
from core.times import minute


@click.command()
@config_option
@campaign_option
@click.argument("keys", nargs=-1, required=True)
@click.option("--at", "at", help="when it arrived (ISO-8601, Asia/Shanghai when no offset); default: now")
@click.option("--undo", is_flag=True, help="it was marked by mistake")
@actor_option
def paper(config_file: Path | None, keys: tuple[str, ...], at: str | None, undo: bool, actor: str) -> None:
    """Mark nominees' paper copies as arrived (record numbers or intake numbers)."""
    from core.times import utcnow
    from staff.lookup import ReviewError
    from staff.paper import mark_paper

    runtime = runtime_from(config_file)
    try:
        marks = mark_paper(runtime, list(keys), actor, instant(at), utcnow(), undo=undo)
    except ReviewError as exc:
        raise click.ClickException(str(exc)) from None
    for mark in marks:
        row = mark.nominee
        state = "已撤销纸质件记录" if undo else f"纸质件 {minute(row.paper_copy_received_at)} 收到"
        click.echo(f"#{row.id} {row.intake_number or '无编号'} {one_line(row.name)}：{state}")


@click.command()
@click.option("--campaign", "campaign_id", required=True, help="campaign profile id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="where to write the .docx (default: <campaign>-推荐表.docx here)")
def template(campaign_id: str, output: Path | None) -> None:
    """Write the campaign's blank 推荐表/申报表 as .docx, as the form reader reads best."""
    import campaigns
    from staff.form_template import blank_form, default_filename

    try:
        profile = campaigns.load(campaign_id)
    except campaigns.ProfileError as exc:
        raise click.UsageError(str(exc)) from None
    target = output or Path(default_filename(profile))
    target.write_bytes(blank_form(profile))
    click.echo(f"已写出 {profile.form.title}：{target}")


@click.command()
@config_option
@click.option("--campaign", "campaign_id", help="campaign profile id (default: the config's)")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="the folder to write (default: <data_path>/exports/<campaign>-<time>)")
@actor_option
def export(config_file: Path | None, campaign_id: str | None, output: Path | None, actor: str) -> None:
    """Write the nominee list (.xlsx, ID and phone in full) and a folder of files per accepted nominee."""
    from core.times import beijing, utcnow
    from staff.export import export_campaign

    runtime = campaign_runtime(config_file, campaign_id)
    now = utcnow()
    folder = output or (runtime.config.exports_path / f"{runtime.profile.id}-{beijing(now):%Y%m%d-%H%M%S}")
    result = export_campaign(runtime, folder, now, actor)
    click.echo(f"名单：{result.workbook}（{result.rows} 人，含身份证号和电话，请妥善保管）")
    click.echo(f"已受理者材料：{result.folder}（{result.accepted} 人，{result.files} 个文件）")
    for problem in result.missing:
        click.echo(f"  注意：{problem}")


@click.command()
@config_option
@click.option("--campaign", "campaign_id", help="campaign profile id (default: the config's)")
@click.option("--html", "html", type=click.Path(dir_okay=False, path_type=Path),
              help="also write a self-contained HTML page with charts")
def report(config_file: Path | None, campaign_id: str | None, html: Path | None) -> None:
    """The campaign so far: totals by day, status, channel and unit; quotas; front-line share; paper copies."""
    from core.times import utcnow
    from staff.campaign_report import build_report, render_html, render_markdown

    runtime = campaign_runtime(config_file, campaign_id)
    figures = build_report(runtime.engine, runtime.profile, utcnow())
    click.echo(render_markdown(figures))
    if html:
        html.write_text(render_html(figures), encoding="utf-8")
        click.echo(f"HTML：{html}")


@click.command()
@config_option
@click.option("--campaign", "campaign_id", help="campaign profile id (default: the config's)")
@click.option("--experts", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="expert scores (.csv or .xlsx): 受理编号 and 专家评分 columns")
@click.option("--votes", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="online votes (.csv or .xlsx): 受理编号 and 票数 columns")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="the ranking as .xlsx (default: <data_path>/exports/<campaign>-排名.xlsx)")
def rank(config_file: Path | None, campaign_id: str | None, experts: Path, votes: Path, output: Path | None) -> None:
    """Combine expert scores and votes (the profile's weights), rank, and check the front-line share."""
    from staff.ranking import RankingError, rank_campaign

    runtime = campaign_runtime(config_file, campaign_id)
    if runtime.profile.selection.ranking is None:
        raise click.ClickException(f"评选活动 {runtime.profile.id} 的配置没有 selection.ranking，无需综合排名")
    target = output or runtime.config.exports_path / f"{runtime.profile.id}-排名.xlsx"
    try:
        result = rank_campaign(runtime, experts, votes, target)
    except RankingError as exc:
        raise click.ClickException(str(exc)) from None
    for line in result.summary_lines():
        click.echo(line)
    click.echo(f"排名表：{target}")


COMMANDS = (paper, template, export, report, rank)
