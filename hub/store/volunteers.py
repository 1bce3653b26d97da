"""Volunteers, their consent history, checks, training and private access links.

Personal fields live in the `volunteers` row only; deleting a volunteer deletes that row (its
consents, checks, training and link go with it) and leaves a tombstone of random ids.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import aiosqlite
import orjson

from hub.store.db import Database
from hub.store.offers import any_standing_in, write_recall_contact_notes
from hub.volunteers.model import CONSENTS, Check, Profile, StaffRecord, TrainingInput
from hub.volunteers.model import CheckInput as CheckIn

_PROFILE_COLUMNS = ("name", "email", "handle", "phone", "district", "latitude", "longitude",
                    "skills", "interests", "tags", "languages", "availability",
                    "max_commitments", *CONSENTS, "references_received", "references_on")


LIST_LIMIT = 200  # volunteers in one list


@dataclass(frozen=True)
class Volunteer:
    id: int
    uuid: str
    pseudonym: str
    profile: Profile
    staff: StaffRecord
    created_at: float
    updated_at: float
    status: str = "active"            # "pending" until staff approve a self sign-up
    source: str = "staff"             # staff, web or fediverse
    actor_id: str | None = None       # the fediverse account, when the handle was proven
    handle_verified_at: float | None = None
    approved_at: float | None = None

    @property
    def handle_verified(self) -> bool:
        return self.handle_verified_at is not None


@dataclass(frozen=True)
class SignupMark:
    """How a volunteer signed themselves up: on the web, or by a link sent to their account."""

    source: str                        # web or fediverse
    actor_id: str | None = None
    invite_hash: str | None = None     # the fediverse link used, consumed by the sign-up


class InviteUsed(Exception):
    """The sign-up link was already used or has expired."""


@dataclass(frozen=True)
class ConsentChange:
    consent: str
    given: bool
    at: float


@dataclass(frozen=True)
class Training:
    uuid: str
    course: str
    completed_on: date
    recorded_at: float


@dataclass(frozen=True)
class LapsingCheck:
    check: Check
    volunteer_uuid: str
    name: str
    status: str  # "lapsing" (renewal due within the window) or "lapsed"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Rows <-> values ---------------------------------------------------------------------------
def _profile_values(profile: Profile, staff: StaffRecord) -> tuple[Any, ...]:
    dumps = orjson.dumps
    return (profile.name, profile.email, profile.handle, profile.phone, profile.district,
            profile.latitude, profile.longitude, dumps(list(profile.skills)).decode(),
            dumps(list(profile.interests)).decode(), dumps(list(profile.tags)).decode(),
            dumps(list(profile.languages)).decode(),
            dumps({d: list(p) for d, p in profile.availability.items()}).decode(),
            profile.max_commitments, *(int(profile.consents[c]) for c in CONSENTS),
            staff.references_received,
            staff.references_on.isoformat() if staff.references_on else None)


def _volunteer(row: aiosqlite.Row) -> Volunteer:
    loads = orjson.loads
    profile = Profile(
        name=row["name"], email=row["email"], handle=row["handle"], phone=row["phone"],
        district=row["district"], latitude=row["latitude"], longitude=row["longitude"],
        skills=tuple(loads(row["skills"])), interests=tuple(loads(row["interests"])),
        tags=tuple(loads(row["tags"])), languages=tuple(loads(row["languages"])),
        availability={d: tuple(p) for d, p in loads(row["availability"]).items()},
        max_commitments=row["max_commitments"],
        consents={c: bool(row[c]) for c in CONSENTS})
    refs_on = row["references_on"]
    staff = StaffRecord(row["references_received"],
                        date.fromisoformat(refs_on) if refs_on else None)
    return Volunteer(row["id"], row["uuid"], row["pseudonym"], profile, staff,
                     row["created_at"], row["updated_at"], row["status"], row["source"],
                     row["actor_id"], row["handle_verified_at"], row["approved_at"])


def _check(row: aiosqlite.Row) -> Check:
    return Check(row["uuid"], row["volunteer_id"], row["type"],
                 date.fromisoformat(row["checked_on"]), date.fromisoformat(row["renewal_on"]),
                 row["decision"], row["recorded_at"])


async def _log_consents(conn: aiosqlite.Connection, volunteer_id: int,
                        before: dict[str, bool], after: dict[str, bool], now: float) -> None:
    changed = [(volunteer_id, c, int(after[c]), now) for c in CONSENTS
               if after[c] != before.get(c, False)]
    await conn.executemany("INSERT INTO volunteer_consents (volunteer_id, consent, given, at) "
                           "VALUES (?, ?, ?, ?)", changed)


# Volunteers --------------------------------------------------------------------------------
async def add_volunteer(db: Database, profile: Profile, staff: StaffRecord | None = None,
                        signup: SignupMark | None = None) -> Volunteer:
    """A new volunteer with fresh random ids (the pseudonym owes nothing to their data).

    Staff add active volunteers; a `signup` is pending until approved, and one made through a
    fediverse link consumes that link in the same transaction (InviteUsed if it is gone)."""
    staff, now = staff or StaffRecord(), time.time()
    ids = (str(uuid.uuid4()), secrets.token_urlsafe(16))
    status, source = ("pending", signup.source) if signup else ("active", "staff")
    actor_id = signup.actor_id if signup else None
    verified = now if actor_id else None
    columns = ", ".join((*_PROFILE_COLUMNS, "status", "source", "actor_id",
                         "handle_verified_at"))
    marks = ", ".join("?" * (len(_PROFILE_COLUMNS) + 8))
    async with db.transaction() as conn:
        if signup is not None and signup.invite_hash is not None:
            cursor = await conn.execute(
                "DELETE FROM volunteer_invites WHERE token_hash = ? AND expires_at > ?",
                (signup.invite_hash, now))
            if cursor.rowcount == 0:
                raise InviteUsed("this sign-up link was already used or has expired")
        cursor = await conn.execute(
            f"INSERT INTO volunteers (uuid, pseudonym, {columns}, created_at, updated_at) "
            f"VALUES ({marks})", (*ids, *_profile_values(profile, staff), status, source,
                                  actor_id, verified, now, now))
        row_id = cursor.lastrowid or 0
        await _log_consents(conn, row_id, {}, profile.consents, now)
    return Volunteer(row_id, *ids, profile, staff, now, now, status, source, actor_id,
                     verified)


async def get_volunteer(db: Database, volunteer_uuid: str) -> Volunteer | None:
    row = await db.fetchone("SELECT * FROM volunteers WHERE uuid = ?", (volunteer_uuid,))
    return None if row is None else _volunteer(row)


async def get_volunteer_by_id(db: Database, volunteer_id: int) -> Volunteer | None:
    row = await db.fetchone("SELECT * FROM volunteers WHERE id = ?", (volunteer_id,))
    return None if row is None else _volunteer(row)


async def is_deleted(db: Database, volunteer_uuid: str) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM volunteer_tombstones WHERE uuid = ?",
                                  (volunteer_uuid,)))


async def update_volunteer(db: Database, volunteer: Volunteer, profile: Profile,
                           staff: StaffRecord) -> Volunteer:
    """Store a corrected profile; consents that changed join the history. A changed handle
    is no longer the proven one."""
    now = time.time()
    proven = profile.handle == volunteer.profile.handle
    actor_id = volunteer.actor_id if proven else None
    verified = volunteer.handle_verified_at if proven else None
    assignments = ", ".join(f"{c} = ?" for c in _PROFILE_COLUMNS)
    async with db.transaction() as conn:
        await conn.execute(f"UPDATE volunteers SET {assignments}, actor_id = ?, "
                           "handle_verified_at = ?, updated_at = ? WHERE id = ?",
                           (*_profile_values(profile, staff), actor_id, verified, now,
                            volunteer.id))
        await _log_consents(conn, volunteer.id, volunteer.profile.consents, profile.consents,
                            now)
    return replace(volunteer, profile=profile, staff=staff, updated_at=now, actor_id=actor_id,
                   handle_verified_at=verified)


async def approve_volunteer(db: Database, volunteer: Volunteer) -> Volunteer:
    """A pending sign-up becomes active: from now on it can be matched."""
    now = time.time()
    await db.execute("UPDATE volunteers SET status = 'active', approved_at = ?, "
                     "updated_at = ? WHERE id = ? AND status = 'pending'",
                     (now, now, volunteer.id))
    return replace(volunteer, status="active", approved_at=now, updated_at=now)


async def volunteers_by_email(db: Database, email: str) -> list[Volunteer]:
    rows = await db.fetchall("SELECT * FROM volunteers WHERE email = ? ORDER BY id",
                             (email.lower(),))
    return [_volunteer(r) for r in rows]


async def count_pending(db: Database) -> int:
    """Self sign-ups waiting for a coordinator's approval."""
    return int(await db.fetchval("SELECT count(*) FROM volunteers WHERE status = 'pending'"))


