"""Large-attachment download links in a mail body (QQ 超大附件, 163/126 网盘, 百度网盘…), with the file names shown beside them.

A pure function over the body's text and HTML: mail services that refuse a big video put
a block like this in the body instead of attaching it:

    从QQ邮箱发来的超大附件
    张三事迹视频.mp4 (356.21M, 2017年05月10日 10:20 到期)
    进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=…

The file name is taken from the link's own text in HTML when it is one, else from the
nearest file name written before the link (on its line or up to three lines above), else
from after it on the same line.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

# (provider, pattern of the URL without the scheme): services people use for what e-mail will not carry
PROVIDERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("qq", r"(?:[\w-]+\.)*(?:mail|exmail)\.qq\.com/"
               r"(?:cgi-bin/ftnExs_download|cgi-bin/ftnDownload|ftn/download|cgi-bin/ftnGetDownload)"),
        ("qq", r"(?:[\w-]+\.)*ftn\.qq\.com/"),
        ("qq", r"(?:[\w-]+\.)*mail\.qq\.com/ftn/"),
        ("netease", r"(?:[\w-]+\.)*(?:163|126|yeah)\.(?:com|net)/large-attachment-download"),
        ("netease", r"(?:u|fs|dl)\.(?:163|126)\.com/"),
        ("netease", r"(?:[\w-]+\.)*fs\.mail\.(?:163|126)\.com/"),
        ("baidu", r"(?:pan|yun)\.baidu\.com/(?:s/|share/)"),
        ("aliyun", r"(?:www\.)?(?:aliyundrive|alipan)\.com/(?:s|t)/"),
        ("weiyun", r"share\.weiyun\.com/"),
        ("tianyi", r"cloud\.189\.cn/(?:t/|web/share)"),
        ("139", r"(?:caiyun|yun)\.139\.com/"),
        ("sina", r"(?:vdisk\.weibo\.com|mail\.sina\.com\.cn/cgi-bin/ftn)"),
        ("quark", r"pan\.quark\.cn/s/"),
        ("123pan", r"(?:www\.)?123pan\.com/s/"),
        ("lanzou", r"(?:[\w-]+\.)?lanzou[a-z]?\.com/"),
        ("wps", r"(?:kdocs\.cn/l/|www\.kdocs\.cn/l/)"),
        ("wetransfer", r"(?:we\.tl/|wetransfer\.com/downloads/)"),
        ("onedrive", r"(?:1drv\.ms/|onedrive\.live\.com/)"),
        ("google", r"drive\.google\.com/"),
    )
)
_URL = re.compile(r"https?://[^\s<>\"'“”（）()，。；、]+", re.IGNORECASE)
_FILE_NAME = re.compile(
    r"([^\s/\\:*?\"<>|：，,（(）)]{1,120}\.(?:mp4|mpg4|m4v|mov|avi|wmv|flv|3gp|mkv|mpg|mpeg|zip|rar|7z|jpe?g|png|heic|docx?|pdf))(?![\w.])",
    re.IGNORECASE,
)
_CODE = re.compile(r"(?:提取码|提取密码|访问码|密码)\s*[:：]?\s*([A-Za-z0-9]{4,8})")
_ANCHOR = re.compile(r"<a\b[^>]*?href\s*=\s*([\"'])(.*?)\1[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_BREAKS = re.compile(r"<(?:br|/p|/div|/tr|/li|p|div|tr|li)\b[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class LargeAttachmentLink:
    """A download link of a large-attachment or cloud-drive service, as the body shows it."""

    url: str
    provider: str  # qq, netease, baidu, aliyun, weiyun, …
    filename: str | None = None  # the file name shown beside the link, if any
    code: str | None = None  # the extraction code (提取码) written beside it, if any


def provider_of(url: str) -> str | None:
    """The service a URL belongs to, or None when it is no large-attachment link."""
    bare = re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE)
    return next((name for name, pattern in PROVIDERS if pattern.match(bare)), None)


def find_links(text: str, html: str | None = None) -> tuple[LargeAttachmentLink, ...]:
    """Every large-attachment link of the body, once each, in order; HTML anchors first."""
    found: dict[str, LargeAttachmentLink] = {}
    if html:
        for link in _html_links(html):
            found.setdefault(_key(link.url), link)
        text = text or _html_text(html)
    for link in _text_links(text or ""):
        key = _key(link.url)
        if key not in found or (found[key].filename is None and link.filename):
            found[key] = link
    return tuple(found.values())


def _key(url: str) -> str:
    return html_lib.unescape(url).rstrip("/.").lower()


def _html_links(html: str) -> list[LargeAttachmentLink]:
    links = []
    for match in _ANCHOR.finditer(html):
        url = html_lib.unescape(match.group(2)).strip()
        provider = provider_of(url)
        if provider is None:
            continue
        label = html_lib.unescape(_TAGS.sub("", match.group(3))).strip()
        named = _FILE_NAME.fullmatch(label)
        before = _html_text(html[max(0, match.start() - 2000) : match.start()])
        after = _html_text(html[match.end() : match.end() + 300])
        filename = named.group(1) if named else _name_near(before, after.split("\n", 1)[0])
        links.append(LargeAttachmentLink(url, provider, filename, _code_near(before, after)))
    return links


def _text_links(text: str) -> list[LargeAttachmentLink]:
    links = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        provider = provider_of(url)
        if provider is None:
            continue
        before = text[max(0, match.start() - 2000) : match.start()]
        after = text[match.end() : match.end() + 300]
        links.append(LargeAttachmentLink(url, provider, _name_near(before, after.split("\n", 1)[0]), _code_near(before, after)))
    return links


def _name_near(before: str, same_line_after: str) -> str | None:
    """The nearest file name before the link (its own line and three above, not past another link), else after it on its line."""
    lines = before.split("\n")[-4:]
    for number, line in enumerate(reversed(lines)):
        if number and _URL.search(line):
            break  # that line belongs to another link
        names = _FILE_NAME.findall(_URL.sub(" ", line))
        if names:
            return names[-1]
    after = _FILE_NAME.search(_URL.sub(" ", same_line_after))
    return after.group(1) if after else None


def _code_near(before: str, after: str) -> str | None:
    """The 提取码 written on the link's line, or on the next line when that line starts with it."""
    line, _, rest = after.partition("\n")
    following = rest.split("\n", 1)[0].strip()
    match = _CODE.search(line) or _CODE.search(before.split("\n")[-1])
    if match is None and _CODE.match(following):
        match = _CODE.match(following)
    return match.group(1) if match else None


def _html_text(html: str) -> str:
    return html_lib.unescape(_TAGS.sub("", _BREAKS.sub("\n", html)))
