"""Pages from templates: autoescaped Jinja2, the staff vocabulary and Beijing times as filters.

Everything from mail (subjects, names, file names, form values, bodies) reaches a page only as
text: autoescape turns `<script>` into characters, `inert` takes the control characters and
bidirectional overrides out, and `masked` hides ID and phone numbers unless staff asked to see
them (an audited act).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from core import inert, words
from core.times import minute
from nominees.masking import mask_numbers_in
from staff.form_template import FORM_LABELS
from web.security import csrf_token

TEMPLATES = Path(__file__).parent / "templates"

NAVIGATION = (("/", "今日"), ("/nominees", "全部推荐"), ("/inbox", "来信与暂扣回复"), ("/paper", "纸质件"),
              ("/exports", "导出"), ("/report", "评选情况"), ("/forwards", "向上报送"))


def _one_line(value: Any) -> str:
    return inert.one_line(str(value) if value is not None else "")


def _text(value: Any) -> str:
    return inert.text(str(value) if value is not None else "")


def _masked(value: Any) -> str:
    return mask_numbers_in(_text(value))


def _size(value: int | None) -> str:
    if value is None:
        return "—"
    for unit in ("字节", "KB", "MB"):
        if value < 1024 or unit == "MB":
            return f"{value:,} {unit}" if unit == "字节" else f"{value:,.1f} {unit}"
        value /= 1024
    return str(value)


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(minute=minute, one_line=_one_line, text=_text, masked=_masked, size=_size,
                       status=lambda s: words.word(words.STATUS, s),
                       message_state=lambda s: words.word(words.MESSAGE_STATE, s),
                       reply_state=lambda s: words.word(words.REPLY_STATE, s),
                       hold_reason=lambda s: words.word(words.HOLD_REASON, s),
                       decision=lambda s: words.word(words.DECISION, s),
                       file_role=lambda s: words.word(words.ROLE, s),
                       staff_state=lambda s: words.word(words.STAFF_STATE, s),
                       staff_role=lambda s: words.word(words.STAFF_ROLE, s),
                       forward_state=lambda s: words.word(words.FORWARD_STATE, s),
                       export_state=lambda s: words.word(words.EXPORT_STATE, s),
                       sender_check=lambda s: words.word(words.SENDER_CHECK, s),
                       field_label=lambda name: FORM_LABELS.get(name, name))
    env.globals.update(words=words, navigation=NAVIGATION)
    return env


def notify(request: Request, text: str) -> None:
    """A line for the next page (after a redirect): what was just done."""
    request.session["notice"] = text


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A whole page: the template with the person, the campaign, the CSRF token and the menu."""
    env: Environment = request.app.state.templates
    runtime = request.app.state.runtime
    html = env.get_template(template).render(
        request=request, account=getattr(request.state, "account", None), csrf=csrf_token(request),
        profile=runtime.profile, path=request.url.path, notice=request.session.pop("notice", None), **context)
    return HTMLResponse(html, status_code=status)
