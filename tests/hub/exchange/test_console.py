"""The need's console page: this hub's candidates and a neighbour's offer in one ranked list,
asking from it, accepting the offer, and logging a session for the match."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from hub.mailsink import MailSink
from hub.store import asks as ask_store
from hub.store import needs as need_store
from hub.store import offers as offer_store
from hub.store import staff as staff_store
from tests.hub.console.conftest import PASSWORD, Browser
from tests.hub.exchange.factories import check, enhanced_need, volunteer
from tests.hub.exchange.test_offers import _offer_status, _pair, _volunteer_says_yes
from tests.support.hubs import RunningHub, wait_until

HubFactory = Callable[..., Awaitable[RunningHub]]


async def test_staff_choose_from_one_list_of_their_volunteers_and_offers(
        hubs: HubFactory, smtp: MailSink) -> None:
    a, b = await _pair(hubs, smtp)
    await staff_store.add_staff(a.hub.db, "alice", PASSWORD, "coordinator")
    await staff_store.add_staff(a.hub.db, "bob", PASSWORD, "helper")
    status, ada = await a.api("POST", "/api/v1/volunteers",
                              volunteer("Ada Hereford", consents={"match_here": True}))
    assert status == 201, ada
    await a.api("POST", f"/api/v1/volunteers/{ada['id']}/checks", check())
    need, _ = await _volunteer_says_yes(a, b, smtp, "Wen Li")
    offer = await wait_until(lambda: _offer_status(a, need, "offered"), what="the offer")
    page_path = f"/console/needs/{need['id']}"

    browser = Browser(a)
    try:
        assert (await browser.login("alice")).status == 303
        page = await browser.get(page_path)
        assert page.status == 200
        # Ada and the offer, in one list, each with its reasons and buttons.
        assert "Ada Hereford" in page.text and offer.pseudonym in page.text
        assert "offered by a neighbouring hub" in page.text
        assert "signed by their hub" in page.text
        assert f'/console/offers/{offer.uuid}/accept' in page.text

        # Asking Ada is refused with the reason: this hub sends no email, and she gave no
        # account for direct messages, so she could not be reached; no ask is recorded.
        refused = await browser.submit(f"{page_path}/ask", {"volunteer": ada["id"]})
        assert refused.status == 400 and "could not be reached" in refused.text
        row = await need_store.get_need(a.hub.db, need["id"])
        assert await ask_store.list_asks(a.hub.db, need_id=row.id) == []

        # accepting the offer sends Accept, fills the need and, once B sends it, shows the
        # volunteer's contact under "Matched".
        done = await browser.submit(f"/console/offers/{offer.uuid}/accept",
                                    {"shared_note": "Ring the bell twice."})
        assert done.status == 303, done.text
        assert (await offer_store.get_offer_received(a.hub.db, offer.offer_id)).status \
            == "accepted"

        async def matched() -> str | None:
            text = (await browser.get(page_path)).text
            return text if "wen@example.org" in text else None

        text = await wait_until(matched, what="the volunteer's contact on the page")
        assert "Matched" in text and "Wen Li" in text

        # A session logged from the page shows in the match's hours.
        rows = await a.hub.db.fetchall("SELECT uuid FROM matches")
        done = await browser.submit(f"/console/matches/{rows[0]['uuid']}/sessions",
                                    {"date": time.strftime("%Y-%m-%d"), "minutes": "90"})
        assert done.status == 303, done.text
        assert "1 session, 1 h 30 min" in (await browser.get(page_path)).text
    finally:
        await browser.close()

    # A helper sees neither the list nor the buttons, and cannot use them.
    helper = Browser(a)
    try:
        assert (await helper.login("bob")).status == 303
        assert offer.pseudonym not in (await helper.get(page_path)).text
        refused = await helper.submit(f"{page_path}/ask", {"count": "3"})
        assert refused.status == 403
    finally:
        await helper.close()


async def test_staff_ask_their_volunteers_for_a_neighbours_need_from_the_console(
        hubs: HubFactory, smtp: MailSink) -> None:
    a, b = await _pair(hubs, smtp)
    await staff_store.add_staff(b.hub.db, "carol", PASSWORD, "coordinator")
    status, wen = await b.api("POST", "/api/v1/volunteers",
                              volunteer("Wen Li", consents={"match_neighbours": True}))
    await b.api("POST", f"/api/v1/volunteers/{wen['id']}/checks", check())
    status, need = await a.api("POST", "/api/v1/needs", enhanced_need())
    assert status == 201, need
    remote = await wait_until(lambda: need_store.get_remote_need(b.hub.db, need["url"]),
                              what="the need at B")
    browser = Browser(b)
    try:
        assert (await browser.login("carol")).status == 303
        listing = await browser.get("/console/neighbour-needs")
        assert f"/console/neighbour-needs/{remote.id}" in listing.text
        page = await browser.get(f"/console/neighbour-needs/{remote.id}")
        assert "Wen Li" in page.text
        done = await browser.submit(f"/console/neighbour-needs/{remote.id}/ask",
                                    {"count": "3"})
        assert done.status == 303, done.text
        assert "Asked" in (await browser.get(f"/console/neighbour-needs/{remote.id}")).text
        asks = await ask_store.list_asks(b.hub.db, remote_need_id=remote.id)
        assert len(asks) == 1 and asks[0].channels == ("email",)
    finally:
        await browser.close()
