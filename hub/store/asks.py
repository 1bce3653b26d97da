"""Asks: a volunteer asked whether they will take a need, answered by link or reply."""

from __future__ import annotations

import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite
import orjson

from hub.store.db import Database
from hub.store.tokens import token_hash

OPEN = "asked"


@dataclass(frozen=True)
class Ask:
    id: int
    uuid: str
    need_id: int | None            # one of this hub's needs ...
    remote_need_id: int | None     # ... or a neighbour's
    volunteer_id: int
    status: str                    # asked, yes, no, expired, withdrawn
    asked_by: str                  # staff or policy
    channels: tuple[str, ...]
    answered_via: str | None
    dm_note_id: str | None
    dm_actor: str | None
    asked_at: float
    expires_at: float
    answered_at: float | None

    def is_open(self, now: float) -> bool:
        return self.status == OPEN and now < self.expires_at


def _ask(row: aiosqlite.Row) -> Ask:
    return Ask(row["id"], row["uuid"], row["need_id"], row["remote_need_id"],
               row["volunteer_id"], row["status"], row["asked_by"],
               tuple(orjson.loads(row["channels"])), row["answered_via"], row["dm_note_id"],
               row["dm_actor"], row["asked_at"], row["expires_at"], row["answered_at"])


async def add_ask(db: Database, volunteer_id: int, *, need_id: int | None = None,
                  remote_need_id: int | None = None, asked_by: str, lifetime: float,
                  now: float | None = None) -> tuple[Ask, str] | None:
    """A new ask and its private token (returned once, stored hashed); None if this
    volunteer was already asked for this need."""
    now = time.time() if now is None else now
    token, ask_uuid = secrets.token_urlsafe(32), str(uuid.uuid4())
    try:
        row_id = await db.execute(
            "INSERT INTO asks (uuid, need_id, remote_need_id, volunteer_id, token_hash, "
            "asked_by, asked_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (ask_uuid, need_id, remote_need_id, volunteer_id, token_hash(token), asked_by,
             now, now + lifetime))
    except sqlite3.IntegrityError:
        return None
    ask = Ask(row_id, ask_uuid, need_id, remote_need_id, volunteer_id, OPEN, asked_by, (),
              None, None, None, now, now + lifetime, None)
    return ask, token


def write_dm(conn: sqlite3.Connection, ask_id: int, note_id: str, actor: str) -> None:
    """The ask went out by direct message (`note_id` to `actor`), written in the transaction
    that queues that message: a reply to it is always recognised as the answer."""
    conn.execute("UPDATE asks SET channels = ?, dm_note_id = ?, dm_actor = ? WHERE id = ?",
                 (orjson.dumps(["dm"]).decode(), note_id, actor, ask_id))


async def set_channels(db: Database, ask_id: int, channels: list[str], *,
                       also: Callable[[sqlite3.Connection], None] | None = None) -> None:
    """Every channel the ask went out by (see `write_dm` for the direct message's own);
    `also` writes in the same transaction (the ask's email)."""

    def write(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE asks SET channels = ? WHERE id = ?",
                     (orjson.dumps(channels).decode(), ask_id))
        if also is not None:
            also(conn)

    await db.run_in_writer(write)


async def delete_ask(db: Database, ask_id: int) -> None:
    await db.execute("DELETE FROM asks WHERE id = ?", (ask_id,))


async def get_ask(db: Database, ask_id: int) -> Ask | None:
    row = await db.fetchone("SELECT * FROM asks WHERE id = ?", (ask_id,))
    return None if row is None else _ask(row)


async def ask_by_uuid(db: Database, ask_uuid: str) -> Ask | None:
    row = await db.fetchone("SELECT * FROM asks WHERE uuid = ?", (ask_uuid,))
    return None if row is None else _ask(row)


async def ask_for_token(db: Database, token: str) -> Ask | None:
    row = await db.fetchone("SELECT * FROM asks WHERE token_hash = ?", (token_hash(token),))
    return None if row is None else _ask(row)


