"""What the matcher reads about this hub's volunteers, in three queries for the whole pool.

Only what matching uses: the random uuid, the coarse location, skills, languages, weekly
availability, capacity, consents, and the status of checks and training. No name or contact
detail is read here; `volunteer_labels` fetches names for the few candidates staff are shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any, NamedTuple

import orjson

from hub.store.db import Database


class PoolRow(NamedTuple):
    """One volunteer as the matcher needs them, with their checks and training (a named
    tuple: the pool makes 100k of them at a time, and a tuple is the cheapest to make)."""

    uuid: str
    district: str | None
    latitude: float | None
    longitude: float | None
    skills: tuple[str, ...]
    interests: tuple[str, ...]
    tags: tuple[str, ...]
    languages: tuple[str, ...]
    availability: Mapping[str, tuple[str, ...]]
    max_commitments: int
    match_here: bool
    match_neighbours: bool
    checks: tuple[tuple[str, date, date, str], ...]  # (type, checked_on, renewal_on, decision)
    training: tuple[str, ...]


async def pool_rows(db: Database, only: Collection[str] | None = None) -> list[PoolRow]:
    """Every active volunteer of the hub (a self sign-up waiting for approval is not), with
    checks and training, in volunteer id order; or only those of the given uuids."""
    if only is not None:
        return [row for chunk in _chunks(list(only)) for row in await _rows(db, chunk)]
    return await _rows(db, None)


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


async def _rows(db: Database, uuids: list[str] | None) -> list[PoolRow]:
    where, params = "", []
    if uuids is not None:
        where = f" AND v.uuid IN ({', '.join('?' for _ in uuids)})"
        params = uuids
    checks = await db.fetchall(
        "SELECT c.volunteer_id, c.type, c.checked_on, c.renewal_on, c.decision "
        "FROM volunteer_checks c JOIN volunteers v ON v.id = c.volunteer_id "
        f"WHERE v.status = 'active'{where} ORDER BY c.volunteer_id, c.id", params)
    training = await db.fetchall(
        "SELECT t.volunteer_id, t.course FROM volunteer_training t "
        "JOIN volunteers v ON v.id = t.volunteer_id "
        f"WHERE v.status = 'active'{where} ORDER BY t.volunteer_id, t.id", params)
    rows = await db.fetchall(
        "SELECT v.id, v.uuid, v.district, v.latitude, v.longitude, v.skills, v.interests, "
        "v.tags, v.languages, v.availability, v.max_commitments, v.match_here, "
        f"v.match_neighbours FROM volunteers v WHERE v.status = 'active'{where} ORDER BY v.id",
        params)
    # Building 100k rows takes seconds of CPU: off the event loop, so the hub keeps answering.
    return await asyncio.to_thread(_pool_rows, rows, checks, training)


def _pool_rows(rows: list[Any], check_rows: list[Any], training_rows: list[Any]) -> list[PoolRow]:
    checks: dict[int, list[tuple[str, date, date, str]]] = {}
    for r in check_rows:
        checks.setdefault(r[0], []).append(
            (r[1], date.fromisoformat(r[2]), date.fromisoformat(r[3]), r[4]))
    training: dict[int, list[str]] = {}
    for r in training_rows:
        training.setdefault(r[0], []).append(r[1])
    return [PoolRow(r[1], r[2], r[3], r[4], _strings(r[5]), _strings(r[6]), _strings(r[7]),
                    _strings(r[8]), _slots(r[9]), r[10], bool(r[11]), bool(r[12]),
                    tuple(checks.get(r[0], ())), tuple(training.get(r[0], ())))
            for r in rows]


# Most volunteers share a few skill lists and availability patterns: each distinct JSON text
# is parsed once per pool, not once per volunteer (loading 100k volunteers is the pool's cost).
@lru_cache(maxsize=16384)
def _strings(text: str) -> tuple[str, ...]:
    return tuple(orjson.loads(text))


@lru_cache(maxsize=16384)
def _slots(text: str) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({d: tuple(p) for d, p in orjson.loads(text).items()})


async def volunteer_labels(db: Database, uuids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """(name, district) of the given volunteers, by uuid, for the candidates staff see."""
    wanted = list(dict.fromkeys(uuids))
    found: dict[str, tuple[str, str | None]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = await db.fetchall(
            f"SELECT uuid, name, district FROM volunteers WHERE uuid IN "
            f"({', '.join('?' for _ in chunk)})", chunk)
        found.update({r[0]: (r[1], r[2]) for r in rows})
    return found
