"""One nominee: the form as read, findings, files with their pictures, the thread, the history,
and the forms that act on it (pages/acts.py). Its files are served from here, by record."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from campaigns.schema import FIELD_NAMES
from staff.form_template import FORM_LABELS
from storage.db import session as new_session
from storage.filing import audit
from storage.models import AttachmentRow, MessageRow, NomineeRow
from storage.stored import Shelf
from web.dossier import gather, what_shown
from web.downloads import attachment_response
from web.previews import Previews
from web.render import page
from web.security import Refused, staff


def previews_of(request: Request) -> Previews:
    return request.app.state.previews


REVEALED = "revealed"  # the nominees whose numbers this session asked to see (audited), the last few


def revealed(request: Request, nominee_id: int | None) -> bool:
    return nominee_id in request.session.get(REVEALED, [])


def show(request: Request, **extra) -> Response:
    runtime = request.app.state.runtime
    nominee_id = int(request.path_params["nominee_id"])
    reveal = revealed(request, nominee_id)
    dossier = gather(runtime, nominee_id, previews_of(request))
    if dossier is None:
        raise Refused(404, "没有这位被推荐人。")
    return page(request, "nominee.html", d=dossier, reveal=reveal, seal=dossier.nominee.seal or {},
                profile_seal=runtime.profile.seal, labels=[(name, FORM_LABELS.get(name, name)) for name in FIELD_NAMES],
                **extra)


@staff()
def nominee_page(request: Request) -> Response:
    return show(request)


@staff()
def reveal(request: Request) -> Response:
    """ID and phone numbers in full, and the form's pages (they show them too), for this session: audited.
    A POST, so that nothing of it is in a URL."""
    runtime, account = request.app.state.runtime, request.state.account
    nominee_id = int(request.path_params["nominee_id"])
    with new_session(runtime.engine) as session:
        row = session.get(NomineeRow, nominee_id)
        if row is None or row.campaign_id != runtime.profile.id:
            raise Refused(404, "没有这位被推荐人。")
        audit(session, "nominee", nominee_id, "personal_data_shown", actor=account.name,
              note="身份证号、联系电话完整显示（工作台）")
        session.commit()
    request.session[REVEALED] = [n for n in request.session.get(REVEALED, []) if n != nominee_id][-19:] + [nominee_id]
    return show(request)


def _record(request: Request) -> AttachmentRow:
    runtime = request.app.state.runtime
    with new_session(runtime.engine) as session:
        record = session.get(AttachmentRow, int(request.path_params["file_id"]))
        message = session.get(MessageRow, record.message_id) if record else None
    if record is None or message.campaign_id != runtime.profile.id:
        raise Refused(404, "没有这个文件。")
    return record


def _bytes(request: Request, record: AttachmentRow) -> bytes:
    runtime = request.app.state.runtime
    with new_session(runtime.engine) as session:
        index = Shelf(session, runtime.blobs, runtime.profile.limits).index(record.message_id)
    found = index.find(record) if index is not None else None
    if found is None:
        raise Refused(410, "原始邮件已删除（intake purge），文件不再保存。")
    return found.data


@staff()
def download(request: Request) -> Response:
    """The file as the sender sent it: always a download, under its sniffed type (never one that runs)."""
    runtime, account = request.app.state.runtime, request.state.account
    record = _record(request)
    data = _bytes(request, record)
    with new_session(runtime.engine) as session:
        audit(session, "attachment", record.id, "downloaded", actor=account.name, note=f"nominee {record.nominee_id}")
        session.commit()
    return attachment_response(data, record.filename or "附件", record.media_type)


_PICTURES = {"photo": lambda name: name in ("thumb", "large"), "video": lambda name: name == "poster",
             "pages": lambda name: name[:1] == "p" and name[1:].isdigit(), "": lambda name: False}


@staff()
def picture(request: Request) -> Response:
    """A picture we made of the file (thumb, large, p1…, poster): JPEG from our own encoder."""
    name = request.path_params["name"]
    record = _record(request)
    what = what_shown(record)  # from the file's record, never from the name asked for: a form is pages
    if not _PICTURES[what](name):
        raise Refused(404, "没有这张图。")
    if what == "pages" and not revealed(request, record.nominee_id):
        raise Refused(403, "推荐表页面含完整身份证号和电话：请先在被推荐人页面点“显示”。")
    previews = previews_of(request)
    path = previews.picture(record.sha256, name)
    if path is None:
        previews.prepare([(record.sha256, what, _bytes(request, record), record.path,
                           (record.probe or {}).get("seconds"))])
        path = previews.picture(record.sha256, name)
    if path is None:
        raise Refused(404, "这个文件没有可显示的图。")
    return FileResponse(path, media_type="image/jpeg", headers={"cache-control": "private, max-age=3600"})


ROUTES = [
    Route("/nominees/{nominee_id:int}", nominee_page, methods=["GET"]),
    Route("/nominees/{nominee_id:int}/reveal", reveal, methods=["POST"]),
    Route("/files/{file_id:int}/download", download, methods=["GET"]),
    Route("/files/{file_id:int}/{name:str}.jpg", picture, methods=["GET"]),
]