async def volunteer_for_actor(db: Database, actor_id: str) -> Volunteer | None:
    """The volunteer whose proven fediverse account this is (the newest, if several)."""
    row = await db.fetchone("SELECT * FROM volunteers WHERE actor_id = ? "
                            "ORDER BY id DESC LIMIT 1", (actor_id,))
    return None if row is None else _volunteer(row)


class OffersStillStand(Exception):
    """An offer made for the volunteer stands: it must be withdrawn before the erasure (the
    neighbour would otherwise keep it, or a match, for good)."""


async def delete_volunteer(db: Database, volunteer: Volunteer) -> float:
    """Erase the volunteer; only the tombstone (random ids and the time) remains. Raises
    OffersStillStand, erasing nothing, while an offer made for them stands.

    The database overwrites deleted content with zeros (`secure_delete`, see db.py), and the
    write-ahead log, which still holds the pages as they were before, is checkpointed into
    the file and truncated, so the raw files keep no trace of the person."""
    now = time.time()

    def erase(conn: sqlite3.Connection) -> None:
        if any_standing_in(conn, volunteer.id):
            raise OffersStillStand  # a yes landed after they were withdrawn
        # Before the cascade takes the offers: our contact notes about them go too.
        write_recall_contact_notes(conn, volunteer.id, now)
        conn.execute("INSERT INTO volunteer_tombstones (uuid, pseudonym, deleted_at) "
                     "VALUES (?, ?, ?)", (volunteer.uuid, volunteer.pseudonym, now))
        conn.execute("DELETE FROM volunteers WHERE id = ?", (volunteer.id,))
        if volunteer.actor_id:
            conn.execute("DELETE FROM volunteer_invites WHERE actor_id = ?",
                         (volunteer.actor_id,))

    await db.run_in_writer(erase)
    await db.checkpoint()
    return now


