"""Asking this hub's volunteers for its own needs: answers by link and by Mastodon reply,
expiry, acceptance with the coordinator's contact, hours logged, time to fill, fairness."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.jobs.registry import build_runner
from hub.mailsink import MailSink
from hub.store import asks as ask_store
from tests.hub.exchange.factories import check, enhanced_need, volunteer
from tests.support.hubs import RunningHub, ready, wait_until
from tests.support.remote import RemoteServer

HubFactory = Callable[..., Awaitable[RunningHub]]
DATA = Path(__file__).parent.parent.parent / "data"


@pytest.fixture
async def mastodon() -> AsyncIterator[RemoteServer]:
    server = RemoteServer()
    await server.start()
    yield server
    await server.stop()


async def _hub(hubs: HubFactory, smtp: MailSink) -> RunningHub:
    return await hubs("alder", smtp_host="127.0.0.1", smtp_port=smtp.port,
                      smtp_security="none", coordinator_name="Sam",
                      coordinator_email="volunteering@alder.example")


async def _volunteer(hub: RunningHub, name: str, **fields: Any) -> str:
    data = volunteer(name, **{"consents": {"match_here": True}, **fields})
    status, made = await hub.api("POST", "/api/v1/volunteers", data)
    assert status == 201, made
    status, body = await hub.api("POST", f"/api/v1/volunteers/{made['id']}/checks", check())
    assert status == 201, body
    return made["id"]


async def _need(hub: RunningHub, **fields: Any) -> dict[str, Any]:
    status, need = await hub.api("POST", "/api/v1/needs", enhanced_need(**fields))
    assert status == 201, need
    return need


async def _ask(hub: RunningHub, need: dict[str, Any], volunteer_id: str) -> dict[str, Any]:
    status, body = await hub.api("POST", f"/api/v1/needs/{need['id']}/asks",
                                 {"volunteer": volunteer_id})
    assert status == 201, body
    return body["items"][0]


async def _link_for(smtp: MailSink, address: str, title: str = "") -> str:
    """The answer link of the newest ask emailed to `address` (for the need `title`, if
    given: the job runner sends it just after the ask, so an older one may be there)."""
    async def found() -> str | None:
        for message in reversed(smtp.messages):
            if message["To"] == address and title in message["Subject"]:
                text = message.get_payload(decode=True).decode()
                match = re.search(r"http://127\.0\.0\.1:\d+/asks/[A-Za-z0-9_-]{32,64}", text)
                if match:
                    return match.group(0)
        return None

    return await wait_until(found, what=f"an ask email to {address}")


async def _post(link: str, data: dict[str, str], origin: str | None) -> tuple[int, str]:
    headers = {"Origin": origin} if origin else {}
    async with aiohttp.ClientSession() as session, session.post(
            link, data=data, headers=headers) as response:
        return response.status, await response.text()


async def test_two_clicks_on_accept_make_one_match(hubs: HubFactory, smtp: MailSink) -> None:
    # The need wants two volunteers, so it stays open after the first accept; the same
    # volunteer accepted twice at once (a double click, two staff) is matched once.
    a = await _hub(hubs, smtp)
    ana = await _volunteer(a, "Ana Lima")
    need = await _need(a, volunteers_wanted=2)
    asked = await _ask(a, need, ana)
    link = await _link_for(smtp, "ana@example.org")
    status, _ = await _post(link, {"answer": "yes"}, a.base_url)
    assert status == 200
    answers = await asyncio.gather(*(a.api("POST", f"/api/v1/asks/{asked['id']}/accept", {})
                                     for _ in range(2)))
    assert sorted(status for status, _ in answers) == [200, 409]
    status, matching = await a.api("GET", f"/api/v1/needs/{need['id']}/matching")
    assert status == 200 and len(matching["matches"]) == 1
    assert matching["status"] == "open"


class SilentMailServer:
    """Takes connections and never says a word: smtplib waits 30 s for its greeting."""

    def __init__(self) -> None:
        self.connections: list[asyncio.StreamWriter] = []
        self.port = 0

    async def __aenter__(self) -> SilentMailServer:
        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections.append(writer)

        self._server = await asyncio.start_server(hold, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for writer in self.connections:  # the sender's thread hears EOF and gives up
            writer.close()
        await self._server.wait_closed()


async def test_a_mail_server_that_never_answers_does_not_hold_the_ask(
        hubs: HubFactory) -> None:
    async with SilentMailServer() as silent:
        a = await hubs("alder", smtp_host="127.0.0.1", smtp_port=silent.port,
                       smtp_security="none")
        ana = await _volunteer(a, "Ana Lima")
        need = await _need(a)
        # Sent inside the request, the ask would wait 30 s for the server's greeting.
        asked = await asyncio.wait_for(_ask(a, need, ana), 10)
        assert asked["channels"] == ["email"] and asked["status"] == "asked"
        queued = await a.hub.db.fetchall("SELECT kind, subject, body, sent_at FROM "
                                         "volunteer_mail WHERE kind = 'message'")
        assert [(r["subject"], r["sent_at"]) for r in queued] == [
            (f"Could you help? {need['title']}", None)]
        assert "/asks/" in queued[0]["body"]
        # The job runner, woken by the ask, is the one waiting on the server.
        await wait_until(lambda: ready(silent.connections), what="the runner's connection")

    async def retried() -> bool:  # the server hung up: the mail is tried again later
        job = await a.hub.db.fetchone("SELECT state, attempts, last_error FROM scheduled_jobs "
                                      "WHERE kind = 'volunteer_mail'")
        return job is not None and job["attempts"] == 1 and job["state"] == "pending"

    await wait_until(retried, what="the ask email to be planned again")
    row = await a.hub.db.fetchone("SELECT sent_at, body FROM volunteer_mail")
    assert row["sent_at"] is None and "/asks/" in row["body"]



async def test_an_ask_is_answered_on_its_page_and_a_foreign_site_cannot_answer(
        hubs: HubFactory, smtp: MailSink) -> None:
    a = await _hub(hubs, smtp)
    ana = await _volunteer(a, "Ana Lima")
    need = await _need(a)
    asked = await _ask(a, need, ana)
    assert asked["channels"] == ["email"] and asked["status"] == "asked"
    link = await _link_for(smtp, "ana@example.org")

    # A form posted from another site changes nothing;
    status, text = await _post(link, {"answer": "yes"}, "https://evil.example")
    assert status == 403 and "another website" in text
    # a made-up link is unknown;
    status, _ = await _post(link[:-4] + "AAAA", {"answer": "yes"}, a.base_url)
    assert status == 404
    # the real page takes the answer.
    status, text = await _post(link, {"answer": "yes"}, a.base_url)
    assert status == 200 and "You said yes" in text
    status, text = await _post(link, {"answer": "no"}, a.base_url)
    assert status == 200 and "You said yes" in text  # an answer stands once given

    # Once the mail server took it, the email's text (with the private link) is forgotten.
    async def forgotten() -> bool:
        sent = await a.hub.db.fetchall("SELECT sent_at, body FROM volunteer_mail")
        return bool(sent) and all(r["sent_at"] and r["body"] is None for r in sent)

    await wait_until(forgotten, what="the sent email's text to be forgotten")

    # Staff accept her: she is told whom to contact, and the need is filled.
    status, body = await a.api("POST", f"/api/v1/asks/{asked['id']}/accept", {})
    assert status == 200, body
    mail = await _link_for(smtp, "ana@example.org")
    assert mail == link

    async def told_whom() -> bool:  # the email is sent by the job runner, woken at once
        return any("volunteering@alder.example" in m.get_payload(decode=True).decode()
                   for m in smtp.messages if m["To"] == "ana@example.org")

    await wait_until(told_whom, what="the coordinator's contact mailed to Ana")
    status, matching = await a.api("GET", f"/api/v1/needs/{need['id']}/matching")
    assert matching["status"] == "filled" and matching["time_to_fill_hours"] is not None
    status, _ = await a.api("POST", f"/api/v1/asks/{asked['id']}/accept", {})
    assert status == 409

    # She logs a session on her page; staff log another; a future date is refused.
    status, text = await _post(link, {"answer": "session", "date": time.strftime("%Y-%m-%d"),
                                      "minutes": "75"}, a.base_url)
    assert status == 200 and "1 session, 1 h 15 min" in text
    match_id = matching["matches"][0]["id"]
    status, body = await a.api("POST", f"/api/v1/matches/{match_id}/sessions",
                               {"date": time.strftime("%Y-%m-%d"), "minutes": 60})
    assert status == 201 and body["hours"] == "2 sessions, 2 h 15 min"
    assert [s["logged_by"] for s in body["sessions"]] == ["volunteer", "staff"]
    # Her data export holds the ask and the match with its sessions.
    status, exported = await a.api("GET", f"/api/v1/volunteers/{ana}/export")
    assert [x["status"] for x in exported["asks"]] == ["yes"]
    assert [len(m["sessions"]) for m in exported["matches"]] == [2]
    status, body = await a.api("POST", f"/api/v1/matches/{match_id}/sessions",
                               {"date": "2999-01-01", "minutes": 60})
    assert status == 400 and "happened" in body["error"]


async def test_a_mastodon_reply_answers_only_from_the_account_asked(
        hubs: HubFactory, smtp: MailSink, mastodon: RemoteServer) -> None:
    a = await _hub(hubs, smtp)
    account, stranger = mastodon.actor("bina"), mastodon.actor("mallory")
    bina = await _volunteer(a, "Bina Kowalczyk", email=None, handle="@bina@mastodon.example",
                            consents={"match_here": True, "contact_by_dm": True})
    # Her account is on the fake server (a loopback host, which the API's check refuses).
    await a.hub.db.execute("UPDATE volunteers SET handle = ? WHERE uuid = ?",
                           (f"@bina@{mastodon.base_url.split('//')[1]}", bina))
    need = await _need(a)
    asked = await _ask(a, need, bina)
    assert asked["channels"] == ["dm"]
    dm = await wait_until(lambda: _dm_to(mastodon, account.id), what="the ask DM")

    # Someone else replying "yes" in the thread answers nothing;
    status, _ = await stranger.post(a.hub.urls.inbox, _reply(stranger, a, dm, "Yes!"))
    assert status == 202
    # unclear words get the words to use;
    status, _ = await account.post(a.hub.urls.inbox, _reply(account, a, dm, "hmm, maybe?"))
    assert status == 202
    await wait_until(lambda: _dm_saying(mastodon, account.id, "yes"), what="the help DM")
    # "Yes, happy to!" from her account answers yes.
    status, _ = await account.post(a.hub.urls.inbox, _reply(account, a, dm, None))
    assert status == 202

    async def answered() -> bool:
        stored = await ask_store.ask_by_uuid(a.hub.db, asked["id"])
        return stored is not None and stored.status == "yes"

    await wait_until(answered, what="the ask answered yes")
    stored = await ask_store.ask_by_uuid(a.hub.db, asked["id"])
    assert stored.answered_via == "dm"
    await wait_until(lambda: _dm_saying(mastodon, account.id, "Thank you"),
                     what="the thank-you DM")


async def test_an_ask_dm_is_sent_only_with_its_record_on_the_ask(
        hubs: HubFactory, smtp: MailSink, mastodon: RemoteServer) -> None:
    # The DM and the ask's note of it (what a reply is matched to) are one transaction: a
    # DM whose note was lost would get "yes" replies nobody recognises.
    a = await _hub(hubs, smtp)
    mastodon.actor("bina")
    bina = await _volunteer(a, "Bina Kowalczyk", email=None, handle="@bina@mastodon.example",
                            consents={"match_here": True, "contact_by_dm": True})
    await a.hub.db.execute("UPDATE volunteers SET handle = ? WHERE uuid = ?",
                           (f"@bina@{mastodon.base_url.split('//')[1]}", bina))
    need = await _need(a)
    await a.hub.db.execute("CREATE TEMP TRIGGER no_note BEFORE UPDATE OF dm_note_id ON asks "
                           "BEGIN SELECT RAISE(ABORT, 'disk gone'); END")
    status, body = await a.api("POST", f"/api/v1/needs/{need['id']}/asks", {"volunteer": bina})
    assert status == 500 and "error" in body, body
    await a.hub.db.execute("DROP TRIGGER temp.no_note")
    notes = "SELECT count(*) FROM outbox WHERE type = 'Create' AND object_id LIKE '%/messages/%'"
    assert await a.hub.db.fetchval(notes) == 0
    assert await a.hub.db.fetchval("SELECT count(*) FROM asks") == 0  # staff may ask again
    asked = await _ask(a, need, bina)
    stored = await ask_store.ask_by_uuid(a.hub.db, asked["id"])
    assert asked["channels"] == ["dm"] and stored is not None
    assert await a.hub.db.fetchval("SELECT object_id FROM outbox WHERE type = 'Create' AND "
                                   "object_id LIKE '%/messages/%'") == stored.dm_note_id


async def test_unanswered_asks_expire_on_the_sweep(hubs: HubFactory, smtp: MailSink) -> None:
    a = await _hub(hubs, smtp)
    ana = await _volunteer(a, "Ana Lima")
    need = await _need(a)
    asked = await _ask(a, need, ana)
    link = await _link_for(smtp, "ana@example.org")
    runner = build_runner(a.hub)
    runner.clock = lambda: time.time() + 49 * 3600  # past ask_expiry_hours (48)
    await runner.tick()
    stored = await ask_store.ask_by_uuid(a.hub.db, asked["id"])
    assert stored.status == "expired"
    status, text = await _post(link, {"answer": "yes"}, a.base_url)
    assert status == 200 and "expired" in text


async def test_a_just_matched_volunteer_ranks_below_an_equal_one(
        hubs: HubFactory, smtp: MailSink) -> None:
    a = await _hub(hubs, smtp)
    first, second = sorted([await _volunteer(a, "Ana Lima", max_commitments=5),
                            await _volunteer(a, "Eve Lima", email="eve@example.org",
                                             max_commitments=5)])
    email = {first: None, second: None}
    for vid in (first, second):
        status, body = await a.api("GET", f"/api/v1/volunteers/{vid}")
        email[vid] = body["email"]

    async def order(need: dict[str, Any]) -> list[str]:
        status, body = await a.api("GET", f"/api/v1/needs/{need['id']}/candidates")
        assert status == 200, body
        return [c["volunteer"] for c in body["candidates"]]

    # Equal on everything, the two tie and the smaller id ranks first.
    probe = await _need(a, title="Befriending, probe")
    assert (await order(probe))[:2] == [first, second]
    # After several matches of the first,
    for n in range(3):
        need = await _need(a, title=f"Befriending {n}")
        asked = await _ask(a, need, first)
        link = await _link_for(smtp, email[first], f"Befriending {n}")
        status, _ = await _post(link, {"answer": "yes"}, a.base_url)
        status, body = await a.api("POST", f"/api/v1/asks/{asked['id']}/accept", {})
        assert status == 200, body
    # the one who has not been matched ranks above her.
    assert (await order(probe))[:2] == [second, first]


async def _dm_to(server: RemoteServer, actor: str) -> dict[str, Any] | None:
    for activity in server.received:
        obj = activity.get("object")
        if isinstance(obj, dict) and obj.get("to") == [actor] \
                and "/asks/messages/" in str(obj.get("id")):
            return obj
    return None


async def _dm_saying(server: RemoteServer, actor: str, text: str) -> bool:
    return any(isinstance(a.get("object"), dict) and a["object"].get("to") == [actor]
               and text in json.dumps(a["object"].get("content")) for a in server.received)


def _reply(account: Any, home: RunningHub, dm: dict[str, Any], words: str | None) -> dict:
    """The captured Mastodon reply, from `account`, to the hub's message `dm`."""
    raw = (DATA / "mastodon_dm_reply.json").read_text()
    raw = raw.replace("https://mastodon.example/users/bina", account.id)
    raw = raw.replace("https://mastodon.example/@bina", f"{account.server.base_url}/@x")
    raw = raw.replace("https://hub.example.org/asks/messages/"
                      "0b7e6f52-8d0c-4a57-a3f4-6c1f0d2d9c11", dm["id"])
    raw = raw.replace("https://hub.example.org/actors/riverside", home.actor_url)
    raw = raw.replace("113530000000000001", str(time.time_ns()))
    activity = json.loads(raw)
    if words is not None:
        note = activity["object"]
        note["content"] = note["content"].replace("Yes, happy to!", words)
        note["contentMap"] = {"en": note["content"]}
    return activity


