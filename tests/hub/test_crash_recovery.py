"""SIGKILL in the middle of a fan-out: a real `commonhub serve` process on a real SQLite home.

The hub delivers one post to 200 loopback inboxes (ten receiver servers in this process, twenty
inboxes each). The receivers answer the first 60 deliveries and then hold every further one
unanswered, so the kill lands while deliveries are in flight, at a point the test controls
rather than one a timer guesses. The process is killed with SIGKILL, restarted, and left to
finish.

What is guaranteed, and asserted: every inbox gets the activity, and no inbox whose success
the hub had recorded gets it again. What is not, and cannot be: a delivery the receiver has
taken but whose success the hub had not yet committed when it died (here, the held ones) is
sent again after the restart. No sender can close that window (the receiver's answer and the
sender's commit are two machines' events); receivers cover it by deduplicating on the
activity id, as ActivityPub servers do, and the recording receiver here does the same.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
import pytest
from aiohttp import web

from hub.settings import Settings
from hub.setup import init_hub
from hub.store.actors import RemoteActor, upsert_actor
from hub.store.db import Database
from hub.store.follows import add_follower
from tests.support.hubs import free_socket

ENV = {k: v for k, v in os.environ.items() if not k.startswith("COMMONHUB_")}
SERVERS, INBOXES_PER_SERVER = 10, 20
ANSWERED_BEFORE_HOLD = 60


class RecordingReceivers:
    """Ten inbox servers that record each delivery by inbox and activity id.

    While `holding`, a delivery is read (so it counts as received) and then left unanswered.
    """

    def __init__(self) -> None:
        self.received: dict[str, list[str]] = defaultdict(list)  # inbox -> activity ids
        self.answered = 0
        self.held = 0
        self.waiting = 0  # handlers holding a delivery right now
        self.release = asyncio.Event()
        self.urls: list[str] = []
        self._runners: list[web.AppRunner] = []

    async def _inbox(self, request: web.Request) -> web.Response:
        activity = orjson.loads(await request.read())
        inbox = f"http://{request.host}{request.path}"
        self.received[inbox].append(activity["id"])
        if self.answered >= ANSWERED_BEFORE_HOLD and not self.release.is_set():
            self.held += 1
            self.waiting += 1
            try:
                await self.release.wait()  # the hub dies before this returns
            finally:
                self.waiting -= 1
        self.answered += 1
        return web.Response(status=202)

    async def start(self) -> None:
        for _ in range(SERVERS):
            app = web.Application()
            app.router.add_post("/inbox/{n}", self._inbox)
            runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
            await runner.setup()
            sock = free_socket()
            await web.SockSite(runner, sock).start()
            port = sock.getsockname()[1]
            self.urls += [f"http://127.0.0.1:{port}/inbox/{n}" for n in range(INBOXES_PER_SERVER)]
            self._runners.append(runner)

    def unread(self) -> int:
        """Connections still open to the receivers with no held delivery on them: the dead
        hub's close once the receivers have read what it sent."""
        open_ = sum(len(runner.server.connections) for runner in self._runners
                    if runner.server is not None)
        return open_ - self.waiting

    async def stop(self) -> None:
        self.release.set()
        for runner in self._runners:
            await runner.cleanup()


@pytest.fixture
async def receivers() -> AsyncIterator[RecordingReceivers]:
    found = RecordingReceivers()
    await found.start()
    yield found
    await found.stop()


async def _hub_with_followers(home: Path, inboxes: list[str]) -> Settings:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = await init_hub(home, domain=f"127.0.0.1:{port}", name="hub", dev=True,
                              port=port)
    db = await Database.open(settings.database_path)
    try:
        for n, inbox in enumerate(inboxes):
            actor_id = inbox.replace("/inbox/", "/users/")
            await upsert_actor(db, RemoteActor(
                id=actor_id, type="Person", preferred_username=f"u{n}", name=None,
                domain="127.0.0.1", inbox=inbox, shared_inbox=None, key_id=None,
                public_key_pem=None, document={}, fetched_at=0, deleted_at=None))
            await add_follower(db, actor_id, f"{actor_id}#follow", accepted=True)
    finally:
        await db.close()
    return settings


def _commonhub(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args, "--home", str(home)],
                          capture_output=True, text=True, env=ENV, timeout=60,
                          stdin=subprocess.DEVNULL, check=True)


def _serve(home: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "hub", "serve", "--home", str(home)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=ENV)


def _states(path: Path) -> dict[str, str]:
    """Each delivery's state by inbox, read beside the running hub (WAL allows it)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT inbox, state FROM deliveries").fetchall())


def _tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def _until(check: Callable[[], bool], what: str, process: subprocess.Popen[bytes],
                 log: Path, within: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if process.poll() is not None:
            raise AssertionError(f"the hub exited ({process.returncode}):\n{_tail(log)}")
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{_tail(log)}")
        await asyncio.sleep(0.05)


async def test_sigkill_mid_fanout_loses_nothing_and_resends_no_recorded_success(
        tmp_path: Path, receivers: RecordingReceivers) -> None:
    # Given a hub home whose 200 followers each have their own inbox, and a post queued to all
    home = tmp_path / "hub"
    settings = await _hub_with_followers(home, receivers.urls)
    assert "Queued for 200 inbox(es)" in _commonhub("post", "Hello, neighbours", home=home).stdout
    log = tmp_path / "serve.log"

    # When the hub has delivered 60, recorded their successes and holds more in flight
    process = _serve(home, log)
    try:
        def recorded_and_in_flight() -> bool:
            done = sum(s == "done" for s in _states(settings.database_path).values())
            return done >= ANSWERED_BEFORE_HOLD and receivers.held > 0

        await _until(recorded_and_in_flight, "60 recorded successes", process, log)
    finally:
        # ... it is killed outright: no shutdown handler runs, nothing is flushed
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    # What the hub sent before it died may still sit in the receivers' sockets: let them read
    # it all (its connections then close) before looking at what they took.
    for _ in range(600):
        if receivers.unread() <= 0:
            break
        await asyncio.sleep(0.05)
    states = _states(settings.database_path)
    recorded = {inbox for inbox, state in states.items() if state == "done"}
    assert ANSWERED_BEFORE_HOLD <= len(recorded) < len(receivers.urls)
    taken_unrecorded = {inbox for inbox in receivers.received if inbox not in recorded}
    assert taken_unrecorded  # the window the receivers' dedupe covers: held when it died
    counts_at_kill = {inbox: len(ids) for inbox, ids in receivers.received.items()}

    # And it is restarted, with the receivers answering again
    receivers.release.set()
    process = _serve(home, log)
    try:
        def all_done() -> bool:
            found = _states(settings.database_path).values()
            return all(state == "done" for state in found)

        await _until(all_done, "every delivery to succeed", process, log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    # Then every inbox has the activity...
    assert set(receivers.received) == set(receivers.urls)
    [activity_id] = {i for ids in receivers.received.values() for i in ids}
    # ...no inbox whose success was recorded got it again...
    for inbox in recorded:
        assert receivers.received[inbox] == [activity_id], inbox
        assert counts_at_kill[inbox] == 1
    # ...and a repeat happened only where the hub died before recording the success, which
    # deduplicating by activity id turns into one activity per inbox
    repeated = {inbox for inbox, ids in receivers.received.items() if len(ids) > 1}
    assert not repeated & recorded
    assert repeated <= set(receivers.urls) - recorded
    assert all(len(set(ids)) == 1 for ids in receivers.received.values())
    with sqlite3.connect(settings.database_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
