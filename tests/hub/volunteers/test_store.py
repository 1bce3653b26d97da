"""The volunteers store: the exact point never reaches a row; lapsing checks for reminders."""

from __future__ import annotations

import sqlite3
from datetime import date

from hub.store import volunteers as store
from hub.store.db import Database
from hub.volunteers.model import parse_check, parse_profile


def _profile(name: str = "Asha Patel", **extra: object) -> dict[str, object]:
    return {"name": name, "email": f"{name.split()[0].lower()}@example.org",
            "district": "IG1", **extra}


async def test_the_exact_point_is_never_stored(db: Database) -> None:
    exact = (51.558734, 0.071289)
    profile = parse_profile(_profile(latitude=exact[0], longitude=exact[1]))
    await store.add_volunteer(db, profile)
    with sqlite3.connect(db.path) as raw:
        rows = raw.execute("SELECT latitude, longitude FROM volunteers").fetchall()
        dump = "\n".join(raw.iterdump())
    assert rows == [(51.56, 0.07)]
    assert "51.5587" not in dump and "0.0712" not in dump


async def test_pseudonyms_are_random_not_derived(db: Database) -> None:
    first = await store.add_volunteer(db, parse_profile(_profile()))
    second = await store.add_volunteer(db, parse_profile(_profile()))
    assert first.pseudonym != second.pseudonym and first.uuid != second.uuid
    assert "asha" not in first.pseudonym.lower()
    assert (await store.get_volunteer(db, first.uuid)) == first


async def _check(db: Database, volunteer_id: int, kind: str, checked: str, renewal: str,
                 decision: str = "clear") -> None:
    await store.add_check(db, volunteer_id, parse_check(
        {"type": kind, "checked_on": checked, "renewal_on": renewal, "decision": decision},
        today=date(2027, 1, 1)))


async def test_lapsing_checks_for_reminders(db: Database) -> None:
    # Given four volunteers: one renewing soon, one lapsed, one renewed, one not clear
    soon = await store.add_volunteer(db, parse_profile(_profile("Ben Soon")))
    lapsed = await store.add_volunteer(db, parse_profile(_profile("Cy Lapsed")))
    renewed = await store.add_volunteer(db, parse_profile(_profile("Di Renewed")))
    refused = await store.add_volunteer(db, parse_profile(_profile("Ed Refused")))
    await _check(db, soon.id, "dbs_enhanced_adult", "2024-01-20", "2027-01-20")
    await _check(db, soon.id, "dbs_basic", "2026-01-01", "2029-01-01")
    await _check(db, lapsed.id, "dbs_enhanced_child", "2023-06-01", "2026-06-01")
    await _check(db, renewed.id, "dbs_basic", "2023-01-01", "2026-01-01")
    await _check(db, renewed.id, "dbs_basic", "2025-12-01", "2028-12-01")
    await _check(db, refused.id, "dbs_basic", "2025-01-01", "2026-01-15", "not_clear")
    # When staff ask on 2026-12-31 what lapses within 30 days
    found = await store.lapsing_checks(db, 30, today=date(2026, 12, 31))
    # Then the lapsed one comes first, reported as lapsed, then the one lapsing soon
    assert [(f.name, f.check.type, f.status) for f in found] == [
        ("Cy Lapsed", "dbs_enhanced_child", "lapsed"),
        ("Ben Soon", "dbs_enhanced_adult", "lapsing")]


async def test_deleting_leaves_only_a_tombstone(db: Database) -> None:
    volunteer = await store.add_volunteer(db, parse_profile(_profile(consents={
        "match_here": True})))
    await _check(db, volunteer.id, "dbs_basic", "2026-01-01", "2029-01-01")
    await store.new_access_link(db, volunteer.id, 60)
    await store.delete_volunteer(db, volunteer)
    for table in ("volunteers", "volunteer_checks", "volunteer_consents",
                  "volunteer_access_links", "volunteer_training"):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    assert await store.is_deleted(db, volunteer.uuid)
