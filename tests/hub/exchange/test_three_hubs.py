"""Cross-hub matching on loopback: a befriending need at hub A that requires an enhanced DBS
check; volunteers at hubs B and C, some without the check, one with it lapsed, some without
consent to be matched for neighbours. Only the eligible are asked; their yeses arrive at A as
offers; A accepts one and the other is rejected; contacts pass only after the acceptance.

Every request any hub POSTs is recorded at the HTTP layer (the delivery client, as each
request is handed to the socket) and scanned for the volunteers' and the neighbour's personal
details.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import hub.app
from federation.http1 import DeliveryClient
from hub.mailsink import MailSink
from hub.store import needs as need_store
from hub.store import offers as offer_store
from tests.hub.exchange.factories import (
    NEIGHBOUR_NOTES,
    check,
    enhanced_need,
    volunteer,
)
from tests.hub.test_two_hubs import _follows
from tests.support.hubs import RunningHub, ready, wait_until
from tests.support.remote import RemoteServer

HubFactory = Callable[..., Awaitable[RunningHub]]
DATA = Path(__file__).parent.parent.parent / "data"


@dataclass
class Sent:
    sender: str        # the sending hub's base URL, from its User-Agent
    url: str
    body: str
    seq: int


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[Sent]:
    """Every POST the hubs' delivery clients make, in order, as handed to the socket."""
    sent: list[Sent] = []

    class RecordingClient(DeliveryClient):
        async def post(self, url: str, headers: Mapping[str, str], body: bytes,
                       **options: Any) -> Any:
            agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), "")
            sender = agent.split("(+", 1)[-1].rstrip("/)")
            sent.append(Sent(sender, url, body.decode(), len(sent)))
            return await super().post(url, headers, body, **options)

    monkeypatch.setattr(hub.app, "DeliveryClient", RecordingClient)
    return sent


@pytest.fixture
async def mastodon() -> AsyncIterator[RemoteServer]:
    server = RemoteServer()
    await server.start()
    yield server
    await server.stop()


async def _add(hub_: RunningHub, data: dict[str, Any], *checks: dict[str, Any]) -> str:
    status, made = await hub_.api("POST", "/api/v1/volunteers", data)
    assert status == 201, made
    for c in checks:
        status, body = await hub_.api("POST", f"/api/v1/volunteers/{made['id']}/checks", c)
        assert status == 201, body
    return made["id"]


def _link(text: str) -> str:
    found = re.search(r"http://127\.0\.0\.1:\d+/asks/[A-Za-z0-9_-]{32,64}", text)
    assert found, text
    return found.group(0)


async def _ask_neighbour_need(hub_: RunningHub, need_url: str) -> list[dict[str, Any]]:
    status, body = await hub_.api("POST", "/api/v1/neighbour-needs/asks",
                                  {"need": need_url, "count": 10})
    assert status == 201, body
    return body["items"]


