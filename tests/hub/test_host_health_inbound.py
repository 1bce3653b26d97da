"""A verified delivery from a host the hub had marked failing clears its record."""

from __future__ import annotations

from pathlib import Path

from federation.delivery import host_of
from hub.setup import init_hub
from hub.store.db import Database
from hub.store.hosts import SqliteHostHealth, host_row
from tests.support.hubs import RunningHub, free_socket, start_hub, wait_until
from tests.support.remote import RemoteServer


async def _hub_that_failed_to_reach(home: Path, host: str) -> RunningHub:
    """A hub whose deliveries to `host` failed on a day, as its delivery worker records."""
    sock = free_socket()
    settings = await init_hub(home, domain=f"127.0.0.1:{sock.getsockname()[1]}", name="hub",
                              dev=True)
    db = await Database.open(settings.database_path)
    try:
        await SqliteHostHealth(db).record_failure(host)
    finally:
        await db.close()
    return await start_hub(home, settings=settings, sock=sock)


async def test_a_verified_activity_from_a_failing_host_clears_its_failures(
        tmp_path: Path, remote: RemoteServer) -> None:
    host = host_of(remote.base_url)
    running = await _hub_that_failed_to_reach(tmp_path / "hub", host)
    try:
        assert (await host_row(running.hub.db, host))["failure_days"] != "[]"
        # When that host delivers a signed activity
        alice = remote.actor("alice")
        note = {"id": f"{alice.id}/notes/1", "type": "Note", "attributedTo": alice.id}
        status, _ = await alice.post(running.hub.urls.inbox, alice.activity("Create", note))
        assert status == 202

        # Then it counts as alive again
        async def cleared() -> bool:
            row = await host_row(running.hub.db, host)
            return row is not None and row["failure_days"] == "[]"

        await wait_until(cleared, what="the host's failures to be cleared")
    finally:
        await running.stop()


async def test_a_refused_request_naming_a_failing_host_clears_nothing(
        tmp_path: Path, remote: RemoteServer) -> None:
    host = host_of(remote.base_url)
    running = await _hub_that_failed_to_reach(tmp_path / "hub", host)
    try:
        alice, bob = remote.actor("alice"), remote.actor("bob")
        note = {"id": f"{alice.id}/notes/1", "type": "Note", "attributedTo": alice.id}
        status, _ = await bob.post(running.hub.urls.inbox, alice.activity("Create", note))
        assert status == 401
        # A later verified activity from another host proves nothing about this one either.
        assert (await host_row(running.hub.db, host))["failure_days"] != "[]"
    finally:
        await running.stop()
