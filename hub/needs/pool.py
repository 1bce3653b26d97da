"""This hub's volunteers as one `VolunteerPool`, built once and rebuilt only after a change.

Compiling a pool of 100,000 volunteers takes 1.3-2.1 s on our machines, against ~50 ms to rank
one need against it, so the pool is cached per hub database and marked stale whenever a
volunteer, a check or a training record changes (`volunteers_changed(db, [uuid])`, called by
hub/volunteers/service.py); the next ranking reads those volunteers again and recompiles the
pool, once, however many changes came before. The compile runs in a thread so the hub keeps
answering meanwhile.

`load_volunteers(db)` is the one place that says what the matcher knows about each volunteer,
including the fairness history: when each was asked and matched in the matcher's fairness
window, and how many matches are active (hub/exchange asks and matches, which call
`volunteers_changed` when they change).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from weakref import WeakKeyDictionary

from hub.matching import DEFAULT_WEIGHTS, GeoPoint, VolunteerPool, rank
from hub.matching.model import Candidate, Check, Consents, Slot, Volunteer
from hub.needs.matching import to_matcher_need, weekly_slots
from hub.store import asks as ask_store
from hub.store import matches as match_store
from hub.store.db import Database
from hub.store.matching import PoolRow, pool_rows, volunteer_labels
from hub.store.needs import LocalNeed, RemoteNeed


def matcher_check(kind: str, checked_on: date, renewal_on: date, decision: str) -> Check:
    """A recorded check for the matcher. A check is valid up to the day before its renewal
    date (hub.volunteers.model.check_status); the matcher's `renews_on` is the last valid day."""
    return Check(type=kind, checked_on=checked_on, renews_on=renewal_on - timedelta(days=1),
                 status=decision)


def matcher_volunteer(row: PoolRow, *, active_commitments: int = 0,
                      recent_asks: tuple[datetime, ...] = (),
                      recent_matches: tuple[datetime, ...] = ()) -> Volunteer:
    location = None
    if row.latitude is not None and row.longitude is not None:
        location = GeoPoint(row.latitude, row.longitude)
    return Volunteer(
        id=row.uuid, location=location, postcode_district=row.district or "",
        skills=_frozen(row.skills), interests=_frozen(row.interests),
        tags=_frozen(row.tags), languages=_frozen(row.languages),
        availability=_weekly(tuple(row.availability.items())),
        max_commitments=row.max_commitments, active_commitments=active_commitments,
        consents=_consents(row.match_here, row.match_neighbours),
        checks=tuple(matcher_check(*c) for c in row.checks), training=_frozen(row.training),
        recent_asks=recent_asks, recent_matches=recent_matches)


# Shared immutable values: volunteers repeat a few skill lists, availability patterns and
# consent pairs, so a pool of 100k holds (and builds) each distinct one once.
@lru_cache(maxsize=16384)
def _frozen(items: tuple[str, ...]) -> frozenset[str]:
    return frozenset(items)


@lru_cache(maxsize=16384)
def _weekly(items: tuple[tuple[str, tuple[str, ...]], ...]) -> frozenset[Slot]:
    return weekly_slots(dict(items))


@lru_cache(maxsize=4)
def _consents(here: bool, neighbours: bool) -> Consents:
    return Consents(match_here=here, match_neighbours=neighbours)


async def load_volunteers(db: Database, now: float | None = None, *,
                          only: Collection[str] | None = None) -> list[Volunteer]:
    """Every active volunteer of this hub as the matcher sees them (ids are volunteer uuids),
    or `only` those of the given uuids, with their recent asks and matches and their active
    commitments."""
    now = time.time() if now is None else now
    since = now - DEFAULT_WEIGHTS.fairness_window_days * 86400
    asked = await ask_store.asked_since(db, since)
    matched = await match_store.matched_since(db, since)
    active = await match_store.active_commitments(db)
    rows = await pool_rows(db, only)

    def convert() -> list[Volunteer]:  # seconds of CPU for 100k: run off the event loop
        return [matcher_volunteer(row, active_commitments=active.get(row.uuid, 0),
                                  recent_asks=_stamps(asked.get(row.uuid)),
                                  recent_matches=_stamps(matched.get(row.uuid)))
                for row in rows]

    return await asyncio.to_thread(convert)


