"""HTML mail bodies turned into plain text that keeps what people (and the link rule) look for."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import unquote

_BLOCKS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset", "figure",
    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
    "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
_HIDDEN = {"script", "style", "head", "title", "template", "noscript", "xml"}
_SPACES = re.compile(r"[ \t\r\n\f\xa0\u3000]+")  # the ideographic space too: it is padding in CJK mail
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")
_CID = re.compile(r"""cid:([^\s"'<>)]+)""", re.IGNORECASE)


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0
        self.links: list[tuple[str, int]] = []  # (href, position in out where its text starts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.out.append("\n")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((href.strip(), len(self.out)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:  # <br/>, <hr/>
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.out.append("\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            self._show_link(href, "".join(self.out[start:]))

    def _show_link(self, href: str, text: str) -> None:
        # A download page of 超大附件 is often linked from a bare "点击下载": keep the URL visible
        if not href or href.startswith(("#", "cid:", "javascript:")):
            return
        shown = href[7:] if href.lower().startswith("mailto:") else href
        if shown.strip() != _SPACES.sub(" ", text).strip():
            self.out.append(f" ({href})" if text.strip() else href)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.out.append(_SPACES.sub(" ", data))


def to_text(html: str) -> str:
    """Readable text of an HTML body: no scripts or styles, blocks on their own lines, links as "text (url)"."""
    maker = _TextMaker()
    try:
        maker.feed(html)
        if maker.rawdata.lstrip().startswith("<"):  # a tag cut off at the end is not text
            maker.rawdata = ""
        maker.close()
    except Exception:  # noqa: BLE001 - html.parser gives up on some broken markup; keep what it read
        pass
    lines = (line.strip() for line in "".join(maker.out).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def content_ids(html: str) -> set[str]:
    """The Content-IDs an HTML body refers to with cid: URLs, lower-cased, without <>."""
    return {unquote(found).strip("<>").lower() for found in _CID.findall(html)}


def declared_charset(html_bytes: bytes) -> str | None:
    """The charset an HTML document names in its own <meta>, for parts whose header says nothing."""
    found = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", html_bytes[:4096], re.IGNORECASE)
    return found.group(1).decode("ascii") if found else None
