"""Known commonhub hubs (`neighbours`), staff-added seeds and domain policies (0012)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hub.store.db import Database

STATES = ("known", "paired", "paused", "unpaired")
POLICIES = ("block", "allow")
# Listed in the peers collection: every hub staff have not set aside.
LISTED_STATES = ("known", "paired", "paused")


@dataclass(frozen=True)
class Neighbour:
    actor_id: str
    authority: str
    name: str | None
    area_name: str | None
    latitude: float | None
    longitude: float | None
    radius_km: float | None
    distance_km: float | None
    peers_url: str | None
    state: str
    announce_events: bool
    source: str
    first_seen_at: float
    last_visited_at: float | None
    last_ok_at: float | None
    failures: int
    last_error: str | None


def _neighbour(row: Any) -> Neighbour:
    data = dict(row)
    data["announce_events"] = bool(data["announce_events"])
    return Neighbour(**data)


_UPSERT_SEEN = """
INSERT INTO neighbours (actor_id, authority, name, area_name, latitude, longitude, radius_km,
    distance_km, peers_url, source, first_seen_at, last_visited_at, last_ok_at, failures)
VALUES (:actor_id, :authority, :name, :area_name, :latitude, :longitude, :radius_km,
    :distance_km, :peers_url, :source, :now, :now, :now, 0)
ON CONFLICT (actor_id) DO UPDATE SET authority = excluded.authority, name = excluded.name,
    area_name = excluded.area_name, latitude = excluded.latitude,
    longitude = excluded.longitude, radius_km = excluded.radius_km,
    distance_km = excluded.distance_km, peers_url = excluded.peers_url,
    last_visited_at = excluded.last_visited_at, last_ok_at = excluded.last_ok_at,
    failures = 0, last_error = NULL
RETURNING *
"""


async def record_seen(db: Database, **fields: Any) -> Neighbour:
    """Insert or refresh a recognised hub (its state and staff choices are kept)."""
    # The row comes back from the write itself: a read on the reader connection may still
    # see a snapshot from before this commit.
    async with db.transaction() as conn:
        cursor = await conn.execute(_UPSERT_SEEN, {**fields, "now": time.time()})
        row = await cursor.fetchone()
    return _neighbour(row)


async def record_failure(db: Database, actor_id: str, error: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE neighbours SET failures = failures + 1, last_error = ?, "
            "last_visited_at = ? WHERE actor_id = ?", (error[:500], time.time(), actor_id))


async def get(db: Database, actor_id: str) -> Neighbour | None:
    row = await db.fetchone("SELECT * FROM neighbours WHERE actor_id = ?", (actor_id,))
    return None if row is None else _neighbour(row)


async def set_state(db: Database, actor_id: str, state: str) -> bool:
    if state not in STATES:
        raise ValueError(f"unknown neighbour state {state!r}")
    async with db.transaction() as conn:
        cursor = await conn.execute("UPDATE neighbours SET state = ? WHERE actor_id = ?",
                                    (state, actor_id))
        return cursor.rowcount > 0


async def set_announce(db: Database, actor_id: str, announce: bool) -> bool:
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE neighbours SET announce_events = ? WHERE actor_id = ?",
            (int(announce), actor_id))
        return cursor.rowcount > 0


async def remove_authority(db: Database, authority: str) -> int:
    """Forget every hub on a (blocked) authority; returns how many."""
    async with db.transaction() as conn:
        cursor = await conn.execute("DELETE FROM neighbours WHERE authority = ?", (authority,))
        return cursor.rowcount


async def list_neighbours(db: Database, *, states: tuple[str, ...] = STATES,
                          offset: int = 0, limit: int = 1000) -> list[Neighbour]:
    marks = ", ".join("?" for _ in states)
    rows = await db.fetchall(
        f"SELECT * FROM neighbours WHERE state IN ({marks}) "
        "ORDER BY distance_km IS NULL, distance_km, actor_id LIMIT ? OFFSET ?",
        (*states, limit, offset))
    return [_neighbour(r) for r in rows]


async def count_neighbours(db: Database, *, states: tuple[str, ...] = STATES) -> int:
    marks = ", ".join("?" for _ in states)
    return int(await db.fetchval(
        f"SELECT count(*) FROM neighbours WHERE state IN ({marks})", states))


async def announcing(db: Database, actor_id: str) -> bool:
    return bool(await db.fetchval(
        "SELECT announce_events FROM neighbours WHERE actor_id = ? AND state = 'paired'",
        (actor_id,)))


# Seeds staff added ------------------------------------------------------------------------------
async def add_seed(db: Database, target: str) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO neighbour_seeds (target, added_at) VALUES (?, ?) "
                           "ON CONFLICT (target) DO NOTHING", (target, time.time()))


async def remove_seed(db: Database, target: str) -> bool:
    async with db.transaction() as conn:
        cursor = await conn.execute("DELETE FROM neighbour_seeds WHERE target = ?", (target,))
        return cursor.rowcount > 0


async def list_seeds(db: Database) -> list[str]:
    rows = await db.fetchall("SELECT target FROM neighbour_seeds ORDER BY added_at, target")
    return [r[0] for r in rows]


# Domain policies ------------------------------------------------------------------------------
async def set_policy(db: Database, domain: str, policy: str | None) -> None:
    """Block or allow a domain; None lifts whatever policy it had."""
    async with db.transaction() as conn:
        if policy is None:
            await conn.execute("DELETE FROM domain_policies WHERE domain = ?", (domain,))
            return
        if policy not in POLICIES:
            raise ValueError(f"unknown domain policy {policy!r}")
        await conn.execute(
            "INSERT INTO domain_policies (domain, policy, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (domain) DO UPDATE SET policy = excluded.policy, "
            "created_at = excluded.created_at", (domain, policy, time.time()))


async def domains(db: Database, policy: str) -> list[str]:
    rows = await db.fetchall(
        "SELECT domain FROM domain_policies WHERE policy = ? ORDER BY domain", (policy,))
    return [r[0] for r in rows]
