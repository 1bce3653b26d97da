"""The needs store: local needs with their lifecycle times, remote needs kept per origin, and
one converter from either to the matcher's `Need`."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from hub.matching.geo import GeoPoint
from hub.needs.matching import to_matcher_need
from hub.needs.model import NeedDraft, check_whole, parse_need
from hub.store import needs as store
from hub.store.db import Database

HUB_B = "http://b.test/actor"


def _draft(**extra: object) -> NeedDraft:
    data = {"kind": "regular", "title": "Weekly befriending", "starts_on": "2026-12-01",
            "slots": {"tue": ["afternoon"], "thu": ["morning"]}, "skills": ["befriending"],
            "checks_required": ["dbs_enhanced_adult"], "languages_preferred": ["pa"],
            "district": "IG1", "latitude": 51.558, "longitude": 0.071,
            "private_notes": "Mr D, 12 Cranbrook Road", **extra}
    return check_whole(parse_need(data, default_timezone="Europe/London"))


async def test_a_need_round_trips_through_its_row(db: Database) -> None:
    draft = _draft()
    added = await store.add_need(db, draft)
    found = await store.get_need(db, added.uuid)
    assert found is not None and found.draft == draft and found.status == "open"
    assert found.published_at == added.published_at and found.filled_at is None
    assert [n.uuid for n in await store.list_needs(db)] == [added.uuid]


async def test_status_moves_record_when_filled_and_refuse_a_stale_status(db: Database) -> None:
    need = await store.add_need(db, _draft(), now=1000.0)
    matching = await store.set_status(db, need, "matching", now=1500.0)
    assert matching is not None and matching.status == "matching"
    filled = await store.set_status(db, matching, "filled", now=4600.0)
    assert filled is not None and filled.time_to_fill == 3600.0
    assert await store.set_status(db, matching, "closed") is None  # it was not matching any more
    closed = await store.set_status(db, filled, "closed", now=5000.0)
    assert closed is not None and closed.closed_at == 5000.0
    assert await store.list_needs(db, statuses=("open", "matching")) == []


async def test_a_deleted_need_is_kept_as_a_marker_and_not_listed(db: Database) -> None:
    need = await store.add_need(db, _draft())
    assert await store.delete_need(db, need)
    assert not await store.delete_need(db, need)
    gone = await store.get_need(db, need.uuid)
    assert gone is not None and gone.deleted_at is not None
    assert await store.list_needs(db) == []
    assert await store.update_need(db, need, _draft(title="x"), event_id=None) is None


async def test_the_database_refuses_a_status_outside_the_lifecycle(db: Database) -> None:
    await store.add_need(db, _draft())
    with sqlite3.connect(db.path) as raw, pytest.raises(sqlite3.IntegrityError):
        raw.execute("UPDATE needs SET status = 'done'")


async def test_remote_needs_change_only_for_their_origin_and_stay_deleted(db: Database) -> None:
    oid = "http://b.test/needs/1"
    draft = _draft(private_notes="")
    raw = {"id": oid, "type": "Page"}
    assert await store.upsert_remote_need(db, oid, HUB_B, draft, status="open", url=oid,
                                          published_at=1.0, raw=raw)
    assert not await store.upsert_remote_need(db, oid, "http://c.test/actor", draft,
                                              status="filled", url=oid, published_at=1.0,
                                              raw=raw)
    assert await store.upsert_remote_need(db, oid, HUB_B, draft, status="matching", url=oid,
                                          published_at=1.0, raw=raw)
    found = await store.get_remote_need(db, oid)
    assert found is not None and found.status == "matching" and found.raw == raw
    assert found.draft == draft and found.updated_at is not None
    listed = await store.list_remote_needs(db, followed_only=False)
    assert [n.object_id for n in listed] == [oid]
    assert not await store.delete_remote_need(db, oid, "http://c.test/actor")
    assert await store.delete_remote_need(db, oid, HUB_B)
    assert not await store.upsert_remote_need(db, oid, HUB_B, draft, status="open", url=oid,
                                              published_at=1.0, raw=raw)
    assert await store.list_remote_needs(db, followed_only=False) == []


async def test_remote_needs_are_listed_only_from_followed_hubs_by_default(db: Database) -> None:
    await store.upsert_remote_need(db, "http://b.test/needs/2", HUB_B, _draft(), status="open",
                                   url=None, published_at=None, raw={})
    assert await store.list_remote_needs(db) == []
    await db.execute("INSERT INTO following (actor_id, follow_id, state, created_at, "
                     "updated_at) VALUES (?, 'http://a.test/f/1', 'accepted', 0, 0)", (HUB_B,))
    assert len(await store.list_remote_needs(db)) == 1


async def test_local_and_remote_needs_convert_to_the_same_matcher_need(db: Database) -> None:
    draft = _draft(private_notes="")
    local = await store.add_need(db, draft)
    oid = "http://b.test/needs/3"
    await store.upsert_remote_need(db, oid, HUB_B, draft, status="open", url=None,
                                   published_at=None, raw={})
    remote = await store.get_remote_need(db, oid)
    assert remote is not None
    mine, theirs = to_matcher_need(local), to_matcher_need(remote)
    assert mine.id == local.uuid and theirs.id == oid
    assert not mine.from_neighbour_hub and theirs.from_neighbour_hub
    assert mine.slots == frozenset({(1, "afternoon"), (3, "morning")})
    assert mine.starts_on == date(2026, 12, 1) and mine.location == GeoPoint(51.56, 0.07)
    assert mine.checks_required == frozenset({"dbs_enhanced_adult"})
    assert (mine.skills, mine.languages_preferred) == (theirs.skills, theirs.languages_preferred)


async def test_a_dated_need_converts_with_its_date(db: Database) -> None:
    draft = check_whole(parse_need({"kind": "one_off", "title": "Shopping",
                                    "on_date": "2026-12-10", "start_time": "18:00",
                                    "end_time": "19:00"}, default_timezone="UTC"))
    need = to_matcher_need(await store.add_need(db, draft))
    assert need.on == date(2026, 12, 10) and need.slots == frozenset({(3, "evening")})
