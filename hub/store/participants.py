"""Who is coming to each event: participant rows, their counts, and what they were told.

What a request does is decided by the RSVP service (`hub.rsvp.service`); `apply_change`
reads what it decides from (the event, the person's row, the counts), asks it, and writes
the answer, all in one write transaction, so two requests for the last place cannot both
get it. The waitlist is first come, first served by `requested_at`.

Rows hold personal details (an email address, a name): only staff views read them.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from hub.store.db import Database

STATES = ("going", "waitlisted", "pending", "maybe", "not_going", "declined")
ACTIVE = ("going", "waitlisted", "pending")     # holding a place, or waiting for one
_ORDER = "CASE state " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STATES)) + " END"


@dataclass(frozen=True)
class Participant:
    id: int
    event_id: int
    person_key: str
    actor_id: str | None
    email: str | None
    handle: str | None
    name: str
    state: str
    via: str
    join_id: str | None
    reply_to: str | None
    message: str | None
    token_hash: str | None
    requested_at: float
    updated_at: float


_COLUMNS = tuple(f.name for f in fields(Participant))


@dataclass(frozen=True)
class NewParticipant:
    """What a request brings: who asked, how, and how to answer them."""

    person_key: str
    via: str
    actor_id: str | None = None
    email: str | None = None
    handle: str | None = None
    name: str = ""
    join_id: str | None = None
    reply_to: str | None = None
    message: str | None = None
    token_hash: str | None = None


@dataclass(frozen=True)
class EventFacts:
    """The parts of an event that decide an RSVP, read inside the write transaction."""

    id: int
    status: str
    deleted: bool
    start_at: float
    capacity: int | None
    join_mode: str
    external_url: str | None


@dataclass(frozen=True)
class Snapshot:
    event: EventFacts
    current: Participant | None
    going: int
    waitlisted: int
    now: float


@dataclass(frozen=True)
class Change:
    """A decision: the person's new state (None: leave the row alone), whether to promote
    from the waitlist into free places afterwards, and why (for refusals)."""

    state: str | None = None
    fill: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class Applied:
    change: Change
    before: Participant | None
    after: Participant | None
    promoted: tuple[Participant, ...]
    going_before: int
    going_after: int
    position: int | None    # the person's place on the waitlist, from 1
    notices: tuple[int, ...] = ()  # the "promoted" notice owed to each of `promoted`


Decide = Callable[[Snapshot], Change]


def _participant(row: Any) -> Participant:
    return Participant(**{name: row[name] for name in _COLUMNS})


# Inside the write transaction (sqlite3, on the writer's thread) -----------------------------
def _facts(conn: sqlite3.Connection, event_id: int) -> EventFacts:
    row = conn.execute(
        "SELECT id, status, deleted_at, start_at, capacity, join_mode, external_url "
        "FROM events WHERE id = ?", (event_id,)).fetchone()
    if row is None:
        raise KeyError(f"no event {event_id}")
    return EventFacts(row["id"], row["status"], row["deleted_at"] is not None, row["start_at"],
                      row["capacity"], row["join_mode"], row["external_url"])


def _find(conn: sqlite3.Connection, event_id: int, key: str) -> Participant | None:
    row = conn.execute("SELECT * FROM participants WHERE event_id = ? AND person_key = ?",
                       (event_id, key)).fetchone()
    return None if row is None else _participant(row)


def _counts(conn: sqlite3.Connection, event_id: int) -> tuple[int, int]:
    row = conn.execute(
        "SELECT coalesce(sum(state = 'going'), 0), coalesce(sum(state = 'waitlisted'), 0) "
        "FROM participants WHERE event_id = ?", (event_id,)).fetchone()
    return int(row[0]), int(row[1])


def _insert(conn: sqlite3.Connection, event_id: int, state: str, new: NewParticipant,
            now: float) -> Participant:
    values = {**{f.name: getattr(new, f.name) for f in fields(NewParticipant)},
              "event_id": event_id, "state": state, "requested_at": now, "updated_at": now}
    names, marks = ", ".join(values), ", ".join("?" for _ in values)
    row = conn.execute(f"INSERT INTO participants ({names}) VALUES ({marks}) RETURNING *",
                       tuple(values.values())).fetchone()
    return _participant(row)


def _update(conn: sqlite3.Connection, current: Participant, state: str,
            new: NewParticipant | None, now: float) -> Participant:
    # Asking afresh (from maybe, not going, declined) joins the back of the queue.
    requested = now if current.state not in ACTIVE and state in ACTIVE else current.requested_at
    values: dict[str, Any] = {"state": state, "requested_at": requested, "updated_at": now}
    if new is not None:
        # The latest way they asked is the way they are answered. A web cancel link went to
        # whoever typed the handle into the form: once the person answers with their own
        # signed activity, that link must stop controlling their place.
        keeps_link = new.via in ("web", "staff")
        values.update(via=new.via, join_id=new.join_id, reply_to=new.reply_to,
                      message=new.message, name=new.name or current.name,
                      handle=new.handle or current.handle,
                      token_hash=new.token_hash or (current.token_hash if keeps_link else None))
    sets = ", ".join(f"{name} = ?" for name in values)
    row = conn.execute(f"UPDATE participants SET {sets} WHERE id = ? RETURNING *",
                       (*values.values(), current.id)).fetchone()
    return _participant(row)


def _fill(conn: sqlite3.Connection, event: EventFacts, now: float) -> tuple[Participant, ...]:
    """Promote the first on the waitlist into every free place."""
    going, _ = _counts(conn, event.id)
    free = -1 if event.capacity is None else event.capacity - going  # LIMIT -1: all
    if event.capacity is not None and free <= 0:
        return ()
    rows = conn.execute(
        "UPDATE participants SET state = 'going', updated_at = ? WHERE id IN ("
        " SELECT id FROM participants WHERE event_id = ? AND state = 'waitlisted'"
        " ORDER BY requested_at, id LIMIT ?) RETURNING *", (now, event.id, free)).fetchall()
    return tuple(sorted((_participant(r) for r in rows), key=lambda p: (p.requested_at, p.id)))


def _position(conn: sqlite3.Connection, who: Participant) -> int:
    row = conn.execute(
        "SELECT count(*) FROM participants WHERE event_id = ? AND state = 'waitlisted' AND "
        "(requested_at < ? OR (requested_at = ? AND id <= ?))",
        (who.event_id, who.requested_at, who.requested_at, who.id)).fetchone()
    return int(row[0])


def _apply(conn: sqlite3.Connection, event_id: int, key: str | None, decide: Decide,
           new: NewParticipant | None, now: float) -> Applied:
    event = _facts(conn, event_id)
    before = _find(conn, event_id, key) if key is not None else None
    going, waitlisted = _counts(conn, event_id)
    change = decide(Snapshot(event, before, going, waitlisted, now))
    after = before
    if change.state is not None and (before is None or before.state != change.state):
        if before is not None:
            after = _update(conn, before, change.state, new, now)
        elif new is not None:
            after = _insert(conn, event_id, change.state, new, now)
    promoted = _fill(conn, event, now) if change.fill else ()
    if after is not None and any(p.id == after.id for p in promoted):
        after = next(p for p in promoted if p.id == after.id)
        promoted = tuple(p for p in promoted if p.id != after.id)
    going_after, _ = _counts(conn, event_id)
    if going_after != going:
        conn.execute("INSERT OR REPLACE INTO rsvp_count_changes (event_id, changed_at) "
                     "VALUES (?, ?)", (event_id, now))
    position = _position(conn, after) if after and after.state == "waitlisted" else None
    # Someone promoted is not waiting for an answer: what they are owed is written with the
    # promotion, so a stop before it is sent leaves it to `owed_notices`, not lost.
    notices = tuple(_owe(conn, p, "promoted", now) for p in promoted)
    return Applied(change, before, after, promoted, going, going_after, position, notices)


async def apply_change(db: Database, event_id: int, person_key: str | None, decide: Decide,
                       new: NewParticipant | None = None, *,
                       now: float | None = None) -> Applied:
    """Read, decide and write one person's RSVP (or, with no person, only fill free places)
    in one transaction. `decide` is pure: it sees a snapshot and returns a `Change`."""
    when = time.time() if now is None else now
    return await db.run_in_writer(_apply, event_id, person_key, decide, new, when)


# Reads ---------------------------------------------------------------------------------------
async def state_counts(db: Database, event_id: int) -> dict[str, int]:
    rows = await db.fetchall("SELECT state, count(*) AS n FROM participants "
                             "WHERE event_id = ? GROUP BY state", (event_id,))
    found = {r["state"]: int(r["n"]) for r in rows}
    return {state: found.get(state, 0) for state in STATES}


async def list_participants(db: Database, event_id: int,
                            state: str | None = None) -> list[Participant]:
    """An event's participants (all, or in one state): going, waitlisted (in queue order),
    pending, maybe, not going, declined; first come first within each."""
    if state is not None and state not in STATES:
        raise ValueError(f"state is one of {', '.join(STATES)}")
    where, params = ("AND state = ?", (event_id, state)) if state else ("", (event_id,))
    rows = await db.fetchall(
        f"SELECT * FROM participants WHERE event_id = ? {where} "
        f"ORDER BY {_ORDER}, requested_at, id", params)
    return [_participant(r) for r in rows]


async def get_participant(db: Database, participant_id: int) -> Participant | None:
    row = await db.fetchone("SELECT * FROM participants WHERE id = ?", (participant_id,))
    return None if row is None else _participant(row)


async def find_participant(db: Database, event_id: int, person_key: str) -> Participant | None:
    row = await db.fetchone("SELECT * FROM participants WHERE event_id = ? AND person_key = ?",
                            (event_id, person_key))
    return None if row is None else _participant(row)


async def find_by_token_hash(db: Database, token_hash: str) -> Participant | None:
    row = await db.fetchone("SELECT * FROM participants WHERE token_hash = ?", (token_hash,))
    return None if row is None else _participant(row)


async def find_by_join_id(db: Database, join_id: str) -> Participant | None:
    row = await db.fetchone("SELECT * FROM participants WHERE join_id = ?", (join_id,))
    return None if row is None else _participant(row)


async def waitlist_position(db: Database, participant: Participant) -> int | None:
    if participant.state != "waitlisted":
        return None
    row = await db.fetchone(
        "SELECT count(*) FROM participants WHERE event_id = ? AND state = 'waitlisted' AND "
        "(requested_at < ? OR (requested_at = ? AND id <= ?))",
        (participant.event_id, participant.requested_at, participant.requested_at,
         participant.id))
    return int(row[0]) if row else None


# Count changes and notifications -------------------------------------------------------------
async def unsent_count_changes(db: Database, *, changed_before: float) -> list[int]:
    """Events whose going count changed before then and whose `Update` was not queued (the
    request that changed it stopped, or could not queue it)."""
    rows = await db.fetchall("SELECT event_id FROM rsvp_count_changes WHERE changed_at < ? "
                             "ORDER BY event_id LIMIT 500", (changed_before,))
    return [int(row["event_id"]) for row in rows]


async def count_changed(db: Database, event_id: int) -> bool:
    """Whether the event's going count changed since its last `Update` was queued."""
    return await db.fetchone("SELECT 1 FROM rsvp_count_changes WHERE event_id = ?",
                             (event_id,)) is not None


