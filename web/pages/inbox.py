"""来信与暂扣回复: questions staff answer in plain words (clerks), and held replies a reviewer lets go."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.times import utcnow
from service.waiting import queue
from staff.decisions import release
from staff.lookup import ReviewError
from staff.questions import answer, close
from storage.db import session as new_session
from storage.models import ReplyRow
from storage.stored import stored_body
from web.acting import Changed, dry_run, for_real, reply_preview, send_soon
from web.render import notify, page
from web.security import Refused, staff


@staff()
def inbox(request: Request) -> Response:
    runtime = request.app.state.runtime
    waiting = queue(runtime)
    bodies = {}
    for message in waiting.questions:
        body = stored_body(runtime.blobs, message, runtime.profile.limits)
        bodies[message.id] = body if body is not None else "（原始邮件已删除）"
    held = [(reply, message, reply_preview(reply)) for reply, message in waiting.held]
    return page(request, "inbox.html", questions=waiting.questions, bodies=bodies, held=held)


def _answering(key: str, text: str, actor: str):
    def work(runtime, answering):
        return answer(runtime, key, text, actor, utcnow(), answering.confirm or (lambda reply: True))

    return work


@staff()
def answer_question(request: Request) -> Response:
    runtime, account, form = request.app.state.runtime, request.state.account, request.state.form
    message_id = int(request.path_params["message_id"])
    text, mode = str(form.get("text", ""))[:5000], str(form.get("mode", "preview"))
    work = _answering(f"M{message_id}", text, account.name)
    try:
        if mode == "preview":
            reply, preview = dry_run(runtime, work)
            return page(request, "answer_preview.html", message_id=message_id, text=text, preview=preview)
        reply = for_real(runtime, work, str(form.get("digest", "")), send=True)
    except Changed as changed:
        return page(request, "answer_preview.html", message_id=message_id, text=text, preview=changed.preview,
                    problem=str(changed))
    except ReviewError as refused:
        raise Refused(409, str(refused)) from None
    if reply.state == "pending":
        send_soon(runtime)
    notify(request, f"已答复 M{message_id}（{'已发出' if reply.state == 'pending' else '已暂扣'}）。")
    return RedirectResponse("/inbox", status_code=303)


@staff()
def close_question(request: Request) -> Response:
    runtime, account = request.app.state.runtime, request.state.account
    message_id = int(request.path_params["message_id"])
    try:
        close(runtime, f"M{message_id}", account.name)
    except ReviewError as refused:
        raise Refused(409, str(refused)) from None
    notify(request, f"M{message_id} 已标记为已处理。")
    return RedirectResponse("/inbox", status_code=303)


@staff("reviewer")
def release_reply(request: Request) -> Response:
    """Let a held reply go: staff read it on the inbox page, as the sender will."""
    runtime, account = request.app.state.runtime, request.state.account
    reply_id = int(request.path_params["reply_id"])
    with new_session(runtime.engine) as session:
        reply = session.get(ReplyRow, reply_id)
    digest = str(request.state.form.get("digest", ""))
    try:
        release(runtime, reply_id, account.name,
                confirm=lambda held: reply is not None and reply_preview(held).digest == digest)
    except ReviewError as refused:
        raise Refused(409, str(refused)) from None
    send_soon(runtime)
    notify(request, f"回复 {reply_id} 已放行，正在发送。")
    return RedirectResponse("/inbox#held", status_code=303)


ROUTES = [
    Route("/inbox", inbox, methods=["GET"]),
    Route("/inbox/{message_id:int}/answer", answer_question, methods=["POST"]),
    Route("/inbox/{message_id:int}/done", close_question, methods=["POST"]),
    Route("/replies/{reply_id:int}/release", release_reply, methods=["POST"]),
]
