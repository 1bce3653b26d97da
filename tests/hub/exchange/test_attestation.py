"""The home hub's signed statement of checks: verified by the requesting hub against the key
the home hub's actor publishes; any change, another signer, another volunteer or need, or an
expired statement is refused, and an offer carrying such a statement is not stored."""

from __future__ import annotations

import copy
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest

from federation.errors import SignatureError, ValidationError
from federation.signatures import sign_request
from hub.activitypub import exchange as messages
from hub.exchange.attestation import sign_attestation, verify_attestation
from hub.store import needs as need_store
from hub.store import offers as offer_store
from tests.hub.exchange.factories import enhanced_need
from tests.hub.test_two_hubs import _follows
from tests.support.hubs import RunningHub, wait_until

HubFactory = Callable[..., Awaitable[RunningHub]]
NEED = "https://alder.example/needs/7f1e"
CHECKS = [{"checkType": "dbs_enhanced_adult", "validThrough": "2028-10-22"}]


def _statement(home: RunningHub, *, pseudonym: str = "k3Xq9v", need: str = NEED,
               lifetime: float = 3600) -> dict[str, Any]:
    return sign_attestation(home.hub, pseudonym=pseudonym, need_id=need, checks=CHECKS,
                            training=[], lifetime=lifetime)


async def test_a_statement_verifies_and_any_change_is_refused(hubs: HubFactory) -> None:
    a, b, c = await hubs("alder"), await hubs("birch"), await hubs("cedar")
    good = _statement(b)
    attested = await verify_attestation(a.hub, good, actor=b.actor_url, pseudonym="k3Xq9v",
                                        need_id=NEED)
    assert attested.checks == CHECKS

    longer = copy.deepcopy(good)
    longer["checksHeld"][0]["validThrough"] = "2030-01-01"
    extra = copy.deepcopy(good)
    extra["checksHeld"].append({"checkType": "dbs_enhanced_child", "validThrough": "2030-01-01"})
    renamed = {**good, "pseudonym": "someone-else"}
    for tampered in (longer, extra, renamed):
        with pytest.raises(SignatureError):
            await verify_attestation(a.hub, tampered, actor=b.actor_url,
                                     pseudonym=tampered["pseudonym"], need_id=NEED)
    # C's own, genuine statement does not pass as B's,
    with pytest.raises(SignatureError, match="another actor"):
        await verify_attestation(a.hub, _statement(c), actor=b.actor_url, pseudonym="k3Xq9v",
                                 need_id=NEED)
    # even if it claims to be by B.
    forged = sign_attestation(c.hub, pseudonym="k3Xq9v", need_id=NEED, checks=CHECKS,
                              training=[], lifetime=3600)
    forged = {**forged, "attributedTo": b.actor_url}
    with pytest.raises(SignatureError):
        await verify_attestation(a.hub, forged, actor=b.actor_url, pseudonym="k3Xq9v",
                                 need_id=NEED)
    # A statement for another volunteer or need, or an expired one, is refused too.
    with pytest.raises(ValidationError, match="another volunteer or need"):
        await verify_attestation(a.hub, good, actor=b.actor_url, pseudonym="k3Xq9v",
                                 need_id=NEED + "x")
    with pytest.raises(ValidationError, match="expired"):
        await verify_attestation(a.hub, good, actor=b.actor_url, pseudonym="k3Xq9v",
                                 need_id=NEED, now=time.time() + 7200)


async def _send(home: RunningHub, to: RunningHub, activity: dict[str, Any]) -> int:
    body = orjson.dumps(activity)
    headers = sign_request("POST", to.hub.urls.inbox,
                           {"Content-Type": "application/activity+json"}, body,
                           home.hub.keyring.signing_key("hub"))
    async with aiohttp.ClientSession() as session, session.post(
            to.hub.urls.inbox, data=body, headers=headers) as response:
        return response.status


def _offer(home: RunningHub, to: RunningHub, need_url: str, statement: dict[str, Any],
           pseudonym: str) -> dict[str, Any]:
    now = time.time()
    return messages.offer(home.hub.urls, offer_id=f"{home.base_url}/offers/{time.time_ns()}",
                          to_actor=to.actor_url, need_id=need_url, pseudonym=pseudonym,
                          distance_band="1 to 2 km", skills=["befriending"],
                          overlap=["Tue afternoon"], languages=[],
                          signed_attestation=statement, expires=now + 3600, when=now)


async def test_an_offer_with_a_tampered_statement_is_not_stored(hubs: HubFactory) -> None:
    a, b = await hubs("alder"), await hubs("birch")
    await _follows(a, b)
    await _follows(b, a)
    status, need = await a.api("POST", "/api/v1/needs", enhanced_need())
    assert status == 201, need
    row = await need_store.get_need(a.hub.db, need["id"])

    tampered = _statement(b, pseudonym="forged1", need=need["url"])
    tampered["checksHeld"][0]["validThrough"] = "2031-01-01"
    forged = _offer(b, a, need["url"], tampered, "forged1")
    assert await _send(b, a, forged) == 202
    genuine = _statement(b, pseudonym="genuine1", need=need["url"])
    assert await _send(b, a, _offer(b, a, need["url"], genuine, "genuine1")) == 202

    async def stored() -> list[Any] | None:
        found = await offer_store.offers_for_need(a.hub.db, row.id)
        return found or None

    offers = await wait_until(stored, what="the genuine offer at A")

    async def refused() -> str | None:
        row = await a.hub.db.fetchone("SELECT state, error FROM inbound WHERE activity_id = ?",
                                      (forged["id"],))
        return row["error"] if row is not None and row["state"] == "failed" else None

    assert "does not verify" in await wait_until(refused, what="the forged offer refused")
    assert [o.pseudonym for o in offers] == ["genuine1"]
