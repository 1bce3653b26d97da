"""The inbox receiver over a real aiohttp server, real signatures and a real SQLite store.

The hub's public URL is https://hub.example (as behind a reverse proxy); requests are sent to
the loopback server with that Host, and signed for the public URL.
"""

import asyncio
import gzip
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.dispatch import Dispatcher, RetryableError
from federation.errors import FetchError, KeyNotFound, Unreachable, ValidationError
from federation.inbox import InboxProcessor, InboxReceiver, too_deep
from federation.keys import PublicKey, SigningKey, generate_rsa_key
from federation.signatures import sign_request
from federation.verifier import VerifierPool
from hub.store.db import Database
from hub.store.inbound import SqliteInboundStore, counts, get_item

PUBLIC = "https://hub.example"
AP = "application/activity+json"
ALICE = "https://alice.example/users/alice"
MALLORY = "https://evil.example/users/mallory"
ALICE_KEY = SigningKey(f"{ALICE}#main-key", generate_rsa_key())
MALLORY_KEY = SigningKey(f"{MALLORY}#main-key", generate_rsa_key())
MAX_BODY = 64_000

StartServer = Callable[[web.Application], Awaitable[TestServer]]


async def lookup(key_id: str, *, refresh: bool = False) -> PublicKey:
    for key, owner in ((ALICE_KEY, ALICE), (MALLORY_KEY, MALLORY)):
        if key.key_id == key_id:
            return PublicKey(key_id, owner, key.private_key.public_key())
    raise KeyNotFound(f"no key {key_id}")


def follow(**changes: Any) -> dict[str, Any]:
    activity = {"@context": "https://www.w3.org/ns/activitystreams",
                "id": "https://alice.example/activities/1", "type": "Follow",
                "actor": ALICE, "object": f"{PUBLIC}/hub"}
    activity.update(changes)
    return {k: v for k, v in activity.items() if v is not None}


class Inbox:
    """A running inbox and a client that posts to it."""

    def __init__(self, server: TestServer, db: Database, session: aiohttp.ClientSession):
        self.server, self.db, self.session = server, db, session

    async def post(self, body: bytes | dict[str, Any], *, key: SigningKey | None = ALICE_KEY,
                   content_type: str = AP, path: str = "/inbox",
                   extra: dict[str, str] | None = None, data: Any = None) -> tuple[int, Any]:
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        headers = {"Content-Type": content_type}
        if key is not None:
            headers = sign_request("POST", PUBLIC + path, headers, raw, key)
        headers.update(extra or {})
        async with self.session.post(self.server.make_url(path), headers=headers,
                                     data=raw if data is None else data) as resp:
            text = await resp.read()
            return resp.status, orjson.loads(text) if text else None

    async def stored(self) -> int:
        return sum((await counts(self.db)).values())


def cached(key_id: str) -> PublicKey | None:
    for key, owner in ((ALICE_KEY, ALICE), (MALLORY_KEY, MALLORY)):
        if key.key_id == key_id:
            return PublicKey(key_id, owner, key.private_key.public_key())
    return None


def inbox_app(db: Database, verifier: VerifierPool | None = None) -> web.Application:
    receiver = InboxReceiver(SqliteInboundStore(db), lookup, base_url=PUBLIC + "/",
                             max_body=MAX_BODY, max_depth=32,
                             is_blocked=lambda host: host == "blocked.example",
                             verifier=verifier, cached_key=cached)
    app = web.Application()
    app.router.add_post("/inbox", receiver.handle)
    app.router.add_post("/users/{name}/inbox", receiver.handle)
    return app


# Every test of the receiver runs twice: with the checks in the event loop, and with a
# verifier process (federation.verifier) doing them for keys held in memory.
@pytest.fixture(params=["in-process", "verifier process"])
async def inbox(request: pytest.FixtureRequest, serve: StartServer,
                db: Database) -> AsyncIterator[Inbox]:
    verifier = VerifierPool(1, start_after=0) if request.param == "verifier process" else None
    if verifier is not None:
        async with asyncio.timeout(30):
            await verifier.ready()
    server = await serve(inbox_app(db, verifier))
    try:
        async with aiohttp.ClientSession() as session:
            yield Inbox(server, db, session)
    finally:
        if verifier is not None:
            await verifier.close()