async def ask_for_message(db: Database, note_id: str) -> Ask | None:
    """The ask whose direct message has this id (a reply names it in `inReplyTo`)."""
    row = await db.fetchone("SELECT * FROM asks WHERE dm_note_id = ?", (note_id,))
    return None if row is None else _ask(row)


async def answer(db: Database, ask: Ask, status: str, via: str,
                 now: float | None = None) -> bool:
    """Record yes or no, only while the ask is open; False if it was not (any more)."""
    now = time.time() if now is None else now
    answered: bool = await db.run_in_writer(
        lambda conn: write_answer(conn, ask, status, via, now))
    return answered


def write_answer(conn: sqlite3.Connection, ask: Ask, status: str, via: str, now: float) -> bool:
    """`answer` inside the caller's transaction (a yes to a neighbour's need is written with
    the Offer it sends)."""
    cursor = conn.execute(
        "UPDATE asks SET status = ?, answered_via = ?, answered_at = ? "
        "WHERE id = ? AND status = 'asked' AND expires_at > ?",
        (status, via, now, ask.id, now))
    return cursor.rowcount > 0


async def close_ask(db: Database, ask: Ask, now: float | None = None) -> None:
    """An open ask whose need no longer takes answers ends as expired."""
    now = time.time() if now is None else now
    await db.execute("UPDATE asks SET status = 'expired', expires_at = min(expires_at, ?) "
                     "WHERE id = ? AND status = 'asked'", (now, ask.id))


async def withdraw(db: Database, ask: Ask, now: float | None = None) -> bool:
    """A yes taken back (before or after an offer was made); False if it was not a yes."""
    now = time.time() if now is None else now
    withdrawn: bool = await db.run_in_writer(lambda conn: write_withdraw(conn, ask, now))
    return withdrawn


def write_withdraw(conn: sqlite3.Connection, ask: Ask, now: float) -> bool:
    """`withdraw` inside the caller's transaction (with the offer's withdrawal and its Undo)."""
    cursor = conn.execute("UPDATE asks SET status = 'withdrawn', answered_at = ? "
                          "WHERE id = ? AND status = 'yes'", (now, ask.id))
    return cursor.rowcount > 0


async def expire_asks(db: Database, now: float | None = None) -> int:
    """Unanswered asks past their time become expired; returns how many."""
    now = time.time() if now is None else now
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE asks SET status = 'expired' WHERE status = 'asked' AND expires_at <= ?",
            (now,))
        return cursor.rowcount


async def list_asks(db: Database, *, need_id: int | None = None,
                    remote_need_id: int | None = None) -> list[Ask]:
    if need_id is not None:
        rows = await db.fetchall("SELECT * FROM asks WHERE need_id = ? ORDER BY id", (need_id,))
    else:
        rows = await db.fetchall("SELECT * FROM asks WHERE remote_need_id = ? ORDER BY id",
                                 (remote_need_id,))
    return [_ask(r) for r in rows]


async def asked_since(db: Database, since: float) -> dict[str, list[float]]:
    """When each volunteer (by uuid) was asked since `since`, for the fairness term."""
    rows = await db.fetchall("SELECT v.uuid, a.asked_at FROM asks a "
                             "JOIN volunteers v ON v.id = a.volunteer_id WHERE a.asked_at >= ?",
                             (since,))
    out: dict[str, list[float]] = {}
    for row in rows:
        out.setdefault(row["uuid"], []).append(row["asked_at"])
    return out


async def asks_of_volunteer(db: Database, volunteer_id: int) -> list[dict[str, Any]]:
    """The volunteer's asks with each need's title, oldest first (their data export)."""
    rows = await db.fetchall(
        "SELECT a.*, COALESCE(n.title, r.title) AS title, r.actor AS neighbour FROM asks a "
        "LEFT JOIN needs n ON n.id = a.need_id "
        "LEFT JOIN remote_needs r ON r.id = a.remote_need_id "
        "WHERE a.volunteer_id = ? ORDER BY a.id", (volunteer_id,))
    return [{"need": r["title"], "for_neighbouring_hub": r["neighbour"],
             "status": r["status"], "channels": orjson.loads(r["channels"]),
             "asked_at": r["asked_at"], "answered_at": r["answered_at"]} for r in rows]
