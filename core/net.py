"""Which hosts are this machine: the only ones a password may be sent to in plain text."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """`localhost` (also written `localhost.`), 127.0.0.0/8, ::1, or ::ffff:127.x; no DNS is asked.

    Names under `.localhost` are not accepted: RFC 6761 asks resolvers to keep them on this
    machine, but a resolver that does not would carry the password in plain over the network.
    """
    name = host.strip().strip("[]").lower()
    if name.rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)
