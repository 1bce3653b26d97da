"""Erasing a volunteer leaves no trace of them in the raw database files: not in the rows,
not in free space inside pages, not in free pages, not in the write-ahead log."""

from __future__ import annotations

from hub.store import volunteers as store
from hub.store.db import Database
from hub.volunteers.model import parse_check, parse_profile

NAME = "Zebedee Quillfeather-Marchbanks"
EMAIL = "zq.marchbanks.7731@example.org"
OLD_EMAIL = "old.quillfeather.4410@example.org"
PHONE = "+44 20 7946 0999"
TRACES = (NAME, EMAIL, OLD_EMAIL, PHONE, "Quillfeather")


def raw_files(db: Database) -> bytes:
    """Every byte of the database's files on disk, as a forensic reader would see them."""
    folder = db.path.parent
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir())
                    if p.name.startswith(db.path.name))


def found(raw: bytes) -> list[str]:
    return [t for t in TRACES if t.encode() in raw or t.lower().encode() in raw]


async def test_a_deleted_volunteer_leaves_no_trace_in_the_files(db: Database) -> None:
    # Given a volunteer among others, whose email was corrected once (the old one sat in a
    # page), with a check and a consent history
    others = [await store.add_volunteer(db, parse_profile(
        {"name": f"Neighbour {i}", "email": f"n{i}@example.org", "district": "IG1"}))
        for i in range(30)]
    volunteer = await store.add_volunteer(db, parse_profile(
        {"name": NAME, "email": OLD_EMAIL, "phone": PHONE, "district": "IG2",
         "consents": {"match_here": True}}))
    volunteer = await store.update_volunteer(
        db, volunteer, parse_profile({"email": EMAIL}, volunteer.profile), volunteer.staff)
    await store.add_check(db, volunteer.id, parse_check({
        "type": "dbs_basic", "checked_on": "2025-01-10", "renewal_on": "2028-01-10",
        "decision": "clear"}))
    others += [await store.add_volunteer(db, parse_profile(
        {"name": f"Neighbour {i}", "email": f"n{i}@example.org", "district": "IG1"}))
        for i in range(30, 60)]
    await db.checkpoint()
    assert found(raw_files(db))  # the test can see them while they are stored

    # When they are deleted
    await store.delete_volunteer(db, volunteer)

    # Then no byte of any file of the database spells their name, email or phone
    assert found(raw_files(db)) == []
    # And the others are all still there
    for other in others:
        assert await store.get_volunteer(db, other.uuid) == other
    assert await store.is_deleted(db, volunteer.uuid)
