"""Staff accounts and their console sessions.

Passwords are stored as argon2id hashes (argon2-cffi's RFC 9106 parameters), rehashed at login
when those parameters change. Sessions are rows keyed by the SHA-256 of the cookie's token.
Hashing runs in threads, at most two at once: each costs ~64 MiB and a fifth of a second.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from functools import cache

import aiosqlite
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from federation.errors import NotFound, ValidationError
from hub.store.db import Database

ROLES = ("coordinator", "helper")
_ROLE_RANK = {"helper": 1, "coordinator": 2}  # a coordinator may do all a helper may
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # bounds the work one login can ask of the hasher
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,39}$")
# Compared with a password's letters alone, so "Password123!" is refused with "password".
_TRIVIAL_WORDS = frozenset({
    "password", "passwort", "passw", "pass", "qwerty", "qwertz", "azerty", "qwertyuiop",
    "asdfghjkl", "zxcvbnm", "letmein", "welcome", "iloveyou", "admin", "administrator", "changeme",
    "secret", "commonhub", "login", "abc", "abcdef", "abcdefghij", "football", "monkey",
    "dragon", "sunshine", "princess", "trustno", "whatever", "superman", "starwars", "master",
    "baseball", "hello", "helloworld", "test", "testing", "default", "community", "volunteer"})
# Keyboard and counting runs: a password that is a stretch of one of these is refused.
_RUNS = ("01234567890123456789", "98765432109876543210", "abcdefghijklmnopqrstuvwxyz",
         "zyxwvutsrqponmlkjihgfedcba", "qwertyuiopasdfghjklzxcvbnm", "1q2w3e4r5t6y7u8i9o0p")

_hasher = PasswordHasher()  # argon2id, RFC 9106 "low memory" profile
_hashing = threading.BoundedSemaphore(2)


class StaffError(ValidationError):
    """A staff account cannot be created or changed as asked; the message says why."""


class PasswordRejected(StaffError):
    """A new password breaks the policy."""


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    role: str
    created_at: float
    last_login_at: float | None
    disabled_at: float | None

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator"

    def has_role(self, role: str) -> bool:
        """True if this member's role is `role` or above it."""
        return _ROLE_RANK.get(self.role, 0) >= _ROLE_RANK[role]


@dataclass(frozen=True)
class StaffSession:
    id: str
    staff_id: int
    csrf_secret: str
    created_at: float
    last_seen_at: float
    expires_at: float
    user_agent: str


# Passwords ---------------------------------------------------------------------------------
def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise StaffError("a username is 2-40 characters among a-z, 0-9, '_', '.' and '-', "
                         "starting with a letter or digit")
    return name


def password_problem(password: str, username: str) -> str | None:
    """Why `password` is not acceptable for `username`, or None if it is."""
    if len(password) < MIN_PASSWORD:
        return f"the password must be at least {MIN_PASSWORD} characters long"
    if len(password) > MAX_PASSWORD:
        return f"the password must be at most {MAX_PASSWORD} characters long"
    lowered, name = password.lower(), username.lower()
    letters = re.sub(r"[^a-z]", "", lowered)
    if letters == name or (len(name) >= 4 and name in lowered):
        return "the password must not contain the username"
    if _is_trivial(letters):
        return "that password is too common; choose a less guessable one (a few random words)"
    if len(set(lowered)) < 4 or any(lowered in run for run in _RUNS):
        return "that password is too simple; choose a less guessable one (a few random words)"
    return None


