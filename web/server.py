"""Serving the console with uvicorn: in the foreground (`intake web`) or beside the service's jobs
(`intake run` with `[web] with_service`), on a thread of its own that stops with the service."""

from __future__ import annotations

import logging
import threading

import uvicorn

from core.net import is_loopback
from service.runtime import Runtime
from web.app import create_app

log = logging.getLogger("intake")


def _config(runtime: Runtime) -> uvicorn.Config:
    settings = runtime.config.web
    if not is_loopback(settings.host):
        log.warning("工作台监听 %s：请只经由 nginx（TLS）对外提供，见 README", settings.host)
    return uvicorn.Config(
        create_app(runtime), host=settings.host, port=settings.port, log_level="warning",
        # our own access log names method, path and status only: a query string may hold what was searched
        access_log=False, server_header=False, proxy_headers=True,
        forwarded_allow_ips=",".join(settings.trusted_proxies) or "127.0.0.1")


def serve(runtime: Runtime) -> None:
    """In the foreground until SIGTERM/SIGINT."""
    server = uvicorn.Server(_config(runtime))
    log.info("工作台已启动：http://%s:%s/", runtime.config.web.host, runtime.config.web.port)
    server.run()


class Companion:
    """The console beside the scheduler: started and stopped by the service (scheduler.py)."""

    def __init__(self, runtime: Runtime):
        self.server = uvicorn.Server(_config(runtime))
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self) -> None:
        self.thread.start()  # uvicorn installs no signal handlers off the main thread: the service owns them

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
