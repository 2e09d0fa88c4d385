"""Console accounts: names, roles, Argon2 password hashes, and the login check with its limits.

A role does what the roles below it do and more: a clerk (办事员) views, searches, records paper
copies and answers questions; a reviewer (审核人) also decides; an admin (管理员) also manages
accounts. A failed login says only that it failed, never whether the name or the password
was wrong, and costs the same time either way.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlmodel import select

from core.times import utcnow
from core.words import STAFF_ROLE, StaffRole, states
from storage.db import session as new_session
from storage.filing import audit
from storage.models import WebUserRow

ROLES: tuple[str, ...] = states(StaffRole)  # in order: each one may do what those before it may
MIN_PASSWORD = 10
# a failed login counts against the name typed and the address it came from for this long
WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20
NAME_KEY_CHARS = 200  # what the throttle keeps of a name typed at the login (any length can be typed)

_hasher = PasswordHasher()  # Argon2id with the library's current parameters (RFC 9106's second choice)
# verified when the name is unknown, so that a wrong name takes as long as a wrong password
_DUMMY_HASH = _hasher.hash("no such account: the time of a real check")


class AccountError(Exception):
    """A user command that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class Account:
    """The person logged in, as pages and acts need them (no hash)."""

    id: int
    name: str
    role: str
    epoch: int

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def role_word(self) -> str:
        return STAFF_ROLE[self.role]


def _account(row: WebUserRow) -> Account:
    return Account(row.id, row.name, row.role, row.session_epoch)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少 {MIN_PASSWORD} 个字符")


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() or ord(c) < 32 for c in name):
        raise AccountError("用户名须为 1–64 个字符，不含空格")
    return name


def add_user(engine: Engine, name: str, role: str, password: str, actor: str) -> Account:
    name = _check_name(name)
    if role not in ROLES:
        raise AccountError(f"角色须为 {'、'.join(ROLES)} 之一")
    check_password(password)
    with new_session(engine) as session:
        if session.exec(select(WebUserRow).where(WebUserRow.name == name)).first() is not None:
            raise AccountError(f"用户 {name} 已存在")
        row = WebUserRow(name=name, role=role, password_hash=_hasher.hash(password))
        session.add(row)
        session.flush()
        audit(session, "web_user", row.id, "added", None, role, actor=actor, note=name)
        session.commit()
        return _account(row)


def _user(session, name: str) -> WebUserRow:
    row = session.exec(select(WebUserRow).where(WebUserRow.name == name.strip())).first()
    if row is None:
        raise AccountError(f"没有用户 {name}")
    return row


def set_password(engine: Engine, name: str, password: str, actor: str) -> None:
    """A new password; every session of the account ends."""
    check_password(password)
    with new_session(engine) as session:
        row = _user(session, name)
        row.password_hash, row.password_changed_at = _hasher.hash(password), utcnow()
        row.session_epoch += 1
        session.add(row)
        audit(session, "web_user", row.id, "password_changed", actor=actor, note=row.name)
        session.commit()


def set_active(engine: Engine, name: str, active: bool, actor: str) -> None:
    """Disable (every session ends at once) or enable an account; it is never deleted (the audit names it)."""
    with new_session(engine) as session:
        row = _user(session, name)
        before, row.active = row.active, active
        row.session_epoch += 1
        session.add(row)
        audit(session, "web_user", row.id, "enabled" if active else "disabled",
              "active" if before else "disabled", "active" if active else "disabled", actor=actor, note=row.name)
        session.commit()


def list_users(engine: Engine) -> list[WebUserRow]:
    with new_session(engine) as session:
        return list(session.exec(select(WebUserRow).order_by(WebUserRow.name)).all())


def current(engine: Engine, user_id: int, epoch: int) -> Account | None:
    """The account a session names, while it is active and its password unchanged since the login."""
    with new_session(engine) as session:
        row = session.get(WebUserRow, user_id)
    if row is None or not row.active or row.session_epoch != epoch:
        return None
    return _account(row)


class Throttle:
    """Failed logins in a sliding window, per name typed and per address (kept in memory: one process
    serves the console; a restart forgets them, which an attacker cannot cause from the login page)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        self.failures: dict[str, deque[float]] = {}
        self._swept = clock()

    def _recent(self, key: str) -> int:
        window = self.failures.get(key)
        if window is None:
            return 0
        while window and window[0] <= self.clock() - WINDOW_SECONDS:
            window.popleft()
        if not window:
            del self.failures[key]
        return len(window)

    def blocked(self, name: str, address: str) -> bool:
        with self.lock:
            return (self._recent(_name_key(name)) >= MAX_FAILURES_PER_NAME
                    or self._recent(f"addr:{address}") >= MAX_FAILURES_PER_ADDRESS)

    def failed(self, name: str, address: str) -> None:
        with self.lock:
            now = self.clock()
            self._sweep(now)
            for key in (_name_key(name), f"addr:{address}"):
                self.failures.setdefault(key, deque()).append(now)

    def succeeded(self, name: str) -> None:
        with self.lock:
            self.failures.pop(_name_key(name), None)

    def _sweep(self, now: float) -> None:
        """Windows with nothing left in them dropped, once a window's length: a run of guesses over
        thousands of names typed once each must not pile up in the console's memory."""
        if now - self._swept < WINDOW_SECONDS:
            return
        self._swept = now
        for key in [k for k, window in self.failures.items() if window[-1] <= now - WINDOW_SECONDS]:
            del self.failures[key]


def _name_key(name: str) -> str:
    return f"name:{name.strip().lower()[:NAME_KEY_CHARS]}"


def authenticate(engine: Engine, name: str, password: str, now: datetime | None = None) -> Account | None:
    """The account when the name and password match an active account; None otherwise, in the same time."""
    with new_session(engine) as session:
        row = session.exec(select(WebUserRow).where(WebUserRow.name == name.strip())).first()
        try:
            _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        row.last_login_at = now or utcnow()
        session.add(row)
        audit(session, "web_user", row.id, "logged_in", actor=row.name)
        session.commit()
        return _account(row)
