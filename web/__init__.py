"""The office's web console (工作台): every submission, file and decision in a browser.

Server-rendered pages (Starlette, Jinja2) over the same records and the same staff functions
as the `intake review …` commands; accounts with roles, every act audited under the person
logged in. `intake web` serves it (web/server.py), `intake run` too when `[web] with_service`.
"""
