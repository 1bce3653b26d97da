"""Fuzzing the activity parser and the inbox receiver over real HTTP.

The parser's contract: an input is an activity or raises a `FederationError` subclass
(`ValidationError`, 400); the receiver's: every POST gets a 4xx with a JSON reason (or 202
for a valid one, which fuzzed input never is, being unsigned or signed by no known key),
never a 500. The receiver runs in a thread with its own event loop and a real SQLite store,
so Hypothesis drives it from plain synchronous tests; nothing a fuzzed POST sends may be
stored.
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from hypothesis import example, given
from hypothesis import strategies as st

from federation.errors import FederationError
from federation.inbox import InboxReceiver, activity_ids, check_origins, parse_activity
from hub.store.db import Database
from hub.store.inbound import SqliteInboundStore
from tests.federation.test_inbox import ALICE_KEY, PUBLIC, lookup
from tests.fuzz.strategies import (
    CORPUS,
    FUZZ,
    activities,
    cavage_headers,
    structured_dictionaries,
)
from tests.support.hubs import free_socket

REFUSALS = {400, 401, 403, 413, 415}


def check_parse(body: bytes) -> None:
    try:
        activity = parse_activity(body, 32)
        activity_id, actor_id = activity_ids(activity)
        check_origins(activity, actor_id)
    except FederationError:
        return
    assert isinstance(activity_id, str) and isinstance(actor_id, str)


@FUZZ
@given(st.one_of(activities().map(orjson.dumps), st.binary(max_size=200)))
@example(b'{"id":"https://a.example/1","type":"Create","actor":"https://a.example/u",'
         b'"object":{"id":"https://[::1/x"}}')
@example(b'{"id":"https://a.example:99999/1","type":"Create","actor":"https://a.example/u"}')
def test_the_activity_parser_raises_only_federation_errors(body: bytes) -> None:
    check_parse(body)


class ThreadedInbox:
    """An `InboxReceiver` on a loopback port, served from a thread with its own loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loop = asyncio.new_event_loop()
        self.sock = free_socket()
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.db: Database | None = None

    async def _start(self) -> None:
        self.db = await Database.open(self.path)
        await self.db.migrate()
        receiver = InboxReceiver(SqliteInboundStore(self.db), lookup, base_url=PUBLIC,
                                 max_body=64_000)
        app = web.Application()
        app.router.add_post("/inbox", receiver.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self.sock).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.db is not None:
            await self.db.close()

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def __enter__(self) -> ThreadedInbox:
        self._thread.start()
        self.run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", "/inbox", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def stored(self) -> int:
        assert self.db is not None
        return int(self.run(self.db.fetchval("SELECT count(*) FROM inbound")))


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedInbox]:
    with ThreadedInbox(tmp_path_factory.mktemp("fuzz") / "hub.db") as running:
        yield running


_HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    body = draw(st.one_of(activities().map(orjson.dumps), st.binary(max_size=300)))
    headers = {"Content-Type": draw(st.sampled_from([
        "application/activity+json", "application/ld+json; profile=\"x\"", "text/plain",
        "application/json", "application/activity+json; charset=utf-8", ""]))}
    scheme = draw(st.sampled_from(["cavage", "rfc9421", "authorization", "none"]))
    if scheme == "cavage":
        headers["Signature"] = draw(cavage_headers())
    elif scheme == "authorization":
        headers["Authorization"] = "Signature " + draw(cavage_headers())
    elif scheme == "rfc9421":
        headers["Signature-Input"] = draw(structured_dictionaries())
        headers["Signature"] = draw(structured_dictionaries())
    for name in draw(st.lists(st.sampled_from(["Date", "Digest", "Content-Digest", "Host"]),
                              max_size=3, unique=True)):
        headers[name] = draw(_HEADER_TEXT)
    if draw(st.integers(0, 9)) == 0:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return body, headers


_CONTROL = {c: " " for c in [*range(32), 127] if c != 9}


def check_post(inbox: ThreadedInbox, body: bytes, headers: dict[str, str]) -> None:
    # Control characters make the request malformed HTTP, refused by aiohttp's parser before
    # any handler runs (and by http.client before sending); the handler's inputs are the rest.
    headers = {k: v.translate(_CONTROL).encode("latin-1", "replace").decode("latin-1")
               for k, v in headers.items()}
    status, answer = inbox.post(body, headers)
    assert status in REFUSALS, (status, answer)
    assert "error" in orjson.loads(answer)
    assert inbox.stored() == 0


@FUZZ
@given(requests())
def test_the_inbox_answers_every_fuzzed_post_with_a_4xx(
        inbox: ThreadedInbox, request_: tuple[bytes, dict[str, str]]) -> None:
    check_post(inbox, *request_)


def _kept_requests() -> list[tuple[str, bytes, dict[str, str]]]:
    found = []
    for path in sorted((CORPUS / "inbox").glob("*.json")):
        kept = orjson.loads(path.read_bytes())
        body = kept["body"].encode() if "body" in kept else bytes.fromhex(kept["body_hex"])
        found.append((path.stem, body, kept["headers"]))
    return found


@pytest.mark.parametrize(("name", "body", "headers"), _kept_requests(),
                         ids=[k[0] for k in _kept_requests()])
def test_inbox_corpus_replays(inbox: ThreadedInbox, name: str, body: bytes,
                              headers: dict[str, str]) -> None:
    check_post(inbox, body, headers)


def test_a_signed_post_still_gets_through(inbox: ThreadedInbox) -> None:
    """The fuzz harness is sound: a valid delivery is taken (and is the only one stored)."""
    from federation.signatures import sign_request

    activity = {"id": "https://alice.example/activities/ok", "type": "Follow",
                "actor": ALICE_KEY.key_id.split("#")[0], "object": f"{PUBLIC}/hub"}
    body = orjson.dumps(activity)
    headers = sign_request("POST", f"{PUBLIC}/inbox", {"Content-Type": "application/activity+json"},
                           body, ALICE_KEY)
    status, _ = inbox.post(body, headers)
    assert status == 202
    assert inbox.stored() == 1
    assert inbox.run(inbox.db.execute("DELETE FROM inbound")) is not None  # type: ignore[union-attr]
