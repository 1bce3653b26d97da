"""An exchange step taken while the other hub is down happens whole: its state, its match and
the activities telling the other hub are one transaction, sent to the inbox we know, and they
reach that hub once it is back. Before, the state was written first and the send, which
needed a fresh copy of the other hub's actor, failed: an accept whose Accept never left, or a
yes whose Offer never left, stayed so for good.

"Down": the other hub's server stops listening and our copy of its actor is over a day old,
so sending first tries to fetch it again, and fails."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from yarl import URL

from hub.exchange.offers import accept_offer
from hub.jobs.exchange import SWEEP_EVERY, decline_left_over, fill_left_over
from hub.jobs.registry import build_runner
from hub.mailsink import MailSink
from hub.store import asks as ask_store
from hub.store import matches as match_store
from hub.store import needs as need_store
from hub.store import offers as offer_store
from hub.store import volunteers as volunteer_store
from hub.volunteers import service as volunteer_service
from tests.hub.exchange.factories import check, enhanced_need, volunteer
from tests.hub.exchange.test_offers import (
    _answer,
    _link,
    _offer_status,
    _pair,
    _volunteer_says_yes,
)
from tests.support.hubs import RunningHub, wait_until

HubFactory = Callable[..., Awaitable[RunningHub]]


@asynccontextmanager
async def unreachable(down: RunningHub, seen_by: RunningHub) -> AsyncIterator[None]:
    """`down` stops listening and `seen_by`'s copy of its actor goes stale; then both come
    back (on the same port)."""
    await seen_by.hub.db.execute("UPDATE remote_actors SET fetched_at = 0 WHERE id = ?",
                                 (down.actor_url,))
    port = URL(down.base_url).port
    for site in list(down.runner.sites):
        await site.stop()
    assert down.runner.server is not None
    await down.runner.server.shutdown(1.0)  # kept-alive connections too
    try:
        yield
    finally:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        await web.SockSite(down.runner, sock).start()


async def _outbox_count(running: RunningHub, activity_type: str) -> int:
    return int(await running.hub.db.fetchval(
        "SELECT count(*) FROM outbox WHERE type = ?", (activity_type,)))


async def _tried(running: RunningHub) -> None:
    """Wait until every delivery queued meanwhile has been tried once (and failed)."""
    async def tried() -> bool:
        untried = await running.hub.db.fetchval(
            "SELECT count(*) FROM deliveries WHERE state = 'pending' AND attempts = 0")
        pending = await running.hub.db.fetchval(
            "SELECT count(*) FROM deliveries WHERE state = 'pending'")
        return untried == 0 and pending > 0

    await wait_until(tried, what="a first, failed, try of the deliveries")


async def _send_now(running: RunningHub) -> None:
    """The deliveries that failed while the other hub was down come due (their backoff is
    cut short here) and the worker is woken."""
    await running.hub.db.execute(
        "UPDATE deliveries SET next_attempt_at = 0 WHERE state = 'pending'")
    running.hub.wake_delivery()


async def _offered(hubs: HubFactory, smtp: MailSink) -> tuple[
        RunningHub, RunningHub, dict[str, Any], str, offer_store.OfferReceived]:
    """Two paired hubs; B's volunteer said yes to A's need, and A holds the offer."""
    a, b = await _pair(hubs, smtp)
    need, link = await _volunteer_says_yes(a, b, smtp, "Wen Li")
    offer = await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer")
    return a, b, need, link, offer


@dataclass(frozen=True)
class Accepted:
    a: RunningHub
    b: RunningHub
    need: dict[str, Any]
    link: str  # the volunteer's private page at B
    offer: offer_store.OfferReceived  # as A holds it
    match_uuid: str  # A's match


async def _accepted(hubs: HubFactory, smtp: MailSink) -> Accepted:
    """Two paired hubs; B's volunteer said yes to A's need, A's staff accepted the offer and
    B has applied the Accept."""
    a, b, need, link, offer = await _offered(hubs, smtp)
    match_uuid = await accept_offer(a.hub, offer)
    await wait_until(lambda: _status_at_b(b, offer.offer_id, "accepted"),
                     what="the Accept at B")
    return Accepted(a, b, need, link, offer, match_uuid)


async def _status_at_b(b: RunningHub, offer_id: str, status: str) -> bool:
    row = await offer_store.get_offer_sent(b.hub.db, offer_id)
    return row is not None and row.status == status


async def _match_ended(a: RunningHub, match_uuid: str) -> None:
    async def ended() -> bool:
        match = await match_store.get_match(a.hub.db, match_uuid)
        return match is not None and match.status == "ended"

    await wait_until(ended, what="the match ended at A")


async def _erase_wen(b: RunningHub) -> None:
    [wen] = await volunteer_store.list_volunteers(b.hub.db)
    status, body = await b.api("DELETE", f"/api/v1/volunteers/{wen.uuid}")
    assert status == 200, body
    assert await volunteer_store.list_volunteers(b.hub.db) == []
    # The contact note B sent A about her (delivered or not) keeps nothing of her.
    assert await b.hub.db.fetchval(
        "SELECT count(*) FROM outbox WHERE instr(CAST(body AS TEXT), 'Wen Li') > 0") == 0


async def test_an_accept_while_the_neighbour_is_down_reaches_it_once_it_is_back(
        hubs: HubFactory, smtp: MailSink) -> None:
    a, b, _, _, offer = await _offered(hubs, smtp)
    accepts = await _outbox_count(a, "Accept")
    async with unreachable(b, seen_by=a):
        status, body = await a.api("POST", f"/api/v1/offers/{offer.uuid}/accept", {})
        assert status == 200, body  # sent to the inbox A knows, queued until B is back
        stored = await offer_store.get_offer_received(a.hub.db, offer.offer_id)
        assert stored is not None and stored.status == "accepted"
        assert await match_store.match_for_offer_received(a.hub.db, offer.id) is not None
        assert await _outbox_count(a, "Accept") == accepts + 1
        await _tried(a)
    await _send_now(a)

    async def matched_at_b() -> bool:
        row = await offer_store.get_offer_sent(b.hub.db, offer.offer_id)
        return row is not None and row.status == "accepted" and \
            await match_store.match_for_offer_sent(b.hub.db, row.id) is not None

    await wait_until(matched_at_b, what="the Accept and the match at B")

    async def contact_at_a() -> bool:
        match = await match_store.get_match(a.hub.db, body["match"])
        return match is not None and match.contact is not None

    await wait_until(contact_at_a, what="the volunteer's contact at A")


async def test_a_yes_while_the_needs_hub_is_down_is_offered_once_it_is_back(
        hubs: HubFactory, smtp: MailSink) -> None:
    a, b = await _pair(hubs, smtp)
    status, made = await b.api("POST", "/api/v1/volunteers",
                               volunteer("Wen Li", consents={"match_neighbours": True}))
    assert status == 201, made
    await b.api("POST", f"/api/v1/volunteers/{made['id']}/checks", check())
    status, need = await a.api("POST", "/api/v1/needs", enhanced_need())
    assert status == 201, need
    remote = await wait_until(lambda: need_store.get_remote_need(b.hub.db, need["url"]),
                              what="the need at B")
    status, asked = await b.api("POST", "/api/v1/neighbour-needs/asks",
                                {"need": need["url"], "volunteer": made["id"]})
    assert status == 201, asked
    link = await wait_until(lambda: _link(smtp), what="the ask email")
    async with unreachable(a, seen_by=b):
        assert await _answer(link, "yes", b.base_url) == 200
        [ask] = await ask_store.list_asks(b.hub.db, remote_need_id=remote.id)
        assert ask.status == "yes"  # the yes and its offer, together
        assert await offer_store.offer_sent_for_ask(b.hub.db, ask.id) is not None
        await _tried(b)
    await _send_now(b)
    await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer at A")


async def test_an_accept_whose_sender_is_down_is_applied_whole(
        hubs: HubFactory, smtp: MailSink) -> None:
    # At the volunteer's hub: the Accept arrives while the requesting hub's server is down
    # and our copy of its actor is old. The accept, the match and the contact note for it
    # are written together, and the note reaches it once it is back.
    a, b, _, _, offer = await _offered(hubs, smtp)
    async with unreachable(a, seen_by=b):
        match_uuid = await accept_offer(a.hub, offer)  # A's staff, in-process: A is down

        async def matched_at_b() -> bool:
            row = await offer_store.get_offer_sent(b.hub.db, offer.offer_id)
            return row is not None and row.status == "accepted" and \
                await match_store.match_for_offer_sent(b.hub.db, row.id) is not None

        await wait_until(matched_at_b, what="the Accept applied at B")
        await _tried(b)
    await _send_now(b)

    async def contact_at_a() -> bool:
        match = await match_store.get_match(a.hub.db, match_uuid)
        return match is not None and match.contact is not None

    await wait_until(contact_at_a, what="the volunteer's contact at A")


async def test_a_withdrawal_while_the_needs_hub_is_down_reaches_it_once_it_is_back(
        hubs: HubFactory, smtp: MailSink) -> None:
    # The ask, the offer, the match and the Undo change together at B, and A ends its
    # match when the Undo arrives.
    x = await _accepted(hubs, smtp)
    a, b = x.a, x.b
    async with unreachable(a, seen_by=b):
        assert await _answer(x.link, "withdraw", b.base_url) == 200
        sent = await offer_store.get_offer_sent(b.hub.db, x.offer.offer_id)
        assert sent is not None and sent.status == "withdrawn"
        ended = await match_store.match_for_offer_sent(b.hub.db, sent.id)
        assert ended is not None and ended.status == "ended"
        [ask] = await ask_store.list_asks(b.hub.db, remote_need_id=sent.remote_need_id)
        assert ask.status == "withdrawn"
        assert await _outbox_count(b, "Undo") == 1
        await _tried(b)
    await _send_now(b)
    await _match_ended(a, x.match_uuid)


async def test_an_accept_of_a_withdrawn_offer_is_answered_with_undo_again(
        hubs: HubFactory, smtp: MailSink) -> None:
    # The volunteer withdraws while A is down; A's staff accept the offer before B's Undo
    # gets through (its retry is 15 s or more away). B answers that Accept with Undo at
    # once, and A's match ends without waiting for the first Undo's retry.
    a, b, need, link, offer = await _offered(hubs, smtp)
    async with unreachable(a, seen_by=b):
        assert await _answer(link, "withdraw", b.base_url) == 200
        await _tried(b)
    await _match_ended(a, await accept_offer(a.hub, offer))
    assert await _offer_status(a, need, "withdrawn") is not None


async def test_an_accept_of_an_expired_offer_is_answered_with_undo(
        hubs: HubFactory, smtp: MailSink) -> None:
    # B's offer lapsed before A's staff accepted it (the hubs' clocks and expiry jobs need not
    # agree): B keeps the volunteer's contact and A's match ends.
    a, b, _, _, offer = await _offered(hubs, smtp)
    await b.hub.db.execute("UPDATE offers_sent SET expires_at = 0")
    match_uuid = await accept_offer(a.hub, offer)
    await _match_ended(a, match_uuid)
    sent = await offer_store.get_offer_sent(b.hub.db, offer.offer_id)
    assert sent is not None and sent.status == "expired"
    match = await match_store.get_match(a.hub.db, match_uuid)
    assert match is not None and match.contact is None


async def test_offers_a_closed_need_left_open_are_declined_by_the_sweep(
        hubs: HubFactory, smtp: MailSink) -> None:
    # Closing a need writes its status, then declines its offers one by one: a stop in
    # between leaves offers open that nobody can accept any more. The sweep declines them.
    a, b, need, _, offer = await _offered(hubs, smtp)
    stored = await need_store.get_need(a.hub.db, need["id"])
    assert stored is not None
    assert await need_store.set_status(a.hub.db, stored, "cancelled") is not None
    runner = build_runner(a.hub)
    runner.clock = lambda: time.time() + SWEEP_EVERY  # the next sweep is due
    await runner.tick()
    assert await _offer_status(a, need, "rejected") is not None
    assert await decline_left_over(a.hub) == 0
    await wait_until(lambda: _status_at_b(b, offer.offer_id, "rejected"),
                     what="the Reject at B")


async def test_a_need_an_accept_completed_is_filled_by_the_sweep(
        hubs: HubFactory, smtp: MailSink) -> None:
    # Accepting the offer that completes a need, then filling the need, are separate steps;
    # after a stop between them the sweep fills it, unless staff changed the need since.
    a, _, need, _, offer = await _offered(hubs, smtp)
    assert await a.hub.db.run_in_writer(
        lambda conn: offer_store.write_accept_received(conn, offer, now=time.time()))
    runner = build_runner(a.hub)
    runner.clock = lambda: time.time() + SWEEP_EVERY
    status, body = await a.api("GET", f"/api/v1/needs/{need['id']}")
    assert body["status"] == "open"
    await runner.tick()
    status, body = await a.api("GET", f"/api/v1/needs/{need['id']}")
    assert (status, body["status"]) == (200, "filled")
    # Staff reopen it (they want someone else as well): later sweeps leave it open.
    status, body = await a.api("POST", f"/api/v1/needs/{need['id']}/status", {"status": "open"})
    assert (status, body["status"]) == (200, "open")
    assert await fill_left_over(a.hub, time.time() + SWEEP_EVERY) == 0


async def test_erasing_a_volunteer_withdraws_their_standing_offers(
        hubs: HubFactory, smtp: MailSink) -> None:
    # Erasing cascades to the offer's row at B; before it does, the neighbour hears Undo, so
    # it does not keep a match with nobody behind it.
    x = await _accepted(hubs, smtp)
    await _erase_wen(x.b)
    assert await offer_store.get_offer_sent(x.b.hub.db, x.offer.offer_id) is None
    await _match_ended(x.a, x.match_uuid)


async def test_a_yes_landing_during_an_erasure_is_withdrawn_too(
        hubs: HubFactory, smtp: MailSink, monkeypatch: pytest.MonkeyPatch) -> None:
    # The erasure withdraws the standing offers, then erases in a transaction of its own. A
    # yes that lands in between makes a new offer; the erasure sees it and withdraws it too.
    a, b, need, _, _ = await _offered(hubs, smtp)
    [wen] = await volunteer_store.list_volunteers(b.hub.db)
    status, second = await a.api("POST", "/api/v1/needs", enhanced_need())
    assert status == 201, second
    await wait_until(lambda: need_store.get_remote_need(b.hub.db, second["url"]),
                     what="the second need at B")
    sent = len(smtp.messages)
    status, asked = await b.api("POST", "/api/v1/neighbour-needs/asks",
                                {"need": second["url"], "volunteer": wen.uuid})
    assert status == 201, asked
    link = await wait_until(lambda: _link(SimpleNamespace(messages=smtp.messages[sent:])),
                            what="the second ask email")  # the messages since
    withdraw = volunteer_service.withdraw_before_erasure

    async def yes_meanwhile(*args: Any, **kwargs: Any) -> int:
        withdrawn = await withdraw(*args, **kwargs)
        monkeypatch.setattr(volunteer_service, "withdraw_before_erasure", withdraw)
        assert await _answer(link, "yes", b.base_url) == 200  # a new offer
        return withdrawn

    monkeypatch.setattr(volunteer_service, "withdraw_before_erasure", yes_meanwhile)
    await _erase_wen(b)
    for each in (need, second):
        await wait_until(lambda n=each: _offer_status(a, n, "withdrawn"),
                         what=f"the offer for {each['title']} withdrawn at A")


async def test_an_erasure_is_not_stopped_by_a_neighbour_it_cannot_tell(
        hubs: HubFactory, smtp: MailSink) -> None:
    # Our copy of A's actor holds an inbox no request can go to: the Undo cannot be queued,
    # and the volunteer is erased all the same, their offer and its contact note with them.
    x = await _accepted(hubs, smtp)
    await x.b.hub.db.execute("UPDATE remote_actors SET inbox = 'http://' WHERE id = ?",
                             (x.a.actor_url,))
    await _erase_wen(x.b)
    assert await offer_store.get_offer_sent(x.b.hub.db, x.offer.offer_id) is None
