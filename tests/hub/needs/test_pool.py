"""The cached volunteer pool: built once, rebuilt once after changes, never per need."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from hub.needs.model import check_whole, parse_need
from hub.needs.pool import load_volunteers, pool_cache, rank_for, volunteers_changed
from hub.runtime import Hub, open_hub
from hub.setup import init_hub
from hub.store import needs as needs_store
from hub.store.db import Database
from hub.volunteers import service
from hub.volunteers.service import Actor

STAFF = Actor("api")


def _volunteer(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "email": f"{name.lower()}@example.org", "district": "IG1",
            "latitude": 51.56, "longitude": 0.07, "availability": {"tue": ["afternoon"]},
            "consents": {"match_here": True}, **extra}


async def test_volunteers_reach_the_matcher_with_their_checks(db: Database) -> None:
    made = await service.create(db, _volunteer("Asha", skills=["befriending"]), STAFF)
    await service.record_check(db, made, {"type": "dbs_enhanced_adult",
                                          "checked_on": "2026-01-05",
                                          "renewal_on": "2029-01-05", "decision": "clear"},
                               STAFF)
    [seen] = await load_volunteers(db)
    assert seen.id == made.uuid and seen.availability == frozenset({(1, "afternoon")})
    assert seen.skills == frozenset({"befriending"}) and seen.consents.match_here
    check = seen.checks[0]
    # Valid up to the day before renewal, as hub.volunteers.model.check_status says.
    assert check.covers(date(2026, 2, 1), date(2029, 1, 4))
    assert not check.covers(date(2026, 2, 1), date(2029, 1, 5))
    assert "Asha" not in repr(seen)  # the matcher never sees names


async def test_the_pool_is_rebuilt_only_after_a_change(tmp_path: Path) -> None:
    settings = await init_hub(tmp_path / "hub", domain="127.0.0.1:9", name="hub", dev=True)
    async with open_hub(settings) as hub:  # an erasure tells neighbours: it takes a hub
        await _pool_rebuilt_only_after_a_change(hub)


async def _pool_rebuilt_only_after_a_change(hub: Hub) -> None:
    db = hub.db
    cache = pool_cache(db)
    draft = check_whole(parse_need({"kind": "regular", "title": "Chat", "starts_on":
                                    "2026-12-01", "slots": {"tue": ["afternoon"]}},
                                   default_timezone="UTC"))
    need = await needs_store.add_need(db, draft)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    await service.create(db, _volunteer("Asha"), STAFF)
    for _ in range(3):
        assert len(await rank_for(db, need, now=now)) == 1
    assert cache.builds == 1
    ben = cai = None
    for name in ("Ben", "Cai"):  # two changes, one rebuild, reloading only those two
        made = await service.create(db, _volunteer(name), STAFF)
        ben, cai = (made, cai) if name == "Ben" else (ben, made)
    assert len(await rank_for(db, need, now=now)) == 3
    assert (cache.builds, cache.full_loads) == (2, 1)
    assert ben is not None and cai is not None

    # A correction, an erasure: only those volunteers are read again.
    await service.update(db, ben, {"availability": {"mon": ["morning"]}}, STAFF)
    await service.delete(hub, cai, STAFF)
    ranked = await rank_for(db, need, now=now, explain_excluded=True)
    by_id = {c.volunteer_id: c for c in ranked}
    assert cai.uuid not in by_id and by_id[ben.uuid].exclusions == [
        "not free at the times needed"]
    assert (cache.builds, cache.full_loads) == (3, 1)

    # Anything else (an ask, a match) may say "everyone": the next ranking reloads all.
    volunteers_changed(db)
    assert len(await rank_for(db, need, now=now)) == 1
    assert (cache.builds, cache.full_loads) == (4, 2)