async def test_valid_delivery_is_stored_once_and_duplicates_still_get_202(
        inbox: Inbox, tmp_path: Path) -> None:
    assert await inbox.post(follow()) == (202, None)
    assert await inbox.post(follow()) == (202, None)
    # Committed before the 202: an independent connection sees exactly one row.
    with sqlite3.connect(tmp_path / "hub.db") as conn:
        rows = conn.execute("SELECT activity_id, actor_id, body FROM inbound").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("https://alice.example/activities/1", ALICE)]
    assert orjson.loads(rows[0][2]) == follow()


async def test_personal_inbox_ld_json_profile_embedded_actor_and_proofs_are_accepted(
        inbox: Inbox) -> None:
    ld = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    activity = follow(actor={"id": ALICE, "type": "Person"},
                      proof={"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
                             "proofValue": "z3abc"})
    status, _ = await inbox.post(activity, content_type=ld, path="/users/news/inbox")
    assert status == 202
    assert await inbox.stored() == 1


async def test_update_and_delete_of_the_actor_itself_are_accepted(inbox: Inbox) -> None:
    update = follow(id="https://alice.example/u/1", type="Update",
                    object={"id": ALICE, "type": "Person", "name": "Alice"})
    delete = follow(id="https://alice.example/d/1", type="Delete", object=ALICE)
    assert (await inbox.post(update))[0] == 202
    assert (await inbox.post(delete))[0] == 202
    assert await inbox.stored() == 2


REJECTED = [
    ("wrong media type", {"content_type": "text/plain"}, follow(), 415),
    ("not json", {}, b'{"id": ', 400),
    ("not an object", {}, b"[1, 2]", 400),
    ("no id", {}, follow(id=None), 400),
    ("no actor", {}, follow(actor=None), 400),
    ("actor object without id", {}, follow(actor={"type": "Person"}), 400),
    ("no type", {}, follow(type=None), 400),
    ("unsigned", {"key": None}, follow(), 401),
    ("signed by another actor", {"key": MALLORY_KEY}, follow(), 401),
    ("id on another origin", {}, follow(id="https://other.example/activities/1"), 400),
    ("id on another port", {}, follow(id="https://alice.example:8443/activities/1"), 400),
    ("create of a foreign object", {},
     follow(type="Create", object={"id": "https://other.example/notes/1", "type": "Note"}), 400),
    ("update of a foreign object id", {},
     follow(type="Update", object="https://other.example/notes/1"), 400),
    ("delete of a foreign object", {},
     follow(type="Delete", object=[{"id": "http://alice.example/notes/1"}]), 400),
    ("a Date past any calendar", {"extra": {"Date": "Mon, 01 Jan 99999999999999999999 "
                                                   "00:00:00 GMT"}}, follow(), 401),
    ("blocked actor host", {"key": None},
     follow(id="https://blocked.example/1", actor="https://blocked.example/u"), 403),
    # Signed by a key held in memory, so checked in the verifier process in that variant:
    # the block still comes before the signer check, as in the event loop.
    ("blocked actor host, signed by a known key", {},
     follow(id="https://blocked.example/1", actor="https://blocked.example/u"), 403),
]


@pytest.mark.parametrize(("options", "body", "status"), [r[1:] for r in REJECTED],
                         ids=[r[0] for r in REJECTED])
async def test_rule_violations_get_their_status_and_store_nothing(
        inbox: Inbox, options: dict[str, Any], body: Any, status: int) -> None:
    got, answer = await inbox.post(body, **options)
    assert got == status
    assert isinstance(answer["error"], str) and answer["error"]
    assert await inbox.stored() == 0


async def test_tampered_body_fails_the_digest(inbox: Inbox) -> None:
    signed = sign_request("POST", f"{PUBLIC}/inbox", {"Content-Type": AP},
                          orjson.dumps(follow()), ALICE_KEY)
    tampered = orjson.dumps(follow(object="https://hub.example/other"))
    assert (await inbox.post(tampered, key=None, extra=signed))[0] == 401
    assert await inbox.stored() == 0


