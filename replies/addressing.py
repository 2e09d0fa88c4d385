"""Whom an automatic reply goes to: the real sender, never where a mail merely says.

RFC 3834 §4: an automatic response goes to the envelope sender (Return-Path), not to
Reply-To. A crafted mail could otherwise make the campaign's own address send any stranger
a reply that repeats its subject, a hundred strangers with a hundred mails. So:

- the base is the envelope sender our final mail server recorded (a Return-Path above the
  first Received: line; one further down was written by the sender), else From;
- Reply-To is followed only where it is the same organisation as the base (same domain, or
  a subdomain of it; never for the free mail providers, where a shared domain says nothing
  about a shared sender); otherwise the reply goes to the base and is held for staff, who
  may release it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core import inert
from ingest.headers import addresses
from ingest.types import Message

_ADDRESS = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:\[\]]+$")
# domains that millions share: the same domain is no sign of the same sender there
FREE_MAIL = frozenset({"qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com",
                       "139.com", "189.cn", "aliyun.com", "gmail.com", "outlook.com", "hotmail.com", "live.com",
                       "yahoo.com", "icloud.com", "me.com", "tom.com", "21cn.com", "wo.cn"})
# second-level names under which an organisation's own domain is the third label (cqgh.org.cn)
_SECOND_LEVEL = frozenset({"com", "net", "org", "gov", "edu", "ac", "mil", "co"})


@dataclass(frozen=True)
class Addressing:
    recipient: str | None  # bare, lower-cased; None: there is nobody to answer
    name: str  # the display name for To:, "" where there is none
    hold: str | None = None  # "reply_to_elsewhere": a Reply-To outside the sender's organisation


def usable(address: str | None) -> bool:
    # ASCII only: a reply is plain RFC 5322 (no SMTPUTF8), which cannot carry 张三@例子.中国
    return (bool(address) and address.isascii() and bool(_ADDRESS.match(address)) and not address.startswith(".")
            and "." in address.split("@", 1)[1])


def envelope_sender(message: Message) -> str | None:
    """The Return-Path our final server wrote (above the first Received:), when it is a real address."""
    for name, value in message.headers:
        lower = name.lower()
        if lower == "received":
            return None
        if lower == "return-path":
            found = [address for _name, address in addresses(value) if usable(address)]
            return found[0] if found else None
    return None


def organisation(domain: str) -> str:
    """cqgh.org → cqgh.org; mx.cqgh.org → cqgh.org; gh.cq.gov.cn → cq.gov.cn."""
    labels = domain.lower().rstrip(".").split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def same_sender(reply_to: str, base: str) -> bool:
    if reply_to == base:
        return True
    ours, theirs = base.rsplit("@", 1)[1], reply_to.rsplit("@", 1)[1]
    if organisation(ours) in FREE_MAIL or organisation(theirs) in FREE_MAIL:
        return False
    return organisation(ours) == organisation(theirs)


def _reply_to(message: Message) -> tuple[str, str] | None:
    for value in message.header_all("Reply-To"):
        for name, address in addresses(value):
            if usable(address):
                return name, address
    return None


def addressing(message: Message) -> Addressing:
    """Where the reply to `message` goes, and whether it waits for staff (see the module's docstring)."""
    base = envelope_sender(message) or (message.from_addr if usable(message.from_addr) else None)
    if base is None:
        return Addressing(None, "")
    from_name = inert.one_line(message.from_name)[:200] if base == message.from_addr else ""
    reply_to = _reply_to(message)
    if reply_to is None or reply_to[1] == base:
        return Addressing(base, from_name)
    name, address = reply_to
    if same_sender(address, base):
        return Addressing(address, inert.one_line(name)[:200])
    return Addressing(base, from_name, "reply_to_elsewhere")


def reply_recipient(message: Message) -> str | None:
    """The bare, lower-cased address a reply goes to, or None when there is nobody to answer."""
    return addressing(message).recipient
