"""导出: the roster (.xlsx), the accepted nominees' files (.zip, built in the background), the report page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from web.downloads import disposition
from web.jobs import Exports
from web.render import page
from web.security import Refused, staff


def _exports(request: Request) -> Exports:
    return request.app.state.exports


def _job(request: Request):
    job = _exports(request).of(request.path_params["token"])
    account = request.state.account
    if job is None or (job.owner != account.name and not account.may("admin")):
        raise Refused(404, "没有这个导出任务（服务重启后任务列表清空，请重新打包）。")
    return job


@staff()
def exports_page(request: Request) -> Response:
    account = request.state.account
    mine = [job for job in _exports(request).listed() if job.owner == account.name or account.may("admin")]
    return page(request, "exports.html", jobs=sorted(mine, key=lambda j: j.started, reverse=True))


@staff()
def start(request: Request) -> Response:
    job = _exports(request).start(request.state.account.name)
    return RedirectResponse(f"/exports/jobs/{job.token}", status_code=303)


@staff()
def job_page(request: Request) -> Response:
    return page(request, "export_job.html", job=_job(request))


@staff()
def job_download(request: Request) -> Response:
    job = _job(request)
    if job.state != "done" or not job.path.is_file():
        raise Refused(409, "打包尚未完成。")
    return FileResponse(job.path, media_type="application/zip", headers={"content-disposition": disposition(job.path.name)})


ROUTES = [
    Route("/exports", exports_page, methods=["GET"]),
    Route("/exports/jobs", start, methods=["POST"]),
    Route("/exports/jobs/{token:str}", job_page, methods=["GET"]),
    Route("/exports/jobs/{token:str}/download", job_download, methods=["GET"]),
]
