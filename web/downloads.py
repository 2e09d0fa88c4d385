"""Files handed to the browser: always as a download, under a type that cannot run in the page.

A file from mail is served only through its record (the id in the URL names a row of the
attachment table; its bytes come from the stored mail), never from a path in the request, and
never inline: Content-Disposition: attachment, `nosniff`, and a type that is never HTML, SVG,
XML or script whatever the sender claimed.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

from core.files import clean_name

# types a browser would render or run in our origin if it ever displayed them
_ACTIVE = ("text/", "image/svg", "application/xhtml", "application/xml", "application/javascript",
           "application/ecmascript", "multipart/")


def safe_type(media_type: str | None) -> str:
    media_type = (media_type or "").split(";")[0].strip().lower()
    if not media_type or "/" not in media_type or media_type.startswith(_ACTIVE) or "xml" in media_type \
            or "html" in media_type or "script" in media_type:
        return "application/octet-stream"
    return media_type


def disposition(filename: str) -> str:
    """attachment; an ASCII fallback name and the real one in RFC 5987 form (a name from mail
    cannot break out of the header: control characters and quotes are gone before quoting)."""
    name = clean_name(filename).replace('"', "_")
    fallback = "".join(c if c.isascii() and c.isprintable() else "_" for c in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_response(data: bytes, filename: str, media_type: str | None) -> Response:
    return Response(data, media_type=safe_type(media_type), headers={"content-disposition": disposition(filename)})
