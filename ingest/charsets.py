"""Charset labels as mailers write them, mapped to Python codecs, and bytes decoded without raising."""

from __future__ import annotations

import codecs
import re

# Labels that mean a narrower or older table than the bytes really use. GB18030 is a strict
# superset of GB2312 and GBK, and Chinese mailers label GBK text "gb2312" all the time.
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "ms936": "gb18030",
    "euc-cn": "gb18030", "x-euc-cn": "gb18030", "csgb2312": "gb18030", "chinese": "gb18030",
    "gb_2312-80": "gb18030", "windows-936": "gb18030",
    "big5": "big5hkscs", "x-big5": "big5hkscs", "cn-big5": "big5hkscs", "cp950": "big5hkscs", "big5-hkscs": "big5hkscs",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949",
    "windows-874": "cp874", "x-mac-cyrillic": "mac_cyrillic", "x-sjis": "cp932", "shift_jis": "cp932",
    "us-ascii": "ascii", "ascii": "ascii", "ansi_x3.4-1968": "ascii", "iso-8859-1": "cp1252", "latin1": "cp1252",
    "unicode-1-1-utf-7": "utf-7", "utf8": "utf-8", "utf_8": "utf-8",
}
# codecs Python has that are not text charsets a mail could honestly use; punycode and idna
# are also quadratic on long input
_REFUSED = {"punycode", "idna", "raw_unicode_escape", "unicode_escape", "undefined", "palmos"}
_LABEL = re.compile(r"[^a-z0-9_.:-]")


def codec_for(label: str | None) -> str | None:
    """The Python codec for a charset label from a mail, or None when unknown or unsafe."""
    if not label:
        return None
    name = _LABEL.sub("", label.strip().strip("\"'").lower())[:40]
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED:
        return None
    return _ALIASES.get(info.name, info.name)


def decode(data: bytes, label: str | None = None) -> tuple[str, bool]:
    """Text from bytes, and whether they decoded cleanly with the label or a fallback.

    Tries the declared charset, then UTF-8, then GB18030 (the mailbox is Chinese), then
    Big5 (Taiwan and Hong Kong senders), all strictly; if none fits, the declared charset
    (else GB18030) with replacement marks.
    """
    declared = codec_for(label)
    if declared == "ascii":  # "us-ascii" is the default label, not a promise
        declared = None
    for codec in dict.fromkeys(c for c in (declared, "utf-8", "gb18030", "big5hkscs") if c):
        try:
            return data.decode(codec), True
        except (UnicodeDecodeError, LookupError):
            continue
        except Exception:  # noqa: BLE001 - a codec with a bug of its own must not stop the message
            continue
    return data.decode(declared or "gb18030", "replace"), False


def to_bytes(text: str) -> bytes:
    """The original bytes of text that the email package read as ASCII with surrogateescape."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that did not come from a byte
        return text.encode("utf-8", "replace")


def has_raw_bytes(text: str) -> bool:
    """True when `text` carries undecoded 8-bit bytes (surrogate escapes)."""
    return any("\udc80" <= char <= "\udcff" for char in text) if not text.isascii() else False