async def test_rfc9421_signatures_cover_the_public_url_not_the_proxied_one(inbox: Inbox) -> None:
    # RFC 9421 signs @target-uri, so the receiver must rebuild the URL the sender used.
    body = orjson.dumps(follow())
    proxied = sign_request("POST", str(inbox.server.make_url("/inbox")), {"Content-Type": AP},
                           body, ALICE_KEY, scheme="rfc9421")
    assert (await inbox.post(body, key=None, extra=proxied))[0] == 401
    public = sign_request("POST", f"{PUBLIC}/inbox", {"Content-Type": AP}, body, ALICE_KEY,
                          scheme="rfc9421")
    assert (await inbox.post(body, key=None, extra=public))[0] == 202


async def test_blocked_key_host_is_refused_before_the_body_is_read(inbox: Inbox) -> None:
    blocked = SigningKey("https://blocked.example/u#key", ALICE_KEY.private_key)
    status, answer = await inbox.post(follow(), key=blocked)
    assert (status, answer["error"]) == (403, "blocked.example is blocked on this hub")


async def test_deep_nesting_is_refused(inbox: Inbox) -> None:
    nested: Any = "x"
    for _ in range(40):
        nested = {"a": nested}
    assert (await inbox.post(follow(object=nested)))[0] == 400
    # orjson's own 1024-level limit is reached without Python recursion either way.
    assert (await inbox.post(b"[" * 5000 + b"]" * 5000))[0] == 400
    assert await inbox.stored() == 0


def test_depth_check_counts_levels() -> None:
    assert not too_deep({"a": [{"b": 1}]}, 3)
    assert too_deep({"a": [{"b": {}}]}, 3)
    assert not too_deep({"a": [{"b": {}}]}, 3, b"{[{" + b" " * 10)  # bracket-count fast path


async def test_declared_length_over_the_cap_is_refused(inbox: Inbox) -> None:
    big = orjson.dumps(follow(content="x" * MAX_BODY))
    status, answer = await inbox.post(big)
    assert status == 413 and "bytes" in answer["error"]
    assert await inbox.stored() == 0


async def test_chunked_body_over_the_cap_is_refused(inbox: Inbox) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 4096  # whitespace: valid JSON padding, never a declared length

    assert (await inbox.post(follow(), data=chunks()))[0] == 413
    assert await inbox.stored() == 0


@pytest.mark.parametrize("auto_decompress", [True, False])
async def test_gzip_bomb_is_refused_on_its_decompressed_size(
        db: Database, auto_decompress: bool) -> None:
    bomb = gzip.compress(b"[" + b" " * 50_000_000 + b"]")
    assert len(bomb) < MAX_BODY
    runner = web.AppRunner(inbox_app(db), auto_decompress=auto_decompress)
    async with _serving(runner) as url, aiohttp.ClientSession() as session:
        small = gzip.compress(orjson.dumps(follow()))
        headers = sign_request("POST", f"{PUBLIC}/inbox", {"Content-Type": AP},
                               orjson.dumps(follow()), ALICE_KEY)
        for body, want in ((bomb, 413), (small, 202), (b"\x1f\x8bnot gzip", 400)):
            async with session.post(f"{url}/inbox", data=body,
                                    headers={**headers, "Content-Encoding": "gzip"}) as resp:
                assert resp.status == want, await resp.text()
    assert sum((await counts(db)).values()) == 1


@asynccontextmanager
async def _serving(runner: web.AppRunner) -> AsyncIterator[str]:
    """Serve with an explicit runner, to choose the server's auto_decompress setting."""
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# The processor -----------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


async def _add(store: SqliteInboundStore, *types: str) -> None:
    for n, type_name in enumerate(types):
        activity = follow(id=f"https://alice.example/a/{n}", type=type_name)
        assert await store.add(activity["id"], ALICE, orjson.dumps(activity))


async def _state(db: Database, n: int) -> dict[str, Any]:
    row = await get_item(db, f"https://alice.example/a/{n}")
    assert row is not None
    return row


