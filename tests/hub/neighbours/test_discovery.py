"""Ten hubs on a map with one seed pair with exactly their neighbours, and needs reach them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest

from federation.keys import SigningKey, generate_rsa_key
from federation.signatures import sign_request
from hub.settings import Settings
from hub.store import needs as need_store
from hub.store import neighbours as neighbour_store
from hub.store.db import Database
from hub.store.deliveries import delivery_stats
from tests.hub.neighbours.helpers import (
    Blackhole,
    Recorder,
    Spot,
    accepted_following,
    expected_following,
    place,
    start_placed,
)
from tests.support.hubs import RunningHub, wait_until

# x, y in km; every hub reaches 5 km around itself and its area is 2 km wide, so two hubs
# pair when their centres are at most 7 km apart (hub 8 is alone, far east).
MAP = [(0, 0), (5, 0), (10, 0), (15, 0), (0, 6), (5, 6), (20, 3), (10, 6), (30, 0), (-5, -3)]
FAST = {"discovery_interval": 0.5, "discovery_rate": 500.0}


@pytest.fixture
async def blackhole() -> AsyncIterator[Blackhole]:
    server = Blackhole()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    server = Recorder()
    await server.start()
    yield server
    await server.stop()


def blocking(authority: str):
    async def prepare(settings: Settings) -> None:
        db = await Database.open(settings.database_path)
        try:
            await neighbour_store.set_policy(db, authority, "block")
        finally:
            await db.close()
    return prepare


async def test_ten_hubs_pair_with_exactly_their_neighbours(
        tmp_path: Path, blackhole: Blackhole, recorder: Recorder) -> None:
    # Given ten hubs on a map; every one but the first is seeded with the first, with a
    # seed that never answers, and with a hub on a domain every one of them blocks,
    spots = [Spot(place(x, y)) for x, y in MAP]
    started: list[RunningHub] = []
    try:
        seed = await start_placed(tmp_path, "hub0", spots[0], blocking(recorder.authority),
                                  **FAST)
        started.append(seed)
        seeds = ",".join([f"{seed.base_url}/", blackhole.url, recorder.url])
        for i, spot in enumerate(spots[1:], start=1):
            started.append(await start_placed(
                tmp_path, f"hub{i}", spot, blocking(recorder.authority),
                neighbour_seeds=seeds, manually_approves_followers=(i == 1), **FAST))
        ids = [h.actor_url for h in started]

        # when they have walked, each follows exactly the hubs within its reach (hub 1
        # approves follows by hand, but a recognised hub's is accepted at once),
        async def converged() -> bool:
            for i, running in enumerate(started):
                want = {ids[j] for j in expected_following(spots, i)}
                if await accepted_following(running) != want:
                    return False
            return True

        await wait_until(converged, within=60, what="every hub to pair with its neighbours")
        # while the silent seed still holds its connections open: it delayed no one;
        assert blackhole.connections >= 1 and blackhole.open >= 1
        # and the blocked hub received no request at all, and its activities are refused.
        assert recorder.requests == []
        status = await _post_from(recorder, started[0])
        assert status == 403 and recorder.requests == []
        assert expected_following(spots, 8) == set()
        assert await accepted_following(started[8]) == set()

        # When hub 1 posts a need, it reaches the hubs that pair with it, and no other.
        status, need = await started[1].api("POST", "/api/v1/needs", NEED)
        assert status == 201, need
        reached = {i for i in range(len(spots)) if 1 in expected_following(spots, i)}
        assert reached == {0, 2, 5}

        async def holders() -> set[int]:
            return {i for i, running in enumerate(started)
                    if await need_store.get_remote_need(running.hub.db, need["url"])}

        await wait_until(lambda: _has(holders, reached), what="the need at the neighbours")
        await wait_until(lambda: _all_sent(started[1]), what="hub 1's deliveries")
        assert await holders() == reached
    finally:
        for running in reversed(started):
            await running.stop()


NEED = {"kind": "one_off", "title": "Lift to the clinic", "on_date": "2031-03-04",
        "start_time": "10:00", "end_time": "11:00", "district": "SW9"}


async def _has(holders, wanted: set[int]) -> bool:
    return wanted <= await holders()


async def _all_sent(running: RunningHub) -> bool:
    stats = await delivery_stats(running.hub.db)
    return stats["pending"] == 0 and stats["done"] > 0


async def _post_from(recorder: Recorder, running: RunningHub) -> int:
    actor = f"{recorder.url}users/x"
    key = SigningKey(f"{actor}#main-key", generate_rsa_key())
    body = orjson.dumps({"@context": "https://www.w3.org/ns/activitystreams",
                         "id": f"{recorder.url}activities/1", "type": "Follow",
                         "actor": actor, "object": running.actor_url})
    headers = sign_request("POST", running.hub.urls.inbox,
                           {"Content-Type": "application/activity+json"}, body, key)
    async with aiohttp.ClientSession() as session, session.post(
            running.hub.urls.inbox, data=body, headers=headers) as response:
        return response.status
