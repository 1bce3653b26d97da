"""An offer's answer and its match are one transaction at both hubs: nobody reads an accepted
offer without its match (or a withdrawn one with its match still active), and a failure
while writing the match leaves the offer as it was."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from hub.store import asks as ask_store
from hub.store import matches as match_store
from hub.store import needs as need_store
from hub.store import offers as offer_store
from hub.store import volunteers as volunteer_store
from hub.store.db import Database
from hub.volunteers.model import parse_profile
from tests.hub.exchange.factories import volunteer
from tests.hub.needs.test_store import _draft

HUB_B = "http://b.test/actor"
NOW = 1_800_000_000.0


async def _offer_received(db: Database) -> offer_store.OfferReceived:
    need = await need_store.add_need(db, _draft())
    assert await offer_store.add_offer_received(
        db, offer_id=f"{HUB_B}/offers/1", actor=HUB_B, need_id=need.id, pseudonym="calm-otter",
        distance_band="under_2km", skills=["befriending"], availability=[], languages=["en"],
        checks_held=[], attestation={}, expires_at=NOW + 3600, now=NOW)
    offer = await offer_store.get_offer_received(db, f"{HUB_B}/offers/1")
    assert offer is not None
    return offer


async def _offer_sent(db: Database) -> tuple[offer_store.OfferSent, int]:
    draft = _draft()
    assert await need_store.upsert_remote_need(db, f"{HUB_B}/needs/1", HUB_B, draft,
                                               status="open", url=None, published_at=NOW, raw={})
    remote = await need_store.get_remote_need(db, f"{HUB_B}/needs/1")
    assert remote is not None
    person = await volunteer_store.add_volunteer(db, parse_profile(volunteer("Amrit Kaur")))
    asked = await ask_store.add_ask(db, person.id, remote_need_id=remote.id, asked_by="staff",
                                    lifetime=3600, now=NOW)
    assert asked is not None
    await db.run_in_writer(lambda conn: offer_store.write_offer_sent(
        conn, ask_id=asked[0].id, offer_id="http://a.test/offers/1", remote_need_id=remote.id,
        to_actor=HUB_B, expires_at=NOW + 3600, now=NOW))
    sent = await offer_store.get_offer_sent(db, "http://a.test/offers/1")
    assert sent is not None
    return sent, person.id


async def _accept_received(db: Database, offer: offer_store.OfferReceived,
                           now: float) -> str | None:
    result: str | None = await db.run_in_writer(
        lambda conn: offer_store.write_accept_received(conn, offer, now=now))
    return result


async def _accept_sent(db: Database, sent: offer_store.OfferSent, volunteer_id: int,
                       now: float) -> bool:
    accepted: bool = await db.run_in_writer(
        lambda conn: offer_store.write_accept_sent(conn, sent, volunteer_id=volunteer_id,
                                                   now=now))
    return accepted


async def _block_matches_for(db: Database, column: str, offer_id: int) -> None:
    """The next match for this offer will fail (a trigger aborts its insert)."""
    await db.execute(f"CREATE TEMP TRIGGER no_match BEFORE INSERT ON matches "
                     f"WHEN NEW.{column} = {offer_id} "
                     "BEGIN SELECT RAISE(ABORT, 'disk gone'); END")


async def test_accepting_a_received_offer_makes_its_match_once(db: Database) -> None:
    offer = await _offer_received(db)
    match_uuid = await _accept_received(db, offer, NOW + 1)
    assert match_uuid is not None
    match = await match_store.match_for_offer_received(db, offer.id)
    stored = await offer_store.get_offer_received(db, offer.offer_id)
    assert match is not None and match.uuid == match_uuid and match.status == "active"
    assert match.need_id == offer.need_id and match.accepted_at == NOW + 1
    assert stored is not None and stored.status == "accepted" and stored.decided_at == NOW + 1
    assert await _accept_received(db, offer, NOW + 2) is None
    assert len(await match_store.matches_for_need(db, offer.need_id)) == 1


async def test_a_received_offer_stays_open_when_its_match_cannot_be_written(
        db: Database) -> None:
    offer = await _offer_received(db)
    await _block_matches_for(db, "offer_received_id", offer.id)
    with pytest.raises(sqlite3.DatabaseError, match="disk gone"):
        await _accept_received(db, offer, NOW + 1)
    stored = await offer_store.get_offer_received(db, offer.offer_id)
    assert stored is not None and stored.status == "offered" and stored.decided_at is None
    assert await match_store.match_for_offer_received(db, offer.id) is None


async def test_accepting_a_sent_offer_makes_the_volunteers_match_once(db: Database) -> None:
    sent, volunteer_id = await _offer_sent(db)
    assert await _accept_sent(db, sent, volunteer_id, NOW + 1)
    match = await match_store.match_for_offer_sent(db, sent.id)
    stored = await offer_store.get_offer_sent(db, sent.offer_id)
    assert match is not None and match.volunteer_id == volunteer_id
    assert match.remote_need_id == sent.remote_need_id and match.status == "active"
    assert stored is not None and stored.status == "accepted" and stored.answered_at == NOW + 1
    assert not await _accept_sent(db, sent, volunteer_id, NOW + 2)


async def test_a_sent_offer_stays_open_when_its_match_cannot_be_written(db: Database) -> None:
    sent, volunteer_id = await _offer_sent(db)
    await _block_matches_for(db, "offer_sent_id", sent.id)
    with pytest.raises(sqlite3.DatabaseError, match="disk gone"):
        await _accept_sent(db, sent, volunteer_id, NOW + 1)
    stored = await offer_store.get_offer_sent(db, sent.offer_id)
    assert stored is not None and stored.status == "offered" and stored.answered_at is None
    assert await match_store.match_for_offer_sent(db, sent.id) is None


async def test_withdrawing_an_accepted_offer_ends_its_match_or_changes_nothing(
        db: Database) -> None:
    offer = await _offer_received(db)
    await _accept_received(db, offer, NOW + 1)
    await db.execute("CREATE TEMP TRIGGER no_end BEFORE UPDATE OF status ON matches "
                     "BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    with pytest.raises(sqlite3.DatabaseError, match="disk gone"):
        await offer_store.withdraw_offer(db, offer, now=NOW + 2)
    stored = await offer_store.get_offer_received(db, offer.offer_id)
    match = await match_store.match_for_offer_received(db, offer.id)
    assert stored is not None and stored.status == "accepted"
    assert match is not None and match.status == "active"
    await db.execute("DROP TRIGGER temp.no_end")
    assert await offer_store.withdraw_offer(db, offer, now=NOW + 3)
    match = await match_store.match_for_offer_received(db, offer.id)
    assert match is not None and match.status == "ended"


async def test_an_offer_for_a_need_closed_meanwhile_is_not_accepted(db: Database) -> None:
    offer = await _offer_received(db)
    need = await need_store.get_need_by_id(db, offer.need_id)
    assert need is not None
    await need_store.set_status(db, need, "cancelled", now=NOW + 1)
    assert await _accept_received(db, offer, NOW + 2) is None
    stored = await offer_store.get_offer_received(db, offer.offer_id)
    assert stored is not None and stored.status == "offered"
    assert await match_store.match_for_offer_received(db, offer.id) is None


async def test_accepts_sharing_a_transaction_keep_apart(db: Database) -> None:
    # Writes queued together may share one transaction, each in a savepoint
    # of its own: one accept whose match fails leaves the other whole.
    offer = await _offer_received(db)
    sent, volunteer_id = await _offer_sent(db)
    await _block_matches_for(db, "offer_received_id", offer.id)
    failed, accepted = await asyncio.gather(_accept_received(db, offer, NOW + 1),
                                            _accept_sent(db, sent, volunteer_id, NOW + 1),
                                            return_exceptions=True)
    assert isinstance(failed, sqlite3.DatabaseError) and accepted is True
    stored = await offer_store.get_offer_received(db, offer.offer_id)
    assert stored is not None and stored.status == "offered"
    assert await match_store.match_for_offer_sent(db, sent.id) is not None