async def test_processor_dispatches_in_order_and_records_each_outcome(db: Database) -> None:
    # Given stored activities of every kind of outcome
    clock = Clock()
    store = SqliteInboundStore(db, clock=clock)
    await _add(store, "Follow", "Like", "Join", "Offer", "Leave", "Follow")
    dispatcher, seen = Dispatcher(), []

    @dispatcher.on("Follow")
    async def handle_follow(activity: dict[str, Any]) -> None:
        seen.append(activity["id"])

    @dispatcher.on("Join")
    async def handle_join(activity: dict[str, Any]) -> None:
        raise ValidationError("Join of an event that does not exist")

    @dispatcher.on("Offer")
    async def handle_offer(activity: dict[str, Any]) -> None:
        raise RetryableError("the offering hub did not answer")

    @dispatcher.on("Leave")
    async def handle_leave(activity: dict[str, Any]) -> None:
        raise RuntimeError("a bug")

    # When the processor runs once
    processor = InboxProcessor(store, dispatcher, clock=clock)
    assert await processor.run_once() == 6

    # Then handlers ran in order, and every outcome is on its row
    assert seen == ["https://alice.example/a/0", "https://alice.example/a/5"]
    states = [await _state(db, n) for n in range(6)]
    assert [s["state"] for s in states] == [
        "done", "ignored", "failed", "pending", "failed", "done"]
    assert states[2]["error"] == "invalid: Join of an event that does not exist"
    assert states[3]["error"] == "the offering hub did not answer"
    assert clock.now + 15 <= states[3]["next_attempt_at"] <= clock.now + 25
    assert "RuntimeError('a bug')" in states[4]["error"]

    # The retried one waits for its time, then runs again
    assert await processor.run_once() == 0
    clock.now += 30
    assert await processor.run_once() == 1
    assert (await _state(db, 3))["attempts"] == 2


async def test_a_fetch_that_fails_for_now_is_retried_and_one_that_cannot_work_is_not(
        db: Database) -> None:
    # A handler that needs a remote document (an actor to answer, say) and cannot have it
    # because the server is down keeps its activity for a retry; a refusal does not.
    clock = Clock()
    store = SqliteInboundStore(db, clock=clock)
    await _add(store, "Offer", "Accept")
    dispatcher = _raising(
        Offer=Unreachable("could not fetch https://alice.example/actor: refused"),
        Accept=FetchError("https://alice.example/actor answered 403"))
    assert await InboxProcessor(store, dispatcher, clock=clock).run_once() == 2
    offer, accept = await _state(db, 0), await _state(db, 1)
    assert (offer["state"], offer["attempts"]) == ("pending", 1)
    assert offer["error"] == "Unreachable: could not fetch https://alice.example/actor: refused"
    assert clock.now + 15 <= offer["next_attempt_at"] <= clock.now + 25
    assert accept["state"] == "failed" and "answered 403" in accept["error"]


async def test_processor_gives_up_retrying_after_max_attempts(db: Database) -> None:
    clock = Clock()
    store = SqliteInboundStore(db, clock=clock)
    await _add(store, "Offer")
    dispatcher = _raising(Offer=RetryableError("still down"))
    processor = InboxProcessor(store, dispatcher, max_attempts=3, clock=clock)
    for _ in range(3):
        assert await processor.run_once() == 1
        clock.now += 10_000
    row = await _state(db, 0)
    assert (row["state"], row["attempts"]) == ("failed", 3)
    assert row["error"] == "gave up after 3: still down"


async def test_run_forever_processes_what_the_inbox_stores(inbox_db_app: Any) -> None:
    db, _, processor, session, server = inbox_db_app
    stop = asyncio.Event()
    runner = asyncio.create_task(processor.run_forever(stop))
    for n in range(5):
        activity = follow(id=f"https://alice.example/a/{n}")
        body = orjson.dumps(activity)
        headers = sign_request("POST", f"{PUBLIC}/inbox", {"Content-Type": AP}, body, ALICE_KEY)
        async with session.post(server.make_url("/inbox"), data=body, headers=headers) as resp:
            assert resp.status == 202
    for _ in range(200):
        if (await counts(db))["done"] == 5:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(runner, 5)
    assert await counts(db) == {"pending": 0, "done": 5, "ignored": 0, "failed": 0}


@pytest.fixture
async def inbox_db_app(serve: StartServer, db: Database) -> AsyncIterator[Any]:
    # The app wires the receiver's on_stored to the processor's wake(), so nothing polls.
    store = SqliteInboundStore(db)
    dispatcher = Dispatcher()
    dispatcher.register("Follow", _noop)
    processor = InboxProcessor(store, dispatcher, poll_interval=60)
    receiver = InboxReceiver(store, lookup, base_url=PUBLIC, on_stored=processor.wake)
    app = web.Application()
    app.router.add_post("/inbox", receiver.handle)
    server = await serve(app)
    async with aiohttp.ClientSession() as session:
        yield db, store, processor, session, server


