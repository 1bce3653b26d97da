"""Staff add, pause, relay, unpair and block neighbours from the console and the CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hub.cli import main
from hub.store import follows as follow_store
from hub.store import neighbours as neighbour_store
from hub.store import outbox as outbox_store
from hub.store import staff as staff_store
from tests.hub.console.conftest import PASSWORD, Browser
from tests.hub.neighbours.helpers import Spot, accepted_following, place, start_placed
from tests.support.hubs import RunningHub, wait_until

SLOW = {"discovery_interval": 3600.0}  # no walk of their own: staff drive it here


async def _pair(tmp_path: Path) -> tuple[RunningHub, RunningHub]:
    a = await start_placed(tmp_path, "alder", Spot(place(0, 0)), **SLOW)
    b = await start_placed(tmp_path, "birch", Spot(place(3, 0)), **SLOW)
    return a, b


async def test_the_console_adds_relays_pauses_and_blocks(tmp_path: Path) -> None:
    a, b = await _pair(tmp_path)
    browser = Browser(a)
    try:
        await staff_store.add_staff(a.hub.db, "alice", PASSWORD, "coordinator")
        await staff_store.add_staff(a.hub.db, "bob", PASSWORD, "helper")
        assert (await browser.login("alice")).status == 303
        # Staff add a neighbour by its address: it is visited, recognised and followed,
        page = await browser.submit("/console/neighbours/added", {"target": f"{b.base_url}/"})
        assert page.status == 303 and page.location == "/console/neighbours?done=added"
        await wait_until(lambda: _follows(a, b), what="alder to follow birch")
        page = await browser.get("/console/neighbours")
        assert "Birch hub" in page.text and "3.0 km" in page.text
        assert "paired; our follow accepted" in page.text and "last success 20" in page.text
        # choose to relay its events, then pause it (the follow ends),
        await browser.submit("/console/neighbours/announce", {"target": b.actor_url})
        assert (await neighbour_store.get(a.hub.db, b.actor_url)).announce_events
        await browser.submit("/console/neighbours/paused", {"target": b.actor_url})
        assert await accepted_following(a) == set()
        assert (await neighbour_store.get(a.hub.db, b.actor_url)).state == "paused"
        # an unknown hub is a clear error,
        page = await browser.submit("/console/neighbours/paused",
                                    {"target": "https://nowhere.example/x"})
        assert page.status == 404 and "no known hub" in page.text
        # and a coordinator blocks its domain: forgotten, listed, and never contacted.
        authority = b.base_url.removeprefix("http://")
        page = await browser.submit("/console/neighbours/blocked", {"target": authority})
        assert page.status == 303
        page = await browser.get("/console/neighbours")
        assert f"Blocked: {authority}" in page.text and "Birch hub" not in page.text
        page = await browser.submit("/console/neighbours/added", {"target": f"{b.base_url}/"})
        assert page.status == 400 and "is blocked" in page.text
        # A helper may not block.
        helper = Browser(a)
        try:
            assert (await helper.login("bob")).status == 303
            page = await helper.submit("/console/neighbours/blocked", {"target": "x.example"})
            assert page.status == 403
        finally:
            await helper.close()
    finally:
        await browser.close()
        await b.stop()
        await a.stop()


async def _follows(a: RunningHub, b: RunningHub) -> bool:
    row = await follow_store.get_following(a.hub.db, b.actor_url)
    return row is not None and row["state"] == "accepted"


async def _cli(argv: list[str]) -> int:
    # The CLI runs its own event loop: in a thread, beside the hubs' loop.
    return await asyncio.to_thread(main, argv)


async def test_the_command_line_lists_and_blocks(tmp_path: Path, capsys) -> None:
    a, b = await _pair(tmp_path)
    home = str(a.settings.home)
    try:
        assert await _cli(["neighbours", "add", f"{b.base_url}/", "--home", home]) == 0
        assert "paired, 3.0 km away" in capsys.readouterr().out
        assert await _cli(["neighbours", "list", "--home", home]) == 0
        out = capsys.readouterr().out
        assert b.actor_url in out and "paired" in out and "last success" in out
        assert await _cli(["neighbours", "pause", "https://nowhere.example/x", "--home", home]) == 1
        assert "no known hub" in capsys.readouterr().err
        authority = b.base_url.removeprefix("http://")
        assert await _cli(["neighbours", "block", authority, "--home", home]) == 0
        assert await _cli(["neighbours", "list", "--home", home]) == 0
        out = capsys.readouterr().out
        assert f"blocked\t{authority}" in out and b.actor_url not in out
        assert await _cli(["neighbours", "add", f"{b.base_url}/", "--home", home]) == 1
        assert "is blocked" in capsys.readouterr().err
    finally:
        await b.stop()
        await a.stop()


async def test_a_neighbours_events_are_announced_when_staff_choose(tmp_path: Path) -> None:
    a, b = await _pair(tmp_path)
    try:
        assert await _cli(["neighbours", "add", f"{b.base_url}/", "--home",
                           str(a.settings.home)]) == 0
        await wait_until(lambda: _follows(a, b), what="alder to follow birch")
        assert await _cli(["neighbours", "announce", b.actor_url, "--home",
                           str(a.settings.home)]) == 0
        status, event = await b.api("POST", "/api/v1/events", {
            "title": "Seed swap", "timezone": "Europe/London", "start": "2031-04-05T10:00",
            "end": "2031-04-05T12:00"})
        assert status == 201, event

        async def announced() -> list[dict]:
            items = await outbox_store.list_public(a.hub.db, limit=50)
            return [i for i in items if i["type"] == "Announce"]

        [announce] = await wait_until(announced, what="alder's Announce of birch's event")
        assert announce["object"] == event["url"] and announce["actor"] == a.actor_url
    finally:
        await b.stop()
        await a.stop()
