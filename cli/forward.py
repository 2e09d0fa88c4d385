"""`intake forward`: the district's accepted nominees to the city, as .eml files or over SMTP."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import actor_option, campaign_runtime, config_option
from core.inert import one_line


@click.command("forward")
@config_option
@click.option("--campaign", "campaign_id", help="the district's campaign profile id (default: the config's)")
@click.option("--send", is_flag=True, help="send the messages over SMTP now (staff confirm by passing it); "
              "without it they are only written to <data_path>/forward/")
@actor_option
def forward_command(config_file: Path | None, campaign_id: str | None, send: bool, actor: str) -> None:
    """Pass the accepted nominees not forwarded yet on to the city (forwards_to): a zip of a folder
    per nominee, a summary sheet and a covering letter, split under forward.max_message_bytes."""
    from core.times import utcnow
    from forward.forward import ForwardError, forward
    from forward.inside import CityBusy
    from service.lock import Busy

    runtime = campaign_runtime(config_file, campaign_id)
    try:
        result = forward(runtime, actor, utcnow(), send=send)
    except (ForwardError, Busy, CityBusy) as exc:
        raise click.ClickException(str(exc)) from None
    if not result.messages:
        click.echo("没有新受理、尚未报送的推荐人选。")
    else:
        kind = "补充报送" if result.supplement else "报送"
        click.echo(f"{kind} {len(result.nominees)} 人，{len(result.messages)} 封邮件（报送记录 #{result.forward_id}）：")
        for row in result.messages:
            click.echo(f"  {row.subject}  {row.size} 字节  {row.path}")
        for row in result.nominees:
            click.echo(f"  - {row.intake_number} {one_line(row.name)}")
    for line in result.missing + result.oversize:
        click.echo(f"  注意：{line}")
    if result.inside_city:
        filed = "、".join(f"M{number}" for number in result.filed_inside) or "无"
        click.echo(f"{result.inside_city} 由本机服务：已直接登记为其来件 {filed}（不经邮件，按市里的规则审核）")
    elif send:
        click.echo(f"已发送 {len(result.sent)} 封，未发出 {len(result.failed)} 封")
        for row in result.failed:
            click.echo(f"  未发出：{row.subject}：{row.last_error}（再次运行 intake forward --send 重发）")
    elif result.messages:
        click.echo("尚未发送：这些 .eml 文件在报送文件夹中；用 --send 经 SMTP 发出时不会重复报送这些人。")


COMMANDS = (forward_command,)
