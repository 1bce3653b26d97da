"""Volunteers signing themselves up: sign-up links sent to fediverse accounts, and the email
waiting to be sent to a volunteer (see 0011_signup.sql and 0015_volunteer_messages.sql)."""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.store.db import Database
from hub.store.volunteers import token_hash


@dataclass(frozen=True)
class Invite:
    """A sign-up link the hub sent to one fediverse account."""

    actor_id: str
    handle: str
    token_hash: str
    expires_at: float


@dataclass(frozen=True)
class VolunteerMail:
    id: int
    volunteer_id: int
    kind: str  # welcome, link, approved (written when sent), or message (written whole)
    link: str | None
    sent_at: float | None
    subject: str | None = None  # a message's
    body: str | None = None
    given_up_at: float | None = None
    created_at: float = 0.0


async def new_invite(db: Database, actor_id: str, handle: str, lifetime: float) -> str:
    """A fresh single-use token for this account (stored hashed), replacing any earlier one."""
    token, now = secrets.token_urlsafe(32), time.time()
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM volunteer_invites WHERE expires_at <= ?", (now,))
        await conn.execute(
            "INSERT INTO volunteer_invites (actor_id, handle, token_hash, created_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (actor_id) DO UPDATE SET "
            "handle = excluded.handle, token_hash = excluded.token_hash, "
            "created_at = excluded.created_at, expires_at = excluded.expires_at",
            (actor_id, handle, token_hash(token), now, now + lifetime))
    return token


async def invite_for_token(db: Database, token: str) -> Invite | None:
    row = await db.fetchone("SELECT * FROM volunteer_invites WHERE token_hash = ? "
                            "AND expires_at > ?", (token_hash(token), time.time()))
    return None if row is None else Invite(row["actor_id"], row["handle"], row["token_hash"],
                                           row["expires_at"])


async def queue_mail(db: Database, volunteer_id: int, kind: str, link: str | None) -> int:
    return await db.execute("INSERT INTO volunteer_mail (volunteer_id, kind, link, created_at) "
                            "VALUES (?, ?, ?, ?)", (volunteer_id, kind, link, time.time()))


def message_writer(volunteer_id: int, subject: str, text: str, *,
                   ask_id: int | None = None) -> Callable[[sqlite3.Connection], None]:
    """A write that queues one email to the volunteer (asking them `ask_id`, if it does),
    for the transaction of the change it reports (`also=`); the job runner sends it
    (hub.jobs.volunteer_mail)."""

    def write(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO volunteer_mail (volunteer_id, kind, subject, body, "
                     "created_at, ask_id) VALUES (?, 'message', ?, ?, ?, ?)",
                     (volunteer_id, subject, text, time.time(), ask_id))

    return write


async def undelivered_asks(db: Database, ask_ids: list[int]) -> set[int]:
    """Those of these asks whose email was given up (the mail server kept refusing it)."""
    if not ask_ids:
        return set()
    marks = ", ".join("?" * len(ask_ids))
    rows = await db.fetchall(f"SELECT ask_id FROM volunteer_mail WHERE ask_id IN ({marks}) "
                             "AND given_up_at IS NOT NULL", ask_ids)
    return {row["ask_id"] for row in rows}


# A mail's job key: its id and its time in milliseconds (an id comes back once an erasure
# deleted the newest rows), worked out by SQLite alone, so the planner can ask for the rows
# no job stands for yet.
_STAMP = "CAST(m.created_at * 1000 AS INTEGER)"
MAIL_KEY = f"'volunteer-mail:' || m.id || ':' || {_STAMP}"


async def unplanned_mail(db: Database, limit: int = 500) -> list[tuple[int, int, str]]:
    """(id, stamp, job key) of mail still to send that no job stands for, oldest first. One
    whose job failed or was skipped is not offered again, nor does it hide newer ones."""
    rows = await db.fetchall(
        f"SELECT m.id, {_STAMP} AS stamp, {MAIL_KEY} AS key FROM volunteer_mail m "
        "WHERE m.sent_at IS NULL AND m.given_up_at IS NULL AND NOT EXISTS (SELECT 1 FROM "
        f"scheduled_jobs j WHERE j.key = {MAIL_KEY}) ORDER BY m.id LIMIT ?", (limit,))
    return [(r["id"], r["stamp"], r["key"]) for r in rows]


async def get_mail(db: Database, mail_id: int, stamp: int | None = None) -> VolunteerMail | None:
    """The mail with this id (and stamp, if given: a job made for an earlier row with the same
    id finds nothing)."""
    row = await db.fetchone(
        f"SELECT * FROM volunteer_mail m WHERE m.id = ? AND (? IS NULL OR {_STAMP} = ?)",
        (mail_id, stamp, stamp))
    return None if row is None else VolunteerMail(row["id"], row["volunteer_id"], row["kind"],
                                                  row["link"], row["sent_at"], row["subject"],
                                                  row["body"], row["given_up_at"],
                                                  row["created_at"])


# Both find the row by its time too: while a send takes its time, an erasure may delete the
# row and a new one take its id.
async def give_up_mail(db: Database, mail: VolunteerMail) -> None:
    """The mail server kept refusing it: not sent, and its link and text are forgotten."""
    await db.execute("UPDATE volunteer_mail SET given_up_at = ?, link = NULL, body = NULL "
                     "WHERE id = ? AND created_at = ? AND sent_at IS NULL",
                     (time.time(), mail.id, mail.created_at))


async def mark_mail_sent(db: Database, mail: VolunteerMail) -> None:
    """Sent: the private link it carried, and a message's text, are forgotten."""
    await db.execute("UPDATE volunteer_mail SET sent_at = ?, link = NULL, body = NULL "
                     "WHERE id = ? AND created_at = ?", (time.time(), mail.id, mail.created_at))