async def list_volunteers(db: Database, *, skill: str | None = None,
                          district: str | None = None, status: str | None = None,
                          limit: int = LIST_LIMIT) -> list[Volunteer]:
    """Volunteers by name; `skill` matches a skill or an interest."""
    where, params = [], []
    if status:
        where.append("v.status = ?")
        params.append(status)
    if skill:
        where.append("(EXISTS (SELECT 1 FROM json_each(v.skills) WHERE value = ?) OR "
                     "EXISTS (SELECT 1 FROM json_each(v.interests) WHERE value = ?))")
        params += [skill, skill]
    if district:
        where.append("v.district = ?")
        params.append(district)
    sql = ("SELECT v.* FROM volunteers v" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY v.name COLLATE NOCASE, v.id LIMIT ?")
    return [_volunteer(r) for r in await db.fetchall(sql, [*params, limit])]


async def consent_history(db: Database, volunteer_id: int) -> list[ConsentChange]:
    rows = await db.fetchall("SELECT consent, given, at FROM volunteer_consents "
                             "WHERE volunteer_id = ? ORDER BY id", (volunteer_id,))
    return [ConsentChange(r["consent"], bool(r["given"]), r["at"]) for r in rows]


# Checks and training -----------------------------------------------------------------------
async def add_check(db: Database, volunteer_id: int, check: CheckIn) -> Check:
    stored = Check(str(uuid.uuid4()), volunteer_id, check.type, check.checked_on,
                   check.renewal_on, check.decision, time.time())
    await db.execute(
        "INSERT INTO volunteer_checks (uuid, volunteer_id, type, checked_on, renewal_on, "
        "decision, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (stored.uuid, volunteer_id, stored.type, stored.checked_on.isoformat(),
         stored.renewal_on.isoformat(), stored.decision, stored.recorded_at))
    return stored


