"""Hostile deliveries, one table: each answered with its 4xx by a running hub, nothing stored.

Every case goes through HTTP to a real hub (real signatures, real SQLite); the remote side is
a fake fediverse server on loopback. After each, the tables an inbox delivery could write
(inbound activities, remote objects and events, followers, outbox and deliveries) are counted:
all must be empty. The one row a refused request may leave is the signer's actor document in
`remote_actors`, fetched from the signer's own server to check the signature: that is the
real actor's public document, cached; nothing in it came from the hostile request. Script
typed into every text field staff and the public fill in is shown as text on every page and
feed that shows it.

Address cases run against a hub in production mode (no loopback, https only), since a
development hub is allowed to fetch from 127.0.0.1 by design. The hub is served on plain
http on loopback, but its public URL is https://, which is what the senders sign for. Its
fetcher refuses those addresses before connecting, so no packet leaves this machine.
"""

from __future__ import annotations

import gzip
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import aiohttp
import orjson
import pytest
from aiohttp import web

from federation.errors import ValidationError
from federation.keys import SigningKey, generate_rsa_key
from federation.signatures import sign_request
from hub.services.actors import parse_actor
from hub.setup import init_hub
from tests.support.hubs import RunningHub, free_socket, start_hub, wait_until
from tests.support.remote import RemoteActor, RemoteServer

AP = "application/activity+json"
TABLES = ("inbound", "remote_objects", "remote_events", "followers", "outbox", "deliveries")


