"""Header text decoded the forgiving way: RFC 2047 words as Chinese mailers write them, raw 8-bit, addresses."""

from __future__ import annotations

import base64
import binascii
import re
from email.utils import getaddresses

from ingest import charsets

# Stricter than RFC 2047 in nothing that matters and looser where mailers are sloppy: no
# whitespace needed around a word, words inside quoted strings, spaces inside Q text.
_WORD = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def unfold(value: str) -> str:
    return _FOLD.sub("", value).replace("\r", "").replace("\n", " ")


def _b_bytes(text: str) -> bytes:
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
    if len(cleaned) % 4 == 1:  # one stray character cannot be decoded; drop it
        cleaned = cleaned[:-1]
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))


def _word_bytes(encoding: str, texts: list[str]) -> bytes:
    """The bytes of a run of same-charset words, joined before decoding.

    Foxmail and Outlook split long GBK names into words mid-character, and some split the
    base64 itself mid-quantum, so each word cannot be decoded on its own.
    """
    if encoding == "q":
        return b"".join(binascii.a2b_qp(t.encode("ascii", "replace"), header=True) for t in texts)
    out, pending = [], ""
    for text in texts:
        pending += text
        if len(pending.rstrip("=")) % 4 == 0 or pending.endswith("="):
            out.append(_b_bytes(pending))
            pending = ""
    if pending:
        out.append(_b_bytes(pending))
    return b"".join(out)


def decode_words(text: str, hint: str | None = None) -> str:
    """Text with every RFC 2047 encoded word decoded; raw 8-bit bytes decoded too.

    `hint` is a charset to try for raw 8-bit bytes after UTF-8 (the part's own charset).
    Linear in the length of the text, so an encoded-word storm costs only its size.
    """
    if charsets.has_raw_bytes(text):
        text = _raw_header(charsets.to_bytes(text), hint)
    if "=?" not in text:
        return text
    pieces: list[str] = []
    run: list[tuple[str, str, str]] = []  # (charset, encoding, text) of adjacent words
    position = 0
    for match in _WORD.finditer(text):
        gap = text[position : match.start()]
        if not (run and gap.strip() == ""):  # white space between two words is dropped
            _flush(run, pieces)
            pieces.append(gap)
        charset = match.group(1).split("*", 1)[0].lower()  # RFC 2231 language: utf-8*zh
        word = (charset, match.group(2).lower(), match.group(3))
        if run and run[-1][:2] != word[:2]:
            _flush(run, pieces)
        run.append(word)
        position = match.end()
    _flush(run, pieces)
    pieces.append(text[position:])
    return "".join(pieces)


def _flush(run: list[tuple[str, str, str]], pieces: list[str]) -> None:
    if not run:
        return
    charset, encoding = run[0][0], run[0][1]
    try:
        data = _word_bytes(encoding, [word[2] for word in run])
    except (binascii.Error, ValueError):
        pieces.append("".join(f"=?{c}?{e}?{t}?=" for c, e, t in run))  # leave it visible, undecoded
    else:
        pieces.append(charsets.decode(data, charset)[0])
    run.clear()


def _raw_header(raw: bytes, hint: str | None = None) -> str:
    # RFC 6532 says UTF-8, and UTF-8 almost never decodes by accident; older mailers send
    # their own charset (the part's, when it says) or, here, GBK unencoded
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return charsets.decode(raw, hint)[0]


def decode_value(value: str, hint: str | None = None) -> str:
    """A header value as people read it: unfolded, decoded, without control characters."""
    return _CONTROL.sub("", decode_words(unfold(str(value)), hint)).strip()


def addresses(value: str | None, limit: int = 1000) -> list[tuple[str, str]]:
    """(display name, bare lower-cased address) pairs, names decoded; at most `limit` of them."""
    if not value:
        return []
    text = unfold(str(value))
    if charsets.has_raw_bytes(text):
        text = _raw_header(charsets.to_bytes(text))
    try:
        pairs = getaddresses([text])
    except Exception:  # noqa: BLE001 - getaddresses has raised on hostile input in some Python versions
        return []
    found = []
    for name, address in pairs[:limit]:
        address = _CONTROL.sub("", address).strip().lower()
        if address:
            found.append((decode_value(name), address))
    return found