def claim_count_change(conn: sqlite3.Connection, event_id: int) -> bool:
    """True once per change of an event's going count: whoever claims it sends the Update,
    in this same transaction (so a stop cannot leave the claim without the Update)."""
    return conn.execute("DELETE FROM rsvp_count_changes WHERE event_id = ? RETURNING event_id",
                        (event_id,)).fetchone() is not None


def channel_for(participant: Participant) -> str:
    """How someone is told their news: an answer to their `Join` if they sent one, else a
    direct message if they came with a fediverse account, else email."""
    if participant.join_id and participant.actor_id:
        return "activitypub"
    return "dm" if participant.actor_id else "email"


def _write_notification(conn: sqlite3.Connection, participant_id: int, news: str,
                        channel: str, *, now: float, sent: bool,
                        detail: str | None = None) -> int:
    return int(conn.execute(
        "INSERT INTO rsvp_notifications (participant_id, news, channel, detail, created_at, "
        "sent_at) VALUES (?, ?, ?, ?, ?, ?)",
        (participant_id, news, channel, detail, now, now if sent else None)).lastrowid or 0)


def _owe(conn: sqlite3.Connection, participant: Participant, news: str, now: float) -> int:
    return _write_notification(conn, participant.id, news, channel_for(participant), now=now,
                               sent=False)