@dataclass
class Target:
    """Where to POST (the loopback socket) and what the signature covers (the public URL)."""

    running: RunningHub
    url: str
    public: str

    async def send(self, body: bytes, key: SigningKey, *, sign_body: bytes | None = None,
                   headers: dict[str, str] | None = None, now: float | None = None,
                   signed_for: str | None = None) -> tuple[int, Any]:
        base = {"Content-Type": AP, **(headers or {})}
        signed = sign_request("POST", signed_for or self.public, base,
                              body if sign_body is None else sign_body, key, now=now)
        async with aiohttp.ClientSession() as session, session.post(
                self.url, data=body, headers=signed) as response:
            return response.status, await response.json(content_type=None)

    async def stored(self) -> dict[str, int]:
        db = self.running.hub.db
        return {t: int(await db.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}


@dataclass
class World:
    remote: RemoteServer
    alice: RemoteActor
    bob: RemoteActor


Case = Callable[[Target, World], Awaitable[tuple[int, Any]]]


def note_create(actor: RemoteActor, **object_fields: Any) -> dict[str, Any]:
    note = {"id": f"{actor.id}/notes/1", "type": "Note", "attributedTo": actor.id,
            "content": "hello", **object_fields}
    return actor.activity("Create", note)


async def forged_signature(t: Target, w: World) -> tuple[int, Any]:
    forged = SigningKey(w.alice.key.key_id, generate_rsa_key())  # alice's key id, not her key
    return await t.send(orjson.dumps(note_create(w.alice)), forged)


async def replayed_after_the_window(t: Target, w: World) -> tuple[int, Any]:
    # A request captured two hours ago, sent again: its Date is outside the window.
    return await t.send(orjson.dumps(note_create(w.alice)), w.alice.key, now=time.time() - 7200)


async def replayed_to_another_inbox(t: Target, w: World) -> tuple[int, Any]:
    # Signed for one inbox, replayed to another: (request-target) no longer matches.
    other = t.public.replace("/inbox", "/actors/hub/inbox")
    return await t.send(orjson.dumps(note_create(w.alice)), w.alice.key, signed_for=other)


async def digest_mismatch(t: Target, w: World) -> tuple[int, Any]:
    signed = orjson.dumps(note_create(w.alice))
    return await t.send(signed.replace(b"hello", b"HELLO"), w.alice.key, sign_body=signed)


async def signer_not_actor(t: Target, w: World) -> tuple[int, Any]:
    return await t.send(orjson.dumps(note_create(w.alice)), w.bob.key)


async def foreign_activity_id(t: Target, w: World) -> tuple[int, Any]:
    activity = note_create(w.alice)
    activity["id"] = "https://elsewhere.example/activities/1"
    return await t.send(orjson.dumps(activity), w.alice.key)


async def foreign_object_id(t: Target, w: World) -> tuple[int, Any]:
    activity = note_create(w.alice, id="https://elsewhere.example/notes/1")
    return await t.send(orjson.dumps(activity), w.alice.key)


async def over_one_megabyte(t: Target, w: World) -> tuple[int, Any]:
    return await t.send(orjson.dumps(note_create(w.alice, content="x" * 1_100_000)), w.alice.key)


async def over_one_megabyte_once_gunzipped(t: Target, w: World) -> tuple[int, Any]:
    body = orjson.dumps(note_create(w.alice, content="x" * 2_000_000))
    packed = gzip.compress(body)
    assert len(packed) < 100_000  # small on the wire
    return await t.send(packed, w.alice.key, sign_body=packed,
                        headers={"Content-Encoding": "gzip"})


async def deeply_nested(t: Target, w: World) -> tuple[int, Any]:
    nested: Any = "deep"
    for _ in range(200):
        nested = {"a": nested}
    return await t.send(orjson.dumps(note_create(w.alice, tag=nested)), w.alice.key)


def key_at(url: str) -> Case:
    """A signature whose key id (so the signer's actor) is at `url`."""
    async def case(t: Target, w: World) -> tuple[int, Any]:
        key = SigningKey(f"{url}#main-key", w.alice.key.private_key)
        activity = {"id": f"{url}/activities/1", "type": "Create", "actor": url,
                    "object": {"id": f"{url}/notes/1", "type": "Note", "attributedTo": url}}
        return await t.send(orjson.dumps(activity), key)
    return case


def key_redirecting_to(location: str) -> Case:
    """The key id is on the (allowed) remote server, which redirects the fetch to `location`."""
    async def case(t: Target, w: World) -> tuple[int, Any]:
        w.remote.redirects["/users/mallory"] = location
        return await key_at(f"{w.remote.base_url}/users/mallory")(t, w)
    return case


@dataclass(frozen=True)
class Hostile:
    name: str
    send: Case
    status: int
    production: bool = False  # against a hub that may not reach loopback


CASES = [
    Hostile("forged signature", forged_signature, 401),
    Hostile("replayed after the date window", replayed_after_the_window, 401),
    Hostile("replayed to another inbox", replayed_to_another_inbox, 401),
    Hostile("body does not match its digest", digest_mismatch, 401),
    Hostile("signer is not the actor", signer_not_actor, 401),
    Hostile("activity id on another origin", foreign_activity_id, 400),
    Hostile("object id on another origin", foreign_object_id, 400),
    Hostile("body over 1 MB", over_one_megabyte, 413),
    Hostile("body over 1 MB once gunzipped", over_one_megabyte_once_gunzipped, 413),
    Hostile("JSON nested 200 deep", deeply_nested, 400),
    Hostile("key on a private address", key_at("https://10.0.0.7/users/x"), 401, True),
    Hostile("key on loopback", key_at("https://127.0.0.1:9/users/x"), 401, True),
    Hostile("key on IPv4-mapped loopback", key_at("https://[::ffff:127.0.0.1]:9/users/x"), 401,
            True),
    Hostile("key on link-local metadata", key_at("https://169.254.169.254/users/x"), 401, True),
    Hostile("key on NAT64 of a private address", key_at("https://[64:ff9b::a00:1]/users/x"), 401,
            True),
    Hostile("key on a numeric-trick host", key_at("https://2130706433/users/x"), 401, True),
    Hostile("key over plain http", key_at("http://peer.invalid/users/x"), 401, True),
    Hostile("key redirecting to link-local", key_redirecting_to("http://169.254.169.254/x"), 401),
    Hostile("key redirecting to a private address", key_redirecting_to("http://10.1.2.3/x"), 401),
]


class RedirectingRemote(RemoteServer):
    """The fake remote server, able to answer chosen paths with a redirect."""

    def __init__(self) -> None:
        super().__init__()
        self.redirects: dict[str, str] = {}

    async def _actor(self, request: web.Request) -> web.Response:
        if request.path in self.redirects:
            raise web.HTTPFound(self.redirects[request.path])
        return await super()._actor(request)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    remote = RedirectingRemote()
    await remote.start()
    yield World(remote, remote.actor("alice"), remote.actor("bob"))
    await remote.stop()


async def _production_hub(home: Path) -> RunningHub:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = await init_hub(home, domain=f"127.0.0.1:{port}", name="hub", dev=False)
    return await start_hub(home, settings=settings)


@pytest.fixture
async def targets(tmp_path: Path) -> AsyncIterator[dict[bool, Target]]:
    dev = await start_hub(tmp_path / "dev", name="hub")
    prod = await _production_hub(tmp_path / "prod")
    found = {}
    for production, running in ((False, dev), (True, prod)):
        [address] = [s for s in running.runner.addresses]
        found[production] = Target(running, f"http://127.0.0.1:{address[1]}/inbox",
                                   f"{running.base_url}/inbox")
    yield found
    await dev.stop()
    await prod.stop()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_hostile_delivery_gets_its_4xx_and_nothing_is_stored(
        targets: dict[bool, Target], world: World, case: Hostile) -> None:
    target = targets[case.production]
    status, body = await case.send(target, world)
    assert status == case.status, body
    assert isinstance(body, dict) and body.get("error"), body  # a JSON reason, always
    assert await target.stored() == dict.fromkeys(TABLES, 0)
    cached = await target.running.hub.db.fetchall("SELECT id, document FROM remote_actors")
    served = {a.id: a.document() for a in (world.alice, world.bob)}
    assert all(orjson.loads(doc) == served[actor] for actor, doc in cached)


async def test_a_remote_context_is_never_fetched(
        targets: dict[bool, Target], world: World) -> None:
    # Given a server that counts requests for its JSON-LD context
    asked: list[str] = []

    async def context(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.json_response({"@context": {"content": "https://evil.example/ns#x"}})

    app = web.Application()
    app.router.add_get("/{path:.*}", context)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = free_socket()
    await web.SockSite(runner, sock).start()
    try:
        # When an activity names it (and a second one) as @context
        target, alice = targets[False], world.alice
        activity = note_create(alice)
        activity["@context"] = ["https://www.w3.org/ns/activitystreams",
                                f"http://127.0.0.1:{sock.getsockname()[1]}/ctx.jsonld",
                                {"@import": f"http://127.0.0.1:{sock.getsockname()[1]}/b"}]
        status, _ = await target.send(orjson.dumps(activity), alice.key)
        # Then it is taken (contexts are not the inbox's business) and processed...
        assert status == 202

        async def processed() -> bool:
            return not await target.running.hub.db.fetchval(
                "SELECT count(*) FROM inbound WHERE state = 'pending'")

        await wait_until(processed, what="the activity to be processed")
        # ...without the hub ever asking for the context
        assert asked == []
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("field", ["id", "inbox", "sharedInbox"])
def test_http_actors_and_inboxes_are_refused_outside_development_mode(field: str) -> None:
    doc = {"id": "https://peer.example/users/a", "type": "Person",
           "inbox": "https://peer.example/users/a/inbox",
           "endpoints": {"sharedInbox": "https://peer.example/inbox"}}
    assert parse_actor(doc).inbox == doc["inbox"]
    if field == "sharedInbox":
        doc["endpoints"] = {"sharedInbox": "http://peer.example/inbox"}
    else:
        doc[field] = str(doc[field]).replace("https://", "http://")
    with pytest.raises(ValidationError, match="https"):
        parse_actor(doc)
    assert parse_actor(doc, allow_http=True).id == doc["id"]  # development mode takes it


SCRIPT = '<script>alert(1)</script><img src=x onerror=alert(2)>"><b onmouseover="alert(3)">'


class _LiveMarkup(HTMLParser):
    """Finds what of SCRIPT would run in a browser: a script element (other than JSON-LD
    data) carrying it, or an `on…` attribute. Escaped text (&lt;script&gt;) is inert."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [f"<{tag} {name}=…>" for name, value in attrs
                       if name.startswith("on") and "alert" in (value or "")]
        if tag == "script":
            self._script = dict(attrs).get("type") or "text/javascript"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script not in (None, "application/ld+json") and "alert" in data:
            self.found.append(f"<script>{data[:40]}")


def live_markup(text: str) -> list[str]:
    """Live script in an HTML page or fragment."""
    parser = _LiveMarkup()
    parser.feed(text)
    return parser.found


def feed_html(text: str) -> list[str]:
    """The HTML a feed's entries carry: Atom `content type="html"`, RSS `description` (titles
    and summaries are text constructs, which readers show as text)."""
    root = ElementTree.fromstring(text)
    atom = "{http://www.w3.org/2005/Atom}"
    found = [e.text or "" for e in root.iter(f"{atom}content") if e.get("type") == "html"]
    return found + [e.text or "" for e in root.iter("description")]


async def test_script_in_every_text_field_is_inert_wherever_it_is_shown(
        targets: dict[bool, Target]) -> None:
    # Given an event whose every text field staff filled with script, and a web sign-up
    # whose name is script too (a hub without email: the sign-up books at once)
    running = targets[False].running
    status, event = await running.api("POST", "/api/v1/events", {
        "title": f"Quiz {SCRIPT}", "description": f"Bring *pens* {SCRIPT}",
        "timezone": "Europe/London", "start": "2030-12-05T14:00", "end": "2030-12-05T16:00",
        "hashtags": ["quiz"], "capacity": 5,
        "place": {"name": f"Hall {SCRIPT}", "street_address": SCRIPT, "locality": SCRIPT,
                  "postal_code": "IG1 1EA", "country": "GB"}})
    assert status == 201, event
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as browser:
        html = {"Accept": "text/html"}
        async with browser.get(f"{event['url']}/rsvp", headers=html) as response:
            token = _CSRF_FIELD.search(await response.text())
        assert token
        async with browser.post(f"{event['url']}/rsvp", headers=html, allow_redirects=False,
                                data={"name": f"Zed {SCRIPT}", "contact": "zed@example.org",
                                      "csrf_token": token[1]}) as response:
            assert response.status == 303
            private = running.base_url + response.headers["Location"]
        # When each page that shows them is loaded
        shown = {}
        for url in (event["url"], f"{event['url']}/rsvp", private, f"{running.base_url}/",
                    f"{running.base_url}/calendar", f"{running.base_url}/tags/quiz",
                    f"{running.base_url}/calendar.atom", f"{running.base_url}/calendar.rss",
                    f"{running.base_url}/widget"):
            async with browser.get(url, headers=html) as response:
                assert response.status == 200, url
                shown[url] = await response.text()
    # Then the text is there, and nothing of it can run
    assert "Quiz" in shown[event["url"]] and "Hall" in shown[event["url"]]
    assert "Zed" in shown[private]
    for url, text in shown.items():
        fragments = feed_html(text) if url.endswith((".atom", ".rss")) else [text]
        assert fragments and all(live_markup(f) == [] for f in fragments), url
    # And the ActivityStreams document carries it as data, never as markup
    async with aiohttp.ClientSession() as session, session.get(
            event["url"], headers={"Accept": "application/activity+json"}) as response:
        document = await response.json(content_type=None)
    assert live_markup(document.get("content", "")) == []
    assert document["name"].startswith("Quiz")


_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
