"""Matches (a volunteer and a need brought together) and the sessions logged for them."""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiosqlite
import orjson

from hub.store.db import Database


@dataclass(frozen=True)
class Match:
    id: int
    uuid: str
    need_id: int | None
    remote_need_id: int | None
    volunteer_id: int | None           # this hub's volunteer (a local or a sent offer's)
    offer_received_id: int | None
    offer_sent_id: int | None
    status: str
    accepted_at: float
    contact: dict[str, Any] | None     # the other side's contact, once handed over
    contact_at: float | None


@dataclass(frozen=True)
class Session:
    on_date: date
    minutes: int
    logged_by: str
    logged_at: float


def _match(row: aiosqlite.Row) -> Match:
    contact = orjson.loads(row["contact"]) if row["contact"] else None
    return Match(row["id"], row["uuid"], row["need_id"], row["remote_need_id"],
                 row["volunteer_id"], row["offer_received_id"], row["offer_sent_id"],
                 row["status"], row["accepted_at"], contact, row["contact_at"])


def write_match(conn: sqlite3.Connection, *, need_id: int | None = None,
                remote_need_id: int | None = None, volunteer_id: int | None = None,
                offer_received_id: int | None = None, offer_sent_id: int | None = None,
                contact: dict[str, Any] | None = None, now: float) -> str:
    """A new match, inside the caller's transaction; returns its uuid. `contact`: the other
    side's contact when it is known at once (a local volunteer's match)."""
    match_uuid = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO matches (uuid, need_id, remote_need_id, volunteer_id, offer_received_id, "
        "offer_sent_id, accepted_at, contact, contact_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (match_uuid, need_id, remote_need_id, volunteer_id, offer_received_id, offer_sent_id,
         now, None if contact is None else orjson.dumps(contact).decode(),
         None if contact is None else now))
    return match_uuid


async def add_local_match(db: Database, *, need_id: int, volunteer_id: int,
                          contact: dict[str, Any], now: float) -> str | None:
    """One of this hub's volunteers matched to one of its needs, with our coordinator's
    contact; the match's uuid, or None if that volunteer was already matched to that need.
    The check and the insert are one writer call: two clicks make one match."""
    def write(conn: sqlite3.Connection) -> str | None:
        if conn.execute("SELECT 1 FROM matches WHERE volunteer_id = ? AND need_id = ?",
                        (volunteer_id, need_id)).fetchone() is not None:
            return None
        return write_match(conn, need_id=need_id, volunteer_id=volunteer_id, contact=contact,
                           now=now)

    made: str | None = await db.run_in_writer(write)
    return made


async def get_match(db: Database, match_uuid: str) -> Match | None:
    row = await db.fetchone("SELECT * FROM matches WHERE uuid = ?", (match_uuid,))
    return None if row is None else _match(row)


async def match_for_offer_received(db: Database, offer_id: int) -> Match | None:
    row = await db.fetchone("SELECT * FROM matches WHERE offer_received_id = ?", (offer_id,))
    return None if row is None else _match(row)


async def match_for_offer_sent(db: Database, offer_id: int) -> Match | None:
    row = await db.fetchone("SELECT * FROM matches WHERE offer_sent_id = ?", (offer_id,))
    return None if row is None else _match(row)


async def match_for_volunteer_need(db: Database, volunteer_id: int, *,
                                   need_id: int | None = None,
                                   remote_need_id: int | None = None) -> Match | None:
    row = await db.fetchone(
        "SELECT * FROM matches WHERE volunteer_id = ? AND (need_id = ? OR remote_need_id = ?)",
        (volunteer_id, need_id, remote_need_id))
    return None if row is None else _match(row)


async def matches_for_need(db: Database, need_id: int) -> list[Match]:
    rows = await db.fetchall("SELECT * FROM matches WHERE need_id = ? ORDER BY id", (need_id,))
    return [_match(r) for r in rows]


async def needs_matched_but_open(db: Database, *, matched_before: float) -> list[int]:
    """Live needs with all the volunteers they want, still open or matching, whose newest
    match came after their last change and before `matched_before`: the step that fills a
    need after an accept did not run (a stop in between; the accept's own request has had
    its chance by then). A need staff changed since is left as they set it."""
    rows = await db.fetchall(
        "SELECT n.id FROM needs n JOIN matches m ON m.need_id = n.id AND m.status = 'active' "
        "WHERE n.status IN ('open', 'matching') AND n.deleted_at IS NULL GROUP BY n.id "
        "HAVING count(*) >= n.volunteers_wanted AND max(m.accepted_at) < ? "
        "AND max(m.accepted_at) > coalesce(n.updated_at, n.published_at) ORDER BY n.id",
        (matched_before,))
    return [int(row["id"]) for row in rows]


async def set_contact(db: Database, match_id: int, contact: dict[str, Any],
                      now: float | None = None) -> None:
    await db.execute("UPDATE matches SET contact = ?, contact_at = ? WHERE id = ?",
                     (orjson.dumps(contact).decode(), now or time.time(), match_id))


async def matched_since(db: Database, since: float) -> dict[str, list[float]]:
    """When each volunteer (by uuid) was matched since `since`, for the fairness term."""
    rows = await db.fetchall("SELECT v.uuid, m.accepted_at FROM matches m "
                             "JOIN volunteers v ON v.id = m.volunteer_id "
                             "WHERE m.accepted_at >= ?", (since,))
    out: dict[str, list[float]] = {}
    for row in rows:
        out.setdefault(row["uuid"], []).append(row["accepted_at"])
    return out


async def active_commitments(db: Database) -> dict[str, int]:
    """How many active matches each volunteer (by uuid) has, against their capacity."""
    rows = await db.fetchall("SELECT v.uuid, count(*) AS n FROM matches m "
                             "JOIN volunteers v ON v.id = m.volunteer_id "
                             "WHERE m.status = 'active' GROUP BY v.uuid")
    return {r["uuid"]: r["n"] for r in rows}


async def add_session(db: Database, match_id: int, on_date: date, minutes: int,
                      logged_by: str, now: float | None = None) -> Session:
    now = time.time() if now is None else now
    await db.execute(
        "INSERT INTO match_sessions (match_id, on_date, minutes, logged_by, logged_at) "
        "VALUES (?, ?, ?, ?, ?)", (match_id, on_date.isoformat(), minutes, logged_by, now))
    return Session(on_date, minutes, logged_by, now)


async def list_sessions(db: Database, match_id: int) -> list[Session]:
    rows = await db.fetchall("SELECT * FROM match_sessions WHERE match_id = ? "
                             "ORDER BY on_date, id", (match_id,))
    return [Session(date.fromisoformat(r["on_date"]), r["minutes"], r["logged_by"],
                    r["logged_at"]) for r in rows]


async def matches_of_volunteer(db: Database, volunteer_id: int) -> list[dict[str, Any]]:
    """The volunteer's matches with each need's title and the sessions logged (their data
    export)."""
    rows = await db.fetchall(
        "SELECT m.*, COALESCE(n.title, r.title) AS title FROM matches m "
        "LEFT JOIN needs n ON n.id = m.need_id "
        "LEFT JOIN remote_needs r ON r.id = m.remote_need_id "
        "WHERE m.volunteer_id = ? ORDER BY m.id", (volunteer_id,))
    out = []
    for r in rows:
        sessions = await list_sessions(db, r["id"])
        out.append({"need": r["title"], "status": r["status"], "accepted_at": r["accepted_at"],
                    "sessions": [{"date": s.on_date.isoformat(), "minutes": s.minutes,
                                  "logged_by": s.logged_by} for s in sessions]})
    return out