def _stamps(times: list[float] | None) -> tuple[datetime, ...]:
    return tuple(datetime.fromtimestamp(t, UTC) for t in times or ())


class PoolCache:
    """One hub's compiled pool: built on first use, brought up to date on the first use after
    a change. A change to named volunteers reloads only them; the pool is then recompiled
    from the volunteers already in memory (the compile is the part no cache can skip)."""

    def __init__(self) -> None:
        self._pool: VolunteerPool | None = None
        self._volunteers: dict[str, Volunteer] = {}
        self._stale_all = True
        self._stale: set[str] = set()
        self._lock = asyncio.Lock()
        self.builds = 0
        self.full_loads = 0

    def invalidate(self, volunteer_uuids: Iterable[str] | None = None) -> None:
        if volunteer_uuids is None:
            self._stale_all = True
        else:
            self._stale.update(volunteer_uuids)

    async def get(self, db: Database) -> VolunteerPool:
        async with self._lock:
            # Flags are taken before loading: a change while loading marks it stale again.
            if self._stale_all or self._pool is None:
                self._stale_all, self._stale = False, set()
                self._volunteers = {v.id: v for v in await load_volunteers(db)}
                self.full_loads += 1
            elif self._stale:
                changed, self._stale = self._stale, set()
                fresh = {v.id: v for v in await load_volunteers(db, only=changed)}
                for volunteer_id in changed:  # gone, or no longer active: out of the pool
                    self._volunteers.pop(volunteer_id, None)
                self._volunteers.update(fresh)
            else:
                return self._pool
            self._pool = await asyncio.to_thread(VolunteerPool, self._volunteers.values())
            self.builds += 1
            return self._pool


_CACHES: WeakKeyDictionary[Database, PoolCache] = WeakKeyDictionary()


def pool_cache(db: Database) -> PoolCache:
    """The pool cache of the hub whose database this is (one per open database)."""
    cache = _CACHES.get(db)
    if cache is None:
        cache = _CACHES[db] = PoolCache()
    return cache


def volunteers_changed(db: Database, volunteer_uuids: Iterable[str] | None = None) -> None:
    """Something the matcher reads changed, for the volunteers named (or for anyone): the
    next ranking reloads them (or everyone) and recompiles the pool."""
    pool_cache(db).invalidate(volunteer_uuids)


@dataclass(frozen=True)
class RankedVolunteer:
    """A candidate as staff see it: the matcher's verdict plus who it is."""

    candidate: Candidate
    name: str
    district: str | None


async def rank_for(db: Database, need: LocalNeed | RemoteNeed, *, now: datetime,
                   limit: int = 20, explain_excluded: bool = False) -> list[Candidate]:
    """The matcher's ranking of this hub's volunteers for a local or a neighbour's need."""
    pool = await pool_cache(db).get(db)
    return rank(to_matcher_need(need), pool, now=now, limit=limit,
                explain_excluded=explain_excluded)


async def candidates_for(db: Database, need: LocalNeed | RemoteNeed, *, now: datetime,
                         limit: int = 20, explain_excluded: bool = False,
                         excluded_limit: int = 200) -> list[RankedVolunteer]:
    """Ranked candidates (best first) with names, then up to `excluded_limit` of those left
    out with why, when asked; for staff of this hub only."""
    ranked = await rank_for(db, need, now=now, limit=limit, explain_excluded=explain_excluded)
    eligible = [c for c in ranked if c.rank is not None]
    shown = eligible + [c for c in ranked if c.rank is None][:excluded_limit]
    labels = await volunteer_labels(db, (c.volunteer_id for c in shown))
    return [RankedVolunteer(c, *labels.get(c.volunteer_id, ("(deleted)", None)))
            for c in shown]