class AlreadyTold(Exception):
    """A notice owed was sent meanwhile (by the sweep, or the request that owed it)."""


def notified(participant_id: int, news: str, channel: str, *,
             notice: int | None = None) -> Callable[[sqlite3.Connection], None]:
    """What records a message sent, in the transaction that queues it: the notice owed
    (`notice`) marked sent, AlreadyTold if it was (nothing is then queued), or a new row."""
    def record(conn: sqlite3.Connection) -> None:
        now = time.time()
        if notice is None:
            _write_notification(conn, participant_id, news, channel, now=now, sent=True)
        elif conn.execute("UPDATE rsvp_notifications SET sent_at = ? WHERE id = ? AND "
                          "sent_at IS NULL", (now, notice)).rowcount == 0:
            raise AlreadyTold
    return record


async def add_notification(db: Database, participant_id: int, news: str, channel: str, *,
                           detail: str | None = None, sent: bool = True) -> int:
    now = time.time()
    return int(await db.run_in_writer(lambda conn: _write_notification(
        conn, participant_id, news, channel, now=now, sent=sent, detail=detail)))


async def owed_notices(db: Database, *, created_before: float, created_after: float,
                       now: float) -> list[int]:
    """Fediverse notices owed and not sent (their request stopped before sending them, or
    the person could not be reached), still worth sending: the event has not started or
    gone, and someone told they were promoted still has the place."""
    rows = await db.fetchall(
        "SELECT n.id FROM rsvp_notifications n JOIN participants p ON p.id = n.participant_id "
        "JOIN events e ON e.id = p.event_id WHERE n.channel IN ('activitypub', 'dm') AND "
        "n.sent_at IS NULL AND n.created_at < ? AND n.created_at > ? "
        "AND e.deleted_at IS NULL AND e.start_at > ? "
        "AND (n.news != 'promoted' OR p.state = 'going') ORDER BY n.id LIMIT 500",
        (created_before, created_after, now))
    return [int(row["id"]) for row in rows]


async def get_notice(db: Database, notice_id: int) -> dict[str, Any] | None:
    row = await db.fetchone("SELECT * FROM rsvp_notifications WHERE id = ?", (notice_id,))
    return None if row is None else dict(row)


async def list_notifications(db: Database, participant_id: int) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT news, channel, detail, created_at, sent_at FROM rsvp_notifications "
        "WHERE participant_id = ? ORDER BY id", (participant_id,))
    return [dict(r) for r in rows]
