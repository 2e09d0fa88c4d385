"""Decisions on a nominee (reviewers): accept, reject, correct a field, choose between two filings.

Each goes through the staff function the command uses (staff/decisions.py, staff/corrections.py),
under the name of the person logged in. "预览回复" runs it as a dry run and shows the reply;
"发送回复并记录" then does it and sends that reply; "只记录，不回复" does it silently.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from campaigns.schema import FIELD_NAMES
from core import words
from core.times import utcnow
from staff.corrections import correct, masked_value
from staff.decisions import choose, decide
from staff.form_template import FORM_LABELS
from staff.lookup import ReviewError
from web.acting import Changed, dry_run, for_real, send_soon
from web.render import notify, page
from web.security import Refused, staff

log = logging.getLogger("intake")
MODES = ("preview", "send", "silent")


def _act(form, key: str, actor: str):
    """The staff function this form asks for, and what it does in words."""
    kind = str(form.get("act", ""))
    reason = str(form.get("reason", "")).strip()[:500] or None
    if kind in ("accept", "reject"):
        decision = "accepted" if kind == "accept" else "rejected"
        described = words.DECISION[decision] + (f"，原因：{reason}" if reason else "")
        return (lambda runtime, answering: decide(runtime, key, decision, actor, reason, utcnow(), answering)), described
    if kind == "correct":
        field_name, value = str(form.get("field", "")), str(form.get("value", ""))[:2000]
        if field_name not in FIELD_NAMES:
            raise Refused(400, "请选择要更正的字段。")
        described = f"更正“{FORM_LABELS.get(field_name, field_name)}”为 {masked_value(field_name, value)}"
        return (lambda runtime, answering: correct(runtime, key, field_name, value, actor, utcnow(), answering)), described
    if kind == "choose":
        keep = str(form.get("keep", ""))
        if keep not in ("earlier", "later"):
            raise Refused(400, "请选择保留此前的材料还是本次的材料。")
        choice = "保留此前已受理的材料" if keep == "earlier" else "以本次材料替代此前的"
        described = choice + (f"，原因：{reason}" if reason else "")
        return (lambda runtime, answering: choose(runtime, key, keep, actor, reason, utcnow(), answering)), described
    raise Refused(400, "未知的操作。")


def _preview(request: Request, nominee_id: int, summary: str, outcome, preview, problem: str = "") -> Response:
    return page(request, "act_preview.html", nominee_id=nominee_id, summary=summary, outcome=outcome,
                preview=preview, form=request.state.form, problem=problem)


@staff("reviewer")
def act(request: Request) -> Response:
    runtime, account, form = request.app.state.runtime, request.state.account, request.state.form
    nominee_id = int(request.path_params["nominee_id"])
    mode = str(form.get("mode", "preview"))
    if mode not in MODES:
        raise Refused(400, "未知的操作。")
    work, summary = _act(form, f"#{nominee_id}", account.name)
    try:
        if mode == "preview":
            outcome, preview = dry_run(runtime, work)
            return _preview(request, nominee_id, summary, outcome, preview)
        outcome = for_real(runtime, work, str(form.get("digest", "")), send=mode == "send")
    except Changed as changed:
        return _preview(request, nominee_id, summary, None, changed.preview, problem=str(changed))
    except ReviewError as refused:
        raise Refused(409, str(refused)) from None
    log.info("工作台：%s 对被推荐人 #%s：%s", account.name, nominee_id, form.get("act"))
    reply = getattr(outcome, "reply", None)
    if reply is not None and reply.state == "pending":
        send_soon(runtime)
    said = ("，回复已发出" if reply is not None and reply.state == "pending" else
            f"，回复已暂扣（{words.word(words.HOLD_REASON, reply.held_reason)}）" if reply is not None else "，未发送回复")
    notify(request, f"已{summary}{said}。")
    return RedirectResponse(f"/nominees/{nominee_id}", status_code=303)


ROUTES = [Route("/nominees/{nominee_id:int}/act", act, methods=["POST"])]