async def test_three_hubs_match_a_befriending_need_without_leaking_anyone(
        hubs: HubFactory, wire: list[Sent], smtp: MailSink, mastodon: RemoteServer) -> None:
    # Given hub A, which needs a befriender, and hubs B and C, each a neighbour of A
    # (A follows each and each follows A); B and C do not follow each other.
    a = await hubs("alder", coordinator_name="Sam Coordinator",
                   coordinator_email="volunteering@alder.example")
    b = await hubs("birch")
    c = await hubs("cedar", smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none")
    for x, y in ((a, b), (b, a), (a, c), (c, a)):
        await _follows(x, y)

    # B's volunteers: Bina (eligible, reachable on Mastodon), Ben (no check), Bea (check
    # lapsed), Bob (checked but did not consent to matching for neighbouring hubs).
    bina_account = mastodon.actor("bina")
    bina = await _add(b, volunteer("Bina Kowalczyk", phone="07700 900111",
                                   consents={"match_neighbours": True,
                                             "contact_by_dm": True}), check())
    await b.hub.db.execute("UPDATE volunteers SET handle = ? WHERE uuid = ?",
                           (f"@bina@{mastodon.base_url.split('//')[1]}", bina))
    await _add(b, volunteer("Ben Nocheck", consents={"match_neighbours": True}))
    await _add(b, volunteer("Bea Lapsed", consents={"match_neighbours": True}),
               check(checked=-1200, renewal=-5))
    await _add(b, volunteer("Bob Homebody", consents={"match_here": True}), check())
    # C's volunteers: Chidi (eligible, by email) and Cara (no cross-hub consent).
    chidi = await _add(c, volunteer("Chidi Okonkwo", email="chidi.okonkwo@mail.example",
                                    consents={"match_neighbours": True}), check())
    await _add(c, volunteer("Cara Stayput", consents={"match_here": True}), check())

    # A has a volunteer of its own, Ada, who is eligible too.
    ada = await _add(a, volunteer("Ada Hereford", consents={"match_here": True}), check())

    # When A posts the need, B and C receive it as a neighbour's need.
    status, need = await a.api("POST", "/api/v1/needs", enhanced_need())
    assert status == 201, need
    for neighbour in (b, c):
        await wait_until(lambda n=neighbour: need_store.get_remote_need(n.hub.db, need["url"]),
                         what=f"the need at {neighbour.settings.name}")

    # Then B's staff ask for it: only Bina is eligible, and only she is asked (by DM);
    asked_b = await _ask_neighbour_need(b, need["url"])
    assert [x["volunteer"] for x in asked_b] == [bina]
    assert asked_b[0]["channels"] == ["dm"]
    # and C's staff: only Chidi, by email.
    asked_c = await _ask_neighbour_need(c, need["url"])
    assert [x["volunteer"] for x in asked_c] == [chidi]
    assert asked_c[0]["channels"] == ["email"]

    # Bina answers "yes" from Mastodon: a reply to the hub's direct message.
    dm = await wait_until(lambda: _first_dm(mastodon), what="the ask DM at Mastodon")
    assert dm["object"]["to"] == [bina_account.id] and dm["object"]["cc"] == []
    reply = _mastodon_reply(bina_account, b, dm["object"]["id"])
    status, text = await bina_account.post(b.hub.urls.inbox, reply)
    assert status == 202, text
    # Chidi answers yes on the web page his email links to.
    mail = await wait_until(lambda: ready(smtp.messages), what="the ask email")
    link = _link(mail[0].get_payload(decode=True).decode())
    async with aiohttp.ClientSession() as session:
        async with session.get(link) as page:
            assert page.status == 200 and "Could you help?" in await page.text()
        async with session.post(link, data={"answer": "yes"},
                                headers={"Origin": c.base_url}) as answered:
            assert answered.status == 200  # after the redirect back to the page
            assert "You said yes" in await answered.text()

    # Then two offers arrive at A, pseudonymous, each with a verified attestation.
    need_row = await need_store.get_need(a.hub.db, need["id"])
    assert need_row is not None
    offers = await wait_until(lambda: _offers(a, need_row.id, 2), what="two offers at A")
    assert {o.actor for o in offers} == {b.actor_url, c.actor_url}
    assert all(o.checks_held[0]["checkType"] == "dbs_enhanced_adult" for o in offers)
    status, listing = await a.api("GET", f"/api/v1/needs/{need['id']}/matching")
    assert status == 200 and {o["status"] for o in listing["offers"]} == {"offered"}
    # A's staff see Ada and the two offers in one ranked list, with the reasons for each.
    status, ranked = await a.api("GET", f"/api/v1/needs/{need['id']}/candidates")
    assert status == 200, ranked
    assert sorted(item["kind"] for item in ranked["ranked"]) == ["offer", "offer", "volunteer"]
    assert [c["volunteer"] for c in ranked["candidates"]] == [ada]
    assert all("signed by their hub" in " ".join(o["reasons"]) for o in ranked["offers"])
    assert [s for s in wire if _is_contact_note(s)] == []

    # When A's staff accept Bina's offer,
    from_b = next(o for o in offers if o.actor == b.actor_url)
    from_c = next(o for o in offers if o.actor == c.actor_url)
    accepted_at = len(wire)
    status, body = await a.api("POST", f"/api/v1/offers/{from_b.uuid}/accept", {})
    assert status == 200, body
    # then C's offer is rejected (the need wanted one volunteer) and the need is filled;
    assert (await offer_store.get_offer_received(a.hub.db, from_c.offer_id)).status \
        == "rejected"
    assert (await need_store.get_need(a.hub.db, need["id"])).status == "filled"
    await wait_until(lambda: _sent_status(c, "rejected"), what="C to hear the Reject")
    await wait_until(lambda: ready(any("found someone else" in m.get_payload(decode=True)
                                        .decode() for m in smtp.messages)),
                     what="Chidi to be thanked by email")
    # B hears the Accept, makes the match and sends Bina's contact to A alone;
    match = await wait_until(lambda: _contact_at(a, need_row.id), what="Bina's contact at A")
    assert match["contact"]["name"] == "Bina Kowalczyk"
    # and A's coordinator's contact reaches Bina, by DM in her ask's thread.
    await wait_until(lambda: _dm_saying(mastodon, "volunteering@alder.example"),
                     what="the coordinator's contact in Bina's DMs")

    # Every request that left any hub: no personal detail, except each contact note, which
    # went only after the acceptance, to the one other hub of the match.
    personal = ("Bina", "Chidi", "Kowalczyk", "Okonkwo", "Hereford", "Nocheck", "Lapsed",
                "Homebody", "Stayput",
                "bina@example.org", "chidi.okonkwo@mail.example", "07700", "51.57", "0.08",
                *NEIGHBOUR_NOTES.split(", "))
    contact_notes = [s for s in wire if _is_contact_note(s)]
    assert {s.sender for s in contact_notes} == {a.base_url, b.base_url}
    for note in contact_notes:
        assert note.seq >= accepted_at
        other = b if note.sender == a.base_url else a
        assert note.url == other.hub.urls.inbox
        body = json.loads(note.body)
        assert body["to"] == [other.actor_url] and body["object"]["cc"] == []
    kinds = {json.loads(s.body)["type"] for s in wire}
    assert {"Follow", "Accept", "Create", "Offer", "Reject"} <= kinds
    assert {s.sender for s in wire} == {a.base_url, b.base_url, c.base_url}
    for s in wire:
        if s in contact_notes:
            continue
        leaks = [p for p in personal if p in s.body]
        assert not leaks, f"{s.sender} -> {s.url} carried {leaks}: {s.body[:300]}"
    assert NEIGHBOUR_NOTES not in "".join(s.body for s in wire)


def _is_contact_note(sent: Sent) -> bool:
    obj = json.loads(sent.body).get("object")
    return isinstance(obj, dict) and obj.get("type") == "Note" and "contact" in obj



async def _first_dm(server: RemoteServer) -> dict[str, Any] | None:
    for activity in server.received:
        obj = activity.get("object")
        if activity.get("type") == "Create" and isinstance(obj, dict) \
                and "/asks/messages/" in str(obj.get("id")):
            return activity
    return None


async def _dm_saying(server: RemoteServer, text: str) -> bool:
    return any(text in json.dumps(a) for a in server.received)


def _mastodon_reply(account: Any, home: RunningHub, ask_dm_id: str) -> dict[str, Any]:
    """The captured Mastodon reply, moved to the fake account and the hub's real message."""
    raw = (DATA / "mastodon_dm_reply.json").read_text()
    raw = raw.replace("https://mastodon.example/users/bina", account.id)
    raw = raw.replace("https://mastodon.example/@bina", f"{account.server.base_url}/@bina")
    raw = raw.replace("https://hub.example.org/asks/messages/"
                      "0b7e6f52-8d0c-4a57-a3f4-6c1f0d2d9c11", ask_dm_id)
    raw = raw.replace("https://hub.example.org/actors/riverside", home.actor_url)
    raw = raw.replace("https://hub.example.org/@riverside", f"{home.base_url}/@birch")
    raw = raw.replace("@riverside@hub.example.org", f"@birch@{home.settings.domain}")
    stamp = str(int(time.time() * 1000))
    return json.loads(raw.replace("113530000000000001", stamp))


async def _offers(a: RunningHub, need_id: int, count: int) -> list[Any] | None:
    found = await offer_store.offers_for_need(a.hub.db, need_id)
    return found if len(found) >= count else None


async def _sent_status(home: RunningHub, status: str) -> bool:
    rows = await home.hub.db.fetchall("SELECT status FROM offers_sent")
    return any(r["status"] == status for r in rows)


async def _contact_at(a: RunningHub, need_id: int) -> dict[str, Any] | None:
    row = await a.hub.db.fetchone("SELECT contact FROM matches WHERE need_id = ? "
                                  "AND contact IS NOT NULL", (need_id,))
    return None if row is None else {"contact": json.loads(row["contact"])}

