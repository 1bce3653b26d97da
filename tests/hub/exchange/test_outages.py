"""A neighbour that cannot be reached at the moment an exchange step needs it changes nothing:
the step either happens whole (its state and the activity telling the other hub, in one
transaction) or not at all, so trying again later works. Before, the state was written
first: an accept whose Accept never left, or a yes whose Offer never left, stayed so for good.

"Cannot be reached": the other hub's server stops listening and our copy of its actor is
over a day old, so sending to it needs a fresh fetch of its actor document, which fails."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from yarl import URL

from hub.exchange.offers import accept_offer
from hub.store import asks as ask_store
from hub.store import matches as match_store
from hub.store import needs as need_store
from hub.store import offers as offer_store
from tests.hub.exchange.factories import check, enhanced_need, volunteer
from tests.hub.exchange.test_offers import (
    _answer,
    _link,
    _offer_status,
    _pair,
    _volunteer_says_yes,
)
from tests.support.hubs import RunningHub, wait_until
from tests.support.smtp import FakeSmtp

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


async def test_an_accept_while_the_neighbour_is_down_changes_nothing_and_can_be_retried(
        hubs: HubFactory, smtp: FakeSmtp) -> None:
    a, b = await _pair(hubs, smtp)
    need, _ = await _volunteer_says_yes(a, b, smtp, "Wen Li")
    offer = await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer")
    accepts = await _outbox_count(a, "Accept")
    async with unreachable(b, seen_by=a):
        status, body = await a.api("POST", f"/api/v1/offers/{offer.uuid}/accept", {})
        assert status == 502, body
        assert "error" in body
    stored = await offer_store.get_offer_received(a.hub.db, offer.offer_id)
    assert stored is not None and stored.status == "offered"
    assert await match_store.match_for_offer_received(a.hub.db, offer.id) is None
    assert await _outbox_count(a, "Accept") == accepts
    # Staff try again once the neighbour is back: the whole exchange goes through.
    status, body = await a.api("POST", f"/api/v1/offers/{offer.uuid}/accept", {})
    assert status == 200, body

    async def matched_at_b() -> bool:
        row = await offer_store.get_offer_sent(b.hub.db, offer.offer_id)
        return row is not None and row.status == "accepted" and \
            await match_store.match_for_offer_sent(b.hub.db, row.id) is not None

    await wait_until(matched_at_b, what="the Accept and the match at B")

    async def contact_at_a() -> bool:
        match = await match_store.get_match(a.hub.db, body["match"])
        return match is not None and match.contact is not None

    await wait_until(contact_at_a, what="the volunteer's contact at A")


async def test_a_yes_while_the_needs_hub_is_down_records_nothing_and_can_be_given_again(
        hubs: HubFactory, smtp: FakeSmtp) -> None:
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
        assert await _answer(link, "yes", b.base_url) == 502
    [ask] = await ask_store.list_asks(b.hub.db, remote_need_id=remote.id)
    assert ask.status == "asked"
    assert await offer_store.offer_sent_for_ask(b.hub.db, ask.id) is None
    # The volunteer answers again once A is back: the offer reaches A.
    assert await _answer(link, "yes", b.base_url) == 200
    await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer at A")
    [ask] = await ask_store.list_asks(b.hub.db, remote_need_id=remote.id)
    assert ask.status == "yes"


async def test_an_accept_whose_sender_cannot_be_fetched_is_retried_whole(
        hubs: HubFactory, smtp: FakeSmtp) -> None:
    # At the volunteer's hub: the Accept arrives, but the requesting hub's actor (to send it
    # the volunteer's contact) cannot be had. Nothing is written and the Accept is kept for
    # a retry (a fetch that failed for now is no reason to drop an activity); the retry,
    # once that hub is back, accepts, matches and sends the contact together.
    a, b = await _pair(hubs, smtp)
    need, _ = await _volunteer_says_yes(a, b, smtp, "Wen Li")
    offer = await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer")
    creates = await _outbox_count(b, "Create")
    async with unreachable(a, seen_by=b):
        match_uuid = await accept_offer(a.hub, offer)  # A's staff, in-process: A is down

        async def waiting_at_b() -> bool:
            row = await b.hub.db.fetchone(
                "SELECT state, attempts FROM inbound WHERE CAST(body AS TEXT) LIKE ?",
                (f'%"type":"Accept"%{offer.offer_id}%',))
            return row is not None and row["state"] == "pending" and row["attempts"] == 1

        await wait_until(waiting_at_b, what="B's first try at the Accept, kept for a retry")
        sent = await offer_store.get_offer_sent(b.hub.db, offer.offer_id)
        assert sent is not None and sent.status == "offered"
        assert await match_store.match_for_offer_sent(b.hub.db, sent.id) is None
        assert await _outbox_count(b, "Create") == creates  # no contact note queued
    # The retry comes due (its backoff is cut short here) once A is back.
    await b.hub.db.execute("UPDATE inbound SET next_attempt_at = 0 WHERE state = 'pending'")
    b.hub.wake_inbox()

    async def contact_at_a() -> bool:
        match = await match_store.get_match(a.hub.db, match_uuid)
        return match is not None and match.contact is not None

    await wait_until(contact_at_a, what="the volunteer's contact at A")
    sent = await offer_store.get_offer_sent(b.hub.db, offer.offer_id)
    assert sent is not None and sent.status == "accepted"
    assert await match_store.match_for_offer_sent(b.hub.db, sent.id) is not None