async def _noop(activity: dict[str, Any]) -> None:
    return None


def _raising(**errors: Exception) -> Dispatcher:
    """A dispatcher whose handler for each activity type raises the error given for it."""
    dispatcher = Dispatcher()
    for kind, error in errors.items():
        async def handle(activity: dict[str, Any], error: Exception = error) -> None:
            raise error

        dispatcher.register(kind, handle)
    return dispatcher


async def test_a_retry_asked_for_soon_waits_less_and_grows_fourfold(db: Database) -> None:
    # An activity that overtook the one it depends on asks to be tried again soon, not on
    # the delivery schedule's 15 s and more; each further wait is four times as long.
    clock = Clock()
    store = SqliteInboundStore(db, clock=clock)
    await _add(store, "Offer")
    dispatcher = _raising(Offer=RetryableError("its Accept has not arrived yet",
                                               retry_after=1.0))
    processor = InboxProcessor(store, dispatcher, max_attempts=5, clock=clock)
    waits = []
    for _ in range(3):
        start = clock.now
        assert await processor.run_once() == 1
        row = await db.fetchone("SELECT state, next_attempt_at FROM inbound")
        assert row["state"] == "pending"
        waits.append(row["next_attempt_at"] - start)
        clock.now = row["next_attempt_at"]
    assert waits == [1.0, 4.0, 16.0]


async def _done(db: Database) -> int:
    return (await counts(db))["done"]


async def _wait_until_done(db: Database, count: int, seconds: float) -> bool:
    for _ in range(int(seconds / 0.01)):
        if await _done(db) == count:
            return True
        await asyncio.sleep(0.01)
    return False


class _Arrivals:
    """Activities arriving every 10 ms, as the inbox tells the processor, until stopped."""

    def __init__(self, processor: InboxProcessor) -> None:
        self._task = asyncio.create_task(self._arrive(processor))

    @staticmethod
    async def _arrive(processor: InboxProcessor) -> None:
        while True:
            processor.arrived()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def _giving_way(db: Database, **options: Any) -> InboxProcessor:
    store = SqliteInboundStore(db)
    dispatcher = Dispatcher()
    dispatcher.register("Follow", _noop)
    await _add(store, "Follow", "Follow", "Follow")
    return InboxProcessor(store, dispatcher, poll_interval=60, **options)


@asynccontextmanager
async def _running(processor: InboxProcessor, *, arriving: bool) -> AsyncIterator[_Arrivals]:
    """The processor's run_forever, with activities arriving meanwhile if `arriving`."""
    arrivals = _Arrivals(processor)
    if not arriving:
        await arrivals.stop()
    stop = asyncio.Event()
    runner = asyncio.create_task(processor.run_forever(stop))
    try:
        yield arrivals
    finally:
        await arrivals.stop()
        stop.set()
        await asyncio.wait_for(runner, 5)


async def test_while_activities_keep_arriving_the_processor_waits_for_a_lull(
        db: Database) -> None:
    processor = await _giving_way(db, give_way=30)
    async with _running(processor, arriving=True) as arrivals:
        await asyncio.sleep(0.3)
        assert await _done(db) == 0  # receipt first: the stored activities wait
        await arrivals.stop()
        assert await _wait_until_done(db, 3, 5)  # a lull: they are processed


async def test_the_processor_gives_way_for_a_while_only(db: Database) -> None:
    processor = await _giving_way(db, give_way=0.3)
    async with _running(processor, arriving=True):
        await asyncio.sleep(0.1)
        assert await _done(db) == 0
        assert await _wait_until_done(db, 3, 5)  # still arriving, but it waited long enough


async def test_a_processor_that_lags_too_long_stops_giving_way(db: Database) -> None:
    # Rows waiting since before a burst (a restart, say) count as lag too: after max_lag
    # without an empty queue the processor takes its full share again.
    processor = await _giving_way(db, give_way=30, max_lag=0.3)
    async with _running(processor, arriving=True):
        assert await _wait_until_done(db, 3, 5)


async def test_with_nothing_arriving_the_processor_does_not_wait(db: Database) -> None:
    processor = await _giving_way(db, give_way=30)
    async with _running(processor, arriving=False):
        processor.wake()
        assert await _wait_until_done(db, 3, 1)
