"""Offers between two neighbouring hubs: a volunteer who withdraws makes their hub send
`Undo` (before or after the Accept); nobody is asked for a hub that is not a neighbour."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from federation.dispatch import RetryableError
from federation.errors import ForbiddenActivity
from hub.exchange.offers import CONTACT_BEFORE_ACCEPT_RETRY, is_neighbour, receive_contact
from hub.jobs.exchange import auto_ask
from hub.mailsink import MailSink
from hub.store import needs as need_store
from hub.store import offers as offer_store
from tests.hub.exchange.factories import check, enhanced_need, volunteer
from tests.hub.test_two_hubs import _follows
from tests.support.hubs import RunningHub, wait_until

HubFactory = Callable[..., Awaitable[RunningHub]]


async def _pair(hubs: HubFactory, smtp: MailSink) -> tuple[RunningHub, RunningHub]:
    a = await hubs("alder", coordinator_email="volunteering@alder.example")
    b = await hubs("birch", smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none")
    await _follows(a, b)
    await _follows(b, a)
    return a, b


async def _volunteer_says_yes(a: RunningHub, b: RunningHub, smtp: MailSink,
                              name: str) -> tuple[dict[str, Any], str]:
    """A posts a need; B's volunteer `name` is asked by email and says yes on the page."""
    status, made = await b.api("POST", "/api/v1/volunteers",
                               volunteer(name, consents={"match_neighbours": True}))
    assert status == 201, made
    status, _ = await b.api("POST", f"/api/v1/volunteers/{made['id']}/checks", check())
    status, need = await a.api("POST", "/api/v1/needs", enhanced_need())
    assert status == 201, need
    await wait_until(lambda: need_store.get_remote_need(b.hub.db, need["url"]),
                     what="the need at B")
    status, asked = await b.api("POST", "/api/v1/neighbour-needs/asks",
                                {"need": need["url"], "volunteer": made["id"]})
    assert status == 201, asked
    link = await wait_until(lambda: _link(smtp), what="the ask email")
    assert await _answer(link, "yes", b.base_url) == 200
    return need, link


async def _link(smtp: MailSink) -> str | None:
    for message in smtp.messages:
        found = re.search(r"http://127\.0\.0\.1:\d+/asks/[A-Za-z0-9_-]{32,64}",
                          message.get_payload(decode=True).decode())
        if found:
            return found.group(0)
    return None


async def _answer(link: str, answer: str, origin: str) -> int:
    async with aiohttp.ClientSession() as session, session.post(
            link, data={"answer": answer}, headers={"Origin": origin}) as response:
        return response.status


async def _offer_status(a: RunningHub, need: dict[str, Any], status: str) -> Any:
    row = await need_store.get_need(a.hub.db, need["id"])
    offers = await offer_store.offers_for_need(a.hub.db, row.id)
    return offers[0] if offers and offers[0].status == status else None


async def test_a_volunteer_who_withdraws_before_the_accept_sends_undo(
        hubs: HubFactory, smtp: MailSink) -> None:
    a, b = await _pair(hubs, smtp)
    need, link = await _volunteer_says_yes(a, b, smtp, "Wen Li")
    offer = await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer")
    assert await _answer(link, "withdraw", b.base_url) == 200
    await wait_until(lambda: _offer_status(a, need, "withdrawn"), what="the Undo at A")
    status, body = await a.api("POST", f"/api/v1/offers/{offer.uuid}/accept", {})
    assert status == 409, body