def _is_trivial(letters: str) -> bool:
    """A common word, or one repeated ("passwordpassword")."""
    return any(letters and len(letters) % len(word) == 0
               and letters == word * (len(letters) // len(word)) for word in _TRIVIAL_WORDS)


def check_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem:
        raise PasswordRejected(problem)


def _prepare(password: str) -> str:
    # The same characters typed on another keyboard or OS must give the same hash.
    return unicodedata.normalize("NFKC", password)


def _hash_blocking(password: str) -> str:
    with _hashing:
        return _hasher.hash(_prepare(password))


def _verify_blocking(stored: str, password: str) -> bool:
    with _hashing:
        try:
            return _hasher.verify(stored, _prepare(password[:MAX_PASSWORD]))
        except (VerificationError, InvalidHashError):
            return False


@cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown users, so they take as long as known ones."""
    return _hasher.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hash_blocking, password)


async def verify_password(stored: str, password: str) -> bool:
    return await asyncio.to_thread(_verify_blocking, stored, password)


# Accounts ----------------------------------------------------------------------------------
def _staff(row: aiosqlite.Row | dict) -> Staff:
    return Staff(row["id"], row["username"], row["role"], row["created_at"],
                 row["last_login_at"], row["disabled_at"])


def check_role(role: str) -> str:
    if role not in ROLES:
        raise StaffError(f"role {role!r} is unknown: use {' or '.join(ROLES)}")
    return role


async def add_staff(db: Database, username: str, password: str, role: str = "helper") -> Staff:
    name, role = normalise_username(username), check_role(role)
    check_password(password, name)
    hashed, now = await hash_password(password), time.time()
    try:
        row_id = await db.execute(
            "INSERT INTO staff (username, password_hash, role, created_at, password_changed_at) "
            "VALUES (?, ?, ?, ?, ?)", (name, hashed, role, now, now))
    except aiosqlite.IntegrityError as exc:
        raise StaffError(f"a staff member called {name!r} already exists") from exc
    return Staff(row_id, name, role, now, None, None)


async def get_staff(db: Database, username: str) -> Staff | None:
    row = await db.fetchone("SELECT * FROM staff WHERE username = ?", (username.strip().lower(),))
    return None if row is None else _staff(row)


async def list_staff(db: Database) -> list[Staff]:
    return [_staff(r) for r in await db.fetchall("SELECT * FROM staff ORDER BY username")]


async def _require(db: Database, username: str) -> Staff:
    found = await get_staff(db, username)
    if found is None:
        raise NotFound(f"no staff member called {username!r}")
    return found


async def disable_staff(db: Database, username: str) -> Staff:
    """Disable an account and end all of its sessions at once."""
    found = await _require(db, username)
    if found.disabled_at is not None:
        raise StaffError(f"{found.username} is already disabled")
    async with db.transaction() as conn:
        await conn.execute("UPDATE staff SET disabled_at = ? WHERE id = ?", (time.time(), found.id))
        await conn.execute("DELETE FROM staff_sessions WHERE staff_id = ?", (found.id,))
    return found


async def set_password(db: Database, username: str, password: str) -> Staff:
    """Change a password; the account's existing sessions end (whoever held them)."""
    found = await _require(db, username)
    check_password(password, found.username)
    hashed = await hash_password(password)
    async with db.transaction() as conn:
        await conn.execute("UPDATE staff SET password_hash = ?, password_changed_at = ? "
                           "WHERE id = ?", (hashed, time.time(), found.id))
        await conn.execute("DELETE FROM staff_sessions WHERE staff_id = ?", (found.id,))
    return found


async def authenticate(db: Database, username: str, password: str) -> Staff | None:
    """The active staff member with these credentials, or None. Timing does not tell which
    part was wrong: an unknown name is verified against a dummy hash."""
    row = await db.fetchone("SELECT * FROM staff WHERE username = ?", (username.strip().lower(),))
    if row is None:
        await verify_password(_dummy_hash(), password)
        return None
    if not await verify_password(row["password_hash"], password) or row["disabled_at"]:
        return None
    if _hasher.check_needs_rehash(row["password_hash"]):
        await db.execute("UPDATE staff SET password_hash = ? WHERE id = ? AND password_hash = ?",
                         (await hash_password(password), row["id"], row["password_hash"]))
    return _staff(row)


# Sessions ----------------------------------------------------------------------------------
def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(db: Database, staff: Staff, *, lifetime: float, idle: float,
                        user_agent: str, replaces: str | None = None) -> tuple[str, StaffSession]:
    """A new session (and its cookie token) for a staff member who just logged in.

    The browser's previous session, if any, is deleted in the same transaction, and so are
    sessions that have expired anywhere: logging in is rare enough to pay for the sweep.
    """
    token, now = secrets.token_urlsafe(32), time.time()
    session = StaffSession(session_id(token), staff.id, secrets.token_urlsafe(32), now, now,
                           now + lifetime, user_agent[:300])
    async with db.transaction() as conn:
        if replaces:
            await conn.execute("DELETE FROM staff_sessions WHERE id = ?", (session_id(replaces),))
        await conn.execute("DELETE FROM staff_sessions WHERE expires_at <= ? OR last_seen_at <= ?",
                           (now, now - idle))
        await conn.execute(
            "INSERT INTO staff_sessions (id, staff_id, csrf_secret, created_at, last_seen_at, "
            "expires_at, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (session.id, session.staff_id, session.csrf_secret, now, now, session.expires_at,
             session.user_agent))
        await conn.execute("UPDATE staff SET last_login_at = ? WHERE id = ?", (now, staff.id))
    return token, session


async def find_session(db: Database, token: str, *, idle: float,
                       lifetime: float) -> tuple[StaffSession, Staff] | None:
    """The live session for a cookie token and its (active) staff member; an expired
    session is deleted. `lifetime` also caps sessions made under a longer setting."""
    row = await db.fetchone(
        "SELECT s.id AS session_id, s.csrf_secret, s.created_at AS started_at, s.last_seen_at, "
        "s.expires_at, s.user_agent, st.* FROM staff_sessions s "
        "JOIN staff st ON st.id = s.staff_id WHERE s.id = ? AND st.disabled_at IS NULL",
        (session_id(token),))
    if row is None:
        return None
    session = StaffSession(row["session_id"], row["id"], row["csrf_secret"], row["started_at"],
                           row["last_seen_at"], row["expires_at"], row["user_agent"])
    now = time.time()
    ends = min(session.expires_at, session.created_at + lifetime, session.last_seen_at + idle)
    if now >= ends:
        await end_session(db, session.id)
        return None
    return session, _staff(row)


async def touch_session(db: Database, session: StaffSession, *, every: float = 60.0) -> None:
    """Record activity, at most once a minute, so reading pages is not a write per request."""
    now = time.time()
    if now - session.last_seen_at >= every:
        await db.execute("UPDATE staff_sessions SET last_seen_at = ? WHERE id = ?",
                         (now, session.id))


async def end_session(db: Database, sid: str) -> None:
    """Delete one session (by its stored id, the token's hash)."""
    await db.execute("DELETE FROM staff_sessions WHERE id = ?", (sid,))