async def list_checks(db: Database, volunteer_id: int) -> list[Check]:
    rows = await db.fetchall("SELECT * FROM volunteer_checks WHERE volunteer_id = ? "
                             "ORDER BY checked_on, id", (volunteer_id,))
    return [_check(r) for r in rows]


async def delete_check(db: Database, volunteer_id: int, check_uuid: str) -> bool:
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM volunteer_checks WHERE volunteer_id = ? AND uuid = ?",
            (volunteer_id, check_uuid))
        return cursor.rowcount > 0


async def lapsing_checks(db: Database, within_days: int,
                         today: date | None = None) -> list[LapsingCheck]:
    """Clear checks whose renewal falls within `within_days` (or has passed), soonest first,
    unless a later clear check of the same type for the same volunteer replaces them."""
    today = today or date.today()
    horizon = (today + timedelta(days=within_days)).isoformat()
    rows = await db.fetchall(
        "SELECT c.*, v.uuid AS volunteer_uuid, v.name FROM volunteer_checks c "
        "JOIN volunteers v ON v.id = c.volunteer_id "
        "WHERE c.decision = 'clear' AND c.renewal_on <= ? AND NOT EXISTS ("
        "  SELECT 1 FROM volunteer_checks n WHERE n.volunteer_id = c.volunteer_id "
        "  AND n.type = c.type AND n.decision = 'clear' AND n.renewal_on > c.renewal_on) "
        "ORDER BY c.renewal_on, c.id", (horizon,))
    return [LapsingCheck(_check(r), r["volunteer_uuid"], r["name"],
                         "lapsed" if r["renewal_on"] <= today.isoformat() else "lapsing")
            for r in rows]


async def add_training(db: Database, volunteer_id: int, training: TrainingInput) -> Training:
    stored = Training(str(uuid.uuid4()), training.course, training.completed_on, time.time())
    await db.execute(
        "INSERT INTO volunteer_training (uuid, volunteer_id, course, completed_on, "
        "recorded_at) VALUES (?, ?, ?, ?, ?)",
        (stored.uuid, volunteer_id, stored.course, stored.completed_on.isoformat(),
         stored.recorded_at))
    return stored


async def list_training(db: Database, volunteer_id: int) -> list[Training]:
    rows = await db.fetchall("SELECT * FROM volunteer_training WHERE volunteer_id = ? "
                             "ORDER BY completed_on, id", (volunteer_id,))
    return [Training(r["uuid"], r["course"], date.fromisoformat(r["completed_on"]),
                     r["recorded_at"]) for r in rows]


# Access links ------------------------------------------------------------------------------
async def new_access_link(db: Database, volunteer_id: int, lifetime: float) -> tuple[str, float]:
    """A fresh private token (returned once, stored hashed), replacing any earlier link."""
    token, now = secrets.token_urlsafe(32), time.time()
    await db.execute(
        "INSERT INTO volunteer_access_links (volunteer_id, token_hash, created_at, expires_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (volunteer_id) DO UPDATE SET "
        "token_hash = excluded.token_hash, created_at = excluded.created_at, "
        "expires_at = excluded.expires_at", (volunteer_id, token_hash(token), now, now + lifetime))
    return token, now + lifetime


async def volunteer_for_token(db: Database, token: str) -> Volunteer | None:
    row = await db.fetchone(
        "SELECT v.* FROM volunteer_access_links l JOIN volunteers v ON v.id = l.volunteer_id "
        "WHERE l.token_hash = ? AND l.expires_at > ?", (token_hash(token), time.time()))
    return None if row is None else _volunteer(row)


async def api_token_id(db: Database, token: str) -> int | None:
    """The id of the staff API token in use, so audit rows say which token acted."""
    return await db.fetchval("SELECT id FROM api_tokens WHERE token_hash = ?",
                             (token_hash(token),))