async def test_a_volunteer_who_withdraws_after_the_accept_ends_the_match(
        hubs: HubFactory, smtp: MailSink) -> None:
    a, b = await _pair(hubs, smtp)
    need, link = await _volunteer_says_yes(a, b, smtp, "Wen Li")
    offer = await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer")
    status, body = await a.api("POST", f"/api/v1/offers/{offer.uuid}/accept", {})
    assert status == 200, body

    async def contact() -> Any:
        _, match = await a.api("GET", f"/api/v1/matches/{body['match']}")
        return match if match.get("contact") else None

    match = await wait_until(contact, what="the volunteer's contact at A")
    assert match["contact"]["name"] == "Wen Li"
    # B's volunteer hears the coordinator's contact by email.
    await wait_until(lambda: _mail_saying(smtp, "volunteering@alder.example"),
                     what="the coordinator's contact mailed to the volunteer")
    assert await _answer(link, "withdraw", b.base_url) == 200
    await wait_until(lambda: _offer_status(a, need, "withdrawn"), what="the Undo at A")
    status, match = await a.api("GET", f"/api/v1/matches/{body['match']}")
    assert match["status"] == "ended"


async def _mail_saying(smtp: MailSink, text: str) -> bool:
    return any(text in m.get_payload(decode=True).decode() for m in smtp.messages)