async def test_the_auto_ask_policy_asks_the_best_for_each_new_need_once(
        hubs: HubFactory, smtp: MailSink) -> None:
    a = await hubs("alder", smtp_host="127.0.0.1", smtp_port=smtp.port,
                   smtp_security="none", auto_ask_top=2)
    for name in ("Ana Lima", "Eve Lima", "Ola Lima"):
        await _volunteer(a, name, email=f"{name.split()[0].lower()}@example.org")
    need = await _need(a)
    runner = build_runner(a.hub)
    await runner.tick()
    status, matching = await a.api("GET", f"/api/v1/needs/{need['id']}/matching")
    assert status == 200
    assert [x["asked_by"] for x in matching["asks"]] == ["policy", "policy"]
    # A later sweep asks nobody more for this need: it was asked about already.
    runner.clock = lambda: time.time() + 600
    await runner.tick()
    _, matching = await a.api("GET", f"/api/v1/needs/{need['id']}/matching")
    assert len(matching["asks"]) == 2


async def test_once_a_need_is_filled_the_other_yeses_are_thanked_and_late_answers_closed(
        hubs: HubFactory, smtp: MailSink) -> None:
    a = await _hub(hubs, smtp)
    ana = await _volunteer(a, "Ana Lima")
    ola = await _volunteer(a, "Ola Lima", email="ola@example.org")
    eve = await _volunteer(a, "Eve Lima", email="eve@example.org")
    need = await _need(a)
    asked = {vid: await _ask(a, need, vid) for vid in (ana, ola, eve)}
    links = {vid: await _link_for(smtp, mail)
             for vid, mail in ((ana, "ana@example.org"), (ola, "ola@example.org"),
                               (eve, "eve@example.org"))}
    for vid in (ana, ola):
        assert (await _post(links[vid], {"answer": "yes"}, a.base_url))[0] == 200
    status, body = await a.api("POST", f"/api/v1/asks/{asked[ana]['id']}/accept", {})
    assert status == 200, body

    async def thanked() -> bool:
        return any(m["To"] == "ola@example.org" and "found someone else"
                   in m.get_payload(decode=True).decode() for m in smtp.messages)

    await wait_until(thanked, what="Ola to be thanked")
    # Eve answers after the need was filled: her answer is not taken.
    status, text = await _post(links[eve], {"answer": "yes"}, a.base_url)
    assert status == 200 and "expired" in text
    stored = await ask_store.ask_by_uuid(a.hub.db, asked[eve]["id"])
    assert stored.status == "expired"