async def test_no_one_is_asked_for_a_hub_that_is_not_a_neighbour(
        hubs: HubFactory, smtp: MailSink) -> None:
    a = await hubs("alder")
    b = await hubs("birch", smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none")
    await _follows(b, a)  # B follows A, but A does not follow B: not neighbours
    status, _ = await b.api("POST", "/api/v1/volunteers",
                            volunteer("Wen Li", consents={"match_neighbours": True}))
    assert status == 201
    status, need = await a.api("POST", "/api/v1/needs", enhanced_need())
    await wait_until(lambda: need_store.get_remote_need(b.hub.db, need["url"]),
                     what="the need at B")
    status, body = await b.api("POST", "/api/v1/neighbour-needs/asks",
                               {"need": need["url"], "count": 3})
    assert status == 400 and "not a neighbour" in body["error"]


async def test_a_contact_that_overtakes_its_accept_waits_for_it(
        hubs: HubFactory, smtp: MailSink) -> None:
    # A sends its Accept and then its coordinator's contact as two deliveries, which can
    # arrive at B in either order: the contact is kept for a retry, not refused.
    a, b = await _pair(hubs, smtp)
    need, _ = await _volunteer_says_yes(a, b, smtp, "Wen Li")
    offer = await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer")
    early = {"id": f"{a.actor_url}#early-contact", "type": "Create", "actor": a.actor_url,
             "object": {"type": "Note", "inReplyTo": offer.offer_id,
                        "contact": {"name": "Alder coordinator"}}}
    with pytest.raises(RetryableError) as raised:
        await receive_contact(b.hub, early)
    assert raised.value.retry_after == CONTACT_BEFORE_ACCEPT_RETRY
    # Once the Accept has arrived the same note is taken.
    status, _ = await a.api("POST", f"/api/v1/offers/{offer.uuid}/accept", {})
    assert status == 200
    sent = await offer_store.get_offer_sent(b.hub.db, offer.offer_id)

    async def accepted() -> bool:
        row = await offer_store.get_offer_sent(b.hub.db, offer.offer_id)
        return row is not None and row.status == "accepted"

    await wait_until(accepted, what="the Accept at B")
    assert sent is not None
    assert await receive_contact(b.hub, early) is True
    # Someone else's contact for that offer is still refused outright.
    with pytest.raises(ForbiddenActivity):
        await receive_contact(b.hub, {**early, "actor": "http://127.0.0.1:9/actor"})


async def test_cancelling_a_need_rejects_its_open_offers(
        hubs: HubFactory, smtp: MailSink) -> None:
    # Staff cancel a need that has a neighbour's offer open: that hub hears `Reject` and
    # tells its volunteer, rather than the offer lapsing in silence.
    a, b = await _pair(hubs, smtp)
    need, _ = await _volunteer_says_yes(a, b, smtp, "Wen Li")
    offer = await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer")
    status, body = await a.api("POST", f"/api/v1/needs/{need['id']}/status",
                               {"status": "cancelled"})
    assert status == 200, body
    assert await _offer_status(a, need, "rejected") is not None

    async def rejected_at_b() -> bool:
        row = await offer_store.get_offer_sent(b.hub.db, offer.offer_id)
        return row is not None and row.status == "rejected"

    await wait_until(rejected_at_b, what="the Reject at B")


async def _unpair(b: RunningHub, a: RunningHub) -> None:
    """B's staff stop following A: A is no longer B's neighbour."""
    status, _ = await b.api("POST", "/api/v1/following/remove", {"target": a.actor_url})
    assert status == 200
    assert not await is_neighbour(b.hub, a.actor_url)


async def test_an_accept_from_a_hub_unpaired_since_the_offer_releases_nothing(
        hubs: HubFactory, smtp: MailSink) -> None:
    a, b = await _pair(hubs, smtp)
    need, _ = await _volunteer_says_yes(a, b, smtp, "Wen Li")
    offer = await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer")
    await _unpair(b, a)
    status, _ = await a.api("POST", f"/api/v1/offers/{offer.uuid}/accept", {})
    assert status == 200  # A cannot know; B decides what it releases

    async def expired_at_b() -> bool:
        row = await offer_store.get_offer_sent(b.hub.db, offer.offer_id)
        return row is not None and row.status == "expired"

    await wait_until(expired_at_b, what="the offer closed at B")
    # A, which holds a match, hears Undo: the match ends there too.
    await wait_until(lambda: _offer_status(a, need, "withdrawn"), what="the Undo at A")
    row = await a.hub.db.fetchone("SELECT contact, status FROM matches")
    assert row is not None and row["status"] == "ended"
    assert row["contact"] is None  # Wen Li's contact never reached A


async def test_a_yes_after_the_needs_hub_was_unpaired_offers_nothing(
        hubs: HubFactory, smtp: MailSink) -> None:
    a, b = await _pair(hubs, smtp)
    status, made = await b.api("POST", "/api/v1/volunteers",
                               volunteer("Wen Li", consents={"match_neighbours": True}))
    await b.api("POST", f"/api/v1/volunteers/{made['id']}/checks", check())
    status, need = await a.api("POST", "/api/v1/needs", enhanced_need())
    await wait_until(lambda: need_store.get_remote_need(b.hub.db, need["url"]),
                     what="the need at B")
    status, _ = await b.api("POST", "/api/v1/neighbour-needs/asks",
                            {"need": need["url"], "volunteer": made["id"]})
    assert status == 201
    link = await wait_until(lambda: _link(smtp), what="the ask email")
    await _unpair(b, a)
    assert await _answer(link, "yes", b.base_url) == 200
    assert await b.hub.db.fetchone("SELECT id FROM offers_sent") is None
    row = await b.hub.db.fetchone("SELECT status FROM asks")
    assert row["status"] == "expired"


async def test_the_auto_ask_policy_never_offers_volunteers_to_another_hub(
        hubs: HubFactory, smtp: MailSink) -> None:
    # A neighbour's need is asked about only by staff here: a yes would become an offer whose
    # acceptance releases the volunteer's contact to that hub.
    a = await hubs("alder")
    b = await hubs("birch", smtp_host="127.0.0.1", smtp_port=smtp.port,
                   smtp_security="none", auto_ask_top=2)
    await _follows(a, b)
    await _follows(b, a)
    status, made = await b.api("POST", "/api/v1/volunteers",
                               volunteer("Wen Li", consents={"match_neighbours": True}))
    await b.api("POST", f"/api/v1/volunteers/{made['id']}/checks", check())
    status, need = await a.api("POST", "/api/v1/needs", enhanced_need())
    assert status == 201, need
    await wait_until(lambda: need_store.get_remote_need(b.hub.db, need["url"]),
                     what="the need at B")
    assert await auto_ask(b.hub, time.time()) == 0
    assert await b.hub.db.fetchone("SELECT id FROM asks") is None
